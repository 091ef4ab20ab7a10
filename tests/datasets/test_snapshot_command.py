"""`manage.py snapshot`: the same snapshot as the export page's for the same choices, its folder
as the last line of stdout, and clear errors for bad input."""

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotator.datasets.models import Snapshot
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from tests.factories import UserFactory

from .helpers import annotate, article


def article_of(project, n):
    return article(project, f"Lavrov spoke to envoy {n} about grain deal number {n * 3}.", language="en")

from .test_worker import database_backend, database_url  # noqa: F401 (a fixture)

# The command commits as it would in production, so that the enqueue happens while it runs.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> tuple[str, str]:
    """The command's stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("snapshot", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def files_of(snapshot) -> dict[str, str]:
    return dict(snapshot.files.values_list("name", "sha256"))


def page_snapshot(client, project, user, **data) -> Snapshot:
    client.force_login(user)
    response = client.post(reverse("dataset_list", args=[project.id]), data)
    assert response.status_code == 302
    snapshot = Snapshot.objects.latest("created_at")
    assert snapshot.status == "ready", snapshot.error
    return snapshot


@pytest.fixture
def second_analyst(project):
    user = UserFactory(username="zed")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return user


class TestSameAsThePage:
    def test_gold_every_format_gives_the_same_files(self, client, project, admin_user, gold_corpus):
        formats = ["jsonl", "csv", "spacy", "conll", "parquet", "label-studio"]
        page = page_snapshot(
            client, project, admin_user,
            scope="gold", formats=formats, train="70", validation="15", test="15", seed="99", near_duplicate_threshold="0.8",
        )
        out, err = run(
            project.id, "--scope", "gold", "--formats", "jsonl,spacy,conll,parquet,csv,label-studio",
            "--seed", 99, "--train", 70, "--validation", 15, "--test", 15,
        )
        made = Snapshot.objects.exclude(pk=page.pk).get()
        assert made.status == "ready" and made.created_by == admin_user
        assert made.parameters == page.parameters
        assert len(files_of(page)) >= 10 and files_of(made) == files_of(page)
        folder = Path(out.splitlines()[-1])
        assert folder.is_dir() and folder.name == str(made.id)
        # Files may be in folders (the shipped tokenizer, a large split's spaCy shards).
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(files_of(made))
        assert f"Snapshot {made.id}" in err and "README.md" in err and "Ready: 15 articles" in err

    def test_one_analyst_with_filters_gives_the_same_files(self, client, project, admin_user, analyst, second_analyst, gold_corpus):
        english, arabic = gold_corpus["english"], gold_corpus["arabic"]
        # The analysts' work is made before the review (a reviewed article is read-only for them).
        golds = Annotation.objects.filter(kind="gold", article__in=[english, arabic], status="submitted")
        reviewed = list(golds.values_list("pk", flat=True))
        golds.update(status="in_progress")
        annotate(english, analyst, [("Source", "Lavrov")], topics=["Armenia"])
        annotate(arabic, analyst, [("Source", "سيرغي لافروف")], topics=["Syria"])
        annotate(english, second_analyst, [("Source", "Lavrov")], topics=["Armenia"])
        Annotation.objects.filter(pk__in=reviewed).update(status="submitted")
        page = page_snapshot(
            client, project, admin_user,
            scope="analyst", analyst=str(analyst.id), formats=["jsonl", "csv"], topics=["Armenia"],
            train="80", validation="10", test="10", seed="13", near_duplicate_threshold="0.8",
        )
        out, _ = run(
            project.id, "--scope", "analyst:analyst", "--formats", "csv,jsonl", "--topic", "Armenia"
        )
        made = Snapshot.objects.exclude(pk=page.pk).get()
        assert made.parameters == page.parameters and made.parameters["analyst_username"] == "analyst"
        assert made.counts["articles"] == 1
        assert files_of(made) == files_of(page)
        assert out.splitlines()[-1].endswith(f"/{project.id}/{made.id}")

    def test_with_a_database_worker_here_builds_it_in_this_process(self, database_backend, project, admin_user, gold_corpus):  # noqa: F811
        from django_tasks_db.models import DBTaskResult

        out, err = run(project.id, "--scope", "gold", "--formats", "jsonl", "--here")
        made = Snapshot.objects.get()
        assert made.status == "ready" and "Building it in this process." in err
        assert out.splitlines()[-1].endswith(str(made.id))
        # Enqueued all the same, as the page does: a worker running it later finds it taken.
        [queued] = DBTaskResult.objects.all()
        assert queued.args_kwargs["args"] == [str(made.id)]
        from annotator.datasets.services import snapshot_build

        assert snapshot_build.call(str(made.id)) == "skipped"

    def test_with_a_database_worker_here_a_snapshot_of_several_shards_waits_for_the_workers(
        self, database_backend, project, admin_user, gold_corpus, settings  # noqa: F811
    ):
        settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
        err = io.StringIO()
        with pytest.raises(CommandError, match=r"No worker finished snapshot .* within 0.3 s; it is running"):
            call_command("snapshot", str(project.id), "--scope", "gold", "--formats", "jsonl", "--here",
                         "--wait-timeout", "0.3", stdout=io.StringIO(), stderr=err)
        # Selected and split here; its shards wait for the workers, which the command says (not "--here builds it").
        assert "Building it in this process." in err.getvalue()
        assert "Its shards are written by the workers" in err.getvalue() and "--here builds it" not in err.getvalue()
        assert Snapshot.objects.get().shards.count() == 8

    def test_with_a_database_worker_it_waits_for_the_worker(self, database_backend, project, admin_user, snapshot_root):  # noqa: F811
        for n in range(4):
            annotate(article_of(project, n), admin_user, [("Source", "Lavrov")], gold=True)
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "tests.datasets.worker_settings", "DATABASE_URL": database_url(),
            "ANNOTATOR_SNAPSHOT_ROOT": str(snapshot_root), "CONN_MAX_AGE": "0",
        }
        worker = None

        def start_worker_once_queued():
            # The worker starts only once the command has asked for the snapshot and is waiting.
            nonlocal worker
            while not waiting.is_set():
                waiting.wait(0.1)
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
                cwd=django_settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )

        class Err(io.StringIO):
            def write(self, text):
                if text.startswith("Waiting for a worker"):
                    waiting.set()
                return super().write(text)

        waiting = threading.Event()
        starter = threading.Thread(target=start_worker_once_queued)
        starter.start()
        out, err = io.StringIO(), Err()
        try:
            call_command("snapshot", str(project.id), "--scope", "gold", "--formats", "jsonl,csv", "--wait-timeout", "120",
                         stdout=out, stderr=err)
        finally:
            waiting.set()
            starter.join()
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=20)
        made = Snapshot.objects.get()
        assert made.status == "ready" and made.counts["articles"] == 4
        assert "Waiting for a worker" in err.getvalue() and "Building it in this process." not in err.getvalue()
        assert out.getvalue().splitlines()[-1] == str(Path(snapshot_root) / str(project.id) / str(made.id))

    def test_without_a_worker_waiting_gives_up_after_the_timeout(self, database_backend, project, admin_user):  # noqa: F811
        annotate(article_of(project, 1), admin_user, [("Source", "Lavrov")], gold=True)
        with pytest.raises(CommandError, match=r"No worker finished snapshot .* within 0.3 s; it is queued"):
            run(project.id, "--scope", "gold", "--formats", "jsonl", "--wait-timeout", "0.3")
        assert Snapshot.objects.get().status == "queued"

    def test_a_failed_build_exits_with_its_error(self, project, admin_user, gold_corpus, monkeypatch):
        from annotator.datasets import build

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(build, "_write", broken)
        with pytest.raises(CommandError, match="failed: RuntimeError: disk full"):
            run(project.id, "--scope", "gold", "--formats", "jsonl")
        assert Snapshot.objects.get().status == "failed"


class TestBadInput:
    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--scope", "gold", "--formats", "jsonl"], "There is no project with id 999999."),
            (["--scope", "everyone", "--formats", "jsonl"], "Unknown scope “everyone”"),
            (["--scope", "analyst", "--formats", "jsonl"], "Unknown scope “analyst”"),
            (["--scope", "gold:ana", "--formats", "jsonl"], "Unknown scope “gold:ana”"),
            (["--scope", "analyst:nobody", "--formats", "jsonl"], "“nobody” is not an analyst of project"),
            (["--scope", "analyst:projectadmin", "--formats", "jsonl"], "“projectadmin” is not an analyst of project"),
            (["--scope", "gold", "--formats", "jsonl,xlsx"], "Unknown format xlsx: choose from jsonl, csv, spacy, conll, parquet, label-studio."),
            (["--scope", "gold", "--formats", ","], "Unknown format (none given)"),
            (["--scope", "gold", "--formats", "jsonl", "--train", "90"], "The split percentages must add up to 100 (they add up to 110)."),
            (["--scope", "gold", "--formats", "jsonl", "--seed", "-1"], "seed: Ensure this value is greater than or equal to 0."),
            (["--scope", "gold", "--formats", "jsonl", "--topic", "Cooking"], "topics: Select a valid choice. Cooking is not one of the available choices."),
            (["--scope", "gold", "--formats", "jsonl", "--published-from", "yesterday"], "published_from: Enter a valid date."),
            (["--scope", "gold", "--formats", "jsonl", "--user", "ghost"], "There is no user called “ghost”."),
        ],
    )
    def test_is_refused_with_the_reason_and_nothing_made(self, project, arguments, message):
        project_id = 999999 if message.startswith("There is no project") else project.id
        with pytest.raises(CommandError) as raised:
            run(project_id, *arguments)
        assert message in str(raised.value)
        assert not Snapshot.objects.exists()

    def test_a_project_without_an_admin_needs_user(self, project, admin_user):
        project.memberships.filter(role=Membership.Role.ADMIN).delete()
        with pytest.raises(CommandError, match="has no admin: say who makes the snapshot with --user"):
            run(project.id, "--scope", "gold", "--formats", "jsonl")
        out, _ = run(project.id, "--scope", "gold", "--formats", "jsonl", "--user", "projectadmin")
        assert Snapshot.objects.get().created_by == admin_user

    def test_missing_required_options_exit_non_zero(self, project):
        with pytest.raises(CommandError, match="--scope"):
            call_command("snapshot", str(project.id), "--formats", "jsonl")
