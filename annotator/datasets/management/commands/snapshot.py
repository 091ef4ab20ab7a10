"""`manage.py snapshot PROJECT_ID --scope gold|analysts|agreed|analyst:NAME --formats jsonl,spacy,conll,parquet,csv,label-studio [--seed N] ...`

A dataset snapshot for pipelines, made exactly as the export page makes one: the same form
checks the choices (`SnapshotForm`, so the same defaults and the same errors), the same service
asks for it (`services.snapshot_create`) and the same task builds it (`services.snapshot_build`).
Progress goes to stderr; the snapshot's folder is the last line of stdout.

Who builds it:
- the immediate backend builds it at once, inside `snapshot_create`;
- with a database worker (`django_tasks_db`), the command waits for a worker to build it,
  showing its progress (`--wait-timeout` gives up, leaving it queued); with `--here` it builds it
  in this process instead (the queued task, when a worker gets to it, finds the snapshot taken
  and does nothing).
"""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotator.datasets import services
from annotator.datasets.forms import SnapshotForm
from annotator.datasets.formats import FORMATS
from annotator.datasets.models import Snapshot, snapshot_root
from annotator.datasets.records import Scope
from annotator.projects.models import Membership, Project

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Make a dataset snapshot of a project, as the export page does, and print its folder."

    def add_arguments(self, parser):
        initial = {name: field.initial for name, field in SnapshotForm.base_fields.items()}
        parser.add_argument("project_id", type=int)
        parser.add_argument(
            "--scope", required=True, metavar="SCOPE",
            help="gold, analysts, agreed, or analyst:USERNAME (one analyst's submitted annotations)",
        )
        parser.add_argument(
            "--formats", required=True, metavar="LIST", help=f"comma-separated, of: {', '.join(FORMATS)}"
        )
        parser.add_argument("--seed", type=int, default=initial["seed"], help=f"split seed (default {initial['seed']})")
        for split in ("train", "validation", "test"):
            parser.add_argument(f"--{split}", type=int, default=initial[split], metavar="PERCENT",
                                help=f"{split} share of the articles (default {initial[split]})")
        parser.add_argument("--near-duplicate-threshold", default=initial["near_duplicate_threshold"], metavar="JACCARD",
                            help=f"articles this similar stay in one split (default {initial['near_duplicate_threshold']})")
        parser.add_argument("--topic", action="append", default=[], metavar="NAME", dest="topics",
                            help="only articles given this topic (repeat for several: any of them)")
        parser.add_argument("--source", action="append", default=[], metavar="NAME", dest="sources",
                            help="only articles from this source (repeat for several)")
        parser.add_argument("--published-from", metavar="YYYY-MM-DD")
        parser.add_argument("--published-to", metavar="YYYY-MM-DD")
        parser.add_argument("--user", metavar="USERNAME",
                            help="who the snapshot is made by (default: the project's first admin)")
        parser.add_argument("--here", action="store_true",
                            help="with a database worker, build in this process instead of waiting for the worker "
                                 "(a snapshot of several shards: select and split here, its shards written by the workers)")
        parser.add_argument("--wait-timeout", type=float, metavar="SECONDS",
                            help="with a database worker, give up waiting after this long (the snapshot stays queued)")

    def handle(self, *args, project_id, scope, formats, user, here, wait_timeout, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project with id {project_id}.")
        maker = self._maker(project, user)
        form = SnapshotForm(self._form_data(project, scope, formats, options), project=project)
        if not form.is_valid():
            problems = [f"{'' if name == '__all__' else name + ': '}{' '.join(errors)}" for name, errors in form.errors.items()]
            raise CommandError("No snapshot was made:\n  " + "\n  ".join(problems))

        snapshot = services.snapshot_create(project=project, user=maker, parameters=form.parameters())
        self.stderr.write(f"Snapshot {snapshot.id} of “{project}” asked for by {maker.get_username()}.")
        snapshot.refresh_from_db()
        if not snapshot.finished and here:
            self.stderr.write("Building it in this process.")
            services.snapshot_build.call(str(snapshot.id))  # does nothing if a worker took it meanwhile
            snapshot.refresh_from_db()
        if not snapshot.finished:
            snapshot = self._wait(snapshot, wait_timeout, sharded=here)
        if snapshot.status == Snapshot.Status.FAILED:
            raise CommandError(f"Snapshot {snapshot.id} failed: {snapshot.error}")
        for file in snapshot.files.all():
            self.stderr.write(f"  {file.name} ({file.size} bytes)")
        self.stderr.write(f"Ready: {snapshot.counts['articles']} articles, {snapshot.counts['examples']} examples.")
        self.stdout.write(str(snapshot_root() / snapshot.directory))

    def _maker(self, project, username):
        if username:
            user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
            if user is None:
                raise CommandError(f"There is no user called “{username}”.")
            return user
        admin = project.memberships.filter(role=Membership.Role.ADMIN).select_related("user").order_by("id").first()
        if admin is None:
            raise CommandError(f"Project {project.id} has no admin: say who makes the snapshot with --user.")
        return admin.user

    def _form_data(self, project, scope, formats, options) -> dict:
        """What the export page would post for these choices."""
        data = {
            "seed": options["seed"], "train": options["train"], "validation": options["validation"],
            "test": options["test"], "near_duplicate_threshold": options["near_duplicate_threshold"],
            "topics": options["topics"], "sources": options["sources"],
            "published_from": options["published_from"] or "", "published_to": options["published_to"] or "",
        }
        name, _, analyst = scope.partition(":")
        if name not in Scope.values or name == Scope.ANALYST and not analyst or name != Scope.ANALYST and analyst:
            raise CommandError(f"Unknown scope “{scope}”: use gold, analysts, agreed or analyst:USERNAME.")
        data["scope"] = name
        if analyst:
            member = project.memberships.filter(
                role=Membership.Role.ANALYST, **{f"user__{get_user_model().USERNAME_FIELD}": analyst}
            ).first()
            if member is None:
                raise CommandError(f"“{analyst}” is not an analyst of project {project.id}.")
            data["analyst"] = member.user_id
        keys = [key.strip() for key in formats.split(",") if key.strip()]
        unknown = [key for key in keys if key not in FORMATS]
        if unknown or not keys:
            raise CommandError(f"Unknown format {', '.join(unknown) or '(none given)'}: choose from {', '.join(FORMATS)}.")
        data["formats"] = keys
        return data

    def _wait(self, snapshot, timeout, *, sharded=False):
        """Until a worker finished it: built it, or (`sharded`: selected and split here) wrote its shards."""
        if sharded:
            self.stderr.write("Its shards are written by the workers (manage.py run_worker): waiting for them.")
        else:
            self.stderr.write("Waiting for a worker to build it (manage.py run_worker); --here builds it in this process.")
        shown = None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            snapshot.refresh_from_db()
            if snapshot.finished:
                return snapshot
            if deadline is not None and time.monotonic() >= deadline:
                raise CommandError(
                    f"No worker finished snapshot {snapshot.id} within {timeout:g} s; it is {snapshot.status}, "
                    "and a worker will still build it (or delete it from the export page)."
                )
            now = (snapshot.status, snapshot.progress_done, snapshot.progress_total)
            if now != shown:
                self.stderr.write(f"  {snapshot.status}: {snapshot.percent}% ({snapshot.progress_done}/{snapshot.progress_total})")
                shown = now
            time.sleep(POLL_SECONDS)
