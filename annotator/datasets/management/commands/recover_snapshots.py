"""`manage.py recover_snapshots [--stale-after SECONDS] [--no-wait]`

`manage.py run_worker` runs it as it starts and while idle; this command is for a worker started
otherwise (`db_worker`), and for the quick start, which fails at once (`--stale-after 0
--no-wait`) the snapshots whose worker stopped with the last `make run`.

Snapshots left `running` or `queued` by a worker that stopped (killed, out of memory, host lost)
are marked failed with "the worker stopped while building this snapshot; make it again", which
the datasets page shows, and their partial files are removed (see `annotator.datasets.recovery`);
a shard of a large snapshot left running that way is queued again, for a worker to write.
Import jobs left the same way are failed too ("the worker stopped while importing these files"),
which their page shows, and their uploaded files are removed (see `annotator.corpus.jobs`); and
model training runs ("the worker stopped while training this model"; `annotator.training.tasks`).
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from annotator.corpus.jobs import import_jobs_recover
from annotator.datasets.recovery import snapshots_recover
from annotator.heartbeat import default_stale_after
from annotator.training.tasks import models_recover


class Command(BaseCommand):
    help = "Fail the dataset snapshots, import jobs and model trainings whose worker stopped, and remove their files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-after", type=float, metavar="SECONDS",
            help="a build without a heartbeat for this long has no worker "
                 f"(default: ANNOTATOR_SNAPSHOT_STALE_SECONDS, {default_stale_after().total_seconds():g})",
        )
        parser.add_argument(
            "--no-wait", dest="wait", action="store_false",
            help="do not wait for the heartbeats of running snapshots to go stale or move on first",
        )

    def handle(self, *args, stale_after, wait, verbosity, **options):
        if stale_after is not None and stale_after < 0:
            raise CommandError("--stale-after must be zero or more seconds.")
        stale_after = None if stale_after is None else timedelta(seconds=stale_after)
        recovered = snapshots_recover(stale_after=stale_after, wait=wait)
        imports = import_jobs_recover(stale_after=stale_after, wait=wait)
        models = models_recover(stale_after=stale_after, wait=wait)
        if verbosity:
            for snapshot in recovered:
                self.stdout.write(f"Snapshot {snapshot.pk} of project {snapshot.project_id}: failed, {snapshot.error}.")
            self.stdout.write(f"{len(recovered)} snapshot{'s' if len(recovered) != 1 else ''} recovered.")
            for job in imports:
                self.stdout.write(f"Import {job.pk} into project {job.project_id}: failed, {job.error}.")
            self.stdout.write(f"{len(imports)} import{'s' if len(imports) != 1 else ''} recovered.")
            for version in models:
                self.stdout.write(f"Model {version.pk} of project {version.project_id}: failed, {version.error}.")
            self.stdout.write(f"{len(models)} model training{'s' if len(models) != 1 else ''} recovered.")
