"""A task worker killed mid-build (issue 6, "nothing lost").

A real `run_worker` process builds a snapshot slowly (every record sleeps, see slow_worker.py);
the test kills it with SIGKILL in the middle of writing the files. The snapshot must not be
ready and list no file; `recover_snapshots` (which `run_worker` runs as it starts) fails it
visibly and removes its partial files; a new worker then builds a new snapshot to the end.
Runs on SQLite (one database file shared by the processes) and on PostgreSQL.
"""

import pytest
from django.urls import reverse

from annotator.datasets.models import Snapshot
from annotator.datasets.recovery import STOPPED
from tests.datasets.helpers import annotate, article

from . import processes
from .processes import current, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ARTICLES = 30
STEP_SECONDS = 0.2  # per record and pass: about 6 s a pass

SNAPSHOT_FORM = {
    "scope": "gold", "formats": ["jsonl", "csv"], "train": "60", "validation": "20", "test": "20",
    "seed": "5", "near_duplicate_threshold": "0.8",
}


def test_killed_worker_leaves_no_ready_snapshot_and_recovery_fails_it_visibly(
    client, tasks_database, env_for_test_database, project, admin_user, snapshot_root, tmp_path
):
    from django_tasks_db.models import DBTaskResult

    for n in range(ARTICLES):
        item = article(project, f"Lavrov spoke to envoy number {n} about the grain deal, clause {n * 7}.")
        annotate(item, admin_user, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
    env = env_for_test_database(ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5", CONN_MAX_AGE="0")
    client.force_login(admin_user)
    page_url = reverse("dataset_list", args=[project.id])
    assert client.post(page_url, SNAPSHOT_FORM).status_code == 302
    snapshot = Snapshot.objects.get()
    directory = snapshot_root / snapshot.directory

    with processes.worker(env, tmp_path / "worker.log", slow_step=STEP_SECONDS) as worker:
        wait_for(lambda: current(snapshot).status == "running" and snapshot.progress_done >= 2, "the build", worker)
        # A build that is alive is left alone: recovery sees its heartbeat move on.
        assert "0 snapshots recovered" in processes.manage(env, "recover_snapshots", "--stale-after", "3")
        assert current(snapshot).status == "running"

        # Kill it while it writes the files (the second pass).
        wait_for(
            lambda: current(snapshot).progress_done > ARTICLES + 1 and any(directory.glob(".*.part")),
            "the second pass", worker,
        )
        # Issue #17: a killed worker used to leave the build's helper processes running. A build
        # starts none, so SIGKILL leaves nothing behind.
        assert worker.children() == set()
        worker.kill()
    assert current(snapshot).status == "running", "the build ended before the worker was killed"
    assert any(directory.glob(".*.part")), "the killed build left its partial files (recovery removes them)"
    assert not snapshot.files.exists()
    page = client.get(page_url).content.decode()
    assert 'class="snapshot-files"' not in page
    assert reverse("snapshot_file", args=[project.id, snapshot.id, "train.jsonl"]) not in page
    [task] = DBTaskResult.objects.all()
    assert task.status == "RUNNING"  # nothing else will ever say it stopped

    # What the worker's start command runs first: it waits for the heartbeat to go stale.
    output = processes.manage(env, "recover_snapshots", "--stale-after", "2")
    assert "1 snapshot recovered" in output
    assert str(snapshot.id) in output
    snapshot = current(snapshot)
    assert (snapshot.status, snapshot.error) == ("failed", STOPPED)
    assert not directory.exists()
    assert not snapshot.files.exists()
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert STOPPED in task.traceback
    page = client.get(page_url).content.decode()
    assert f'id="snapshot-{snapshot.id}" class="panel snapshot" data-status="failed"' in page
    assert STOPPED in page
    assert 'class="snapshot-files"' not in page

    # Running it again changes nothing.
    assert "0 snapshots recovered" in processes.manage(env, "recover_snapshots", "--stale-after", "2")

    # A restarted worker builds a new snapshot to the end, and leaves the failed one alone.
    assert client.post(page_url, SNAPSHOT_FORM).status_code == 302
    new = Snapshot.objects.exclude(pk=snapshot.pk).get()
    with processes.worker(env, tmp_path / "worker-restarted.log") as worker:
        wait_for(lambda: current(new).finished, "the new build", worker, timeout=120)
    assert new.status == "ready", (new.error, worker.output())
    assert new.counts["articles"] == ARTICLES
    names = set(new.files.values_list("name", flat=True))
    assert {"README.md", "train.jsonl", "train.csv"} <= names
    for file in new.files.all():
        assert (snapshot_root / file.path).stat().st_size == file.size
    download = client.get(reverse("snapshot_file", args=[project.id, new.id, "train.jsonl"]))
    assert download.status_code == 200
    assert b"Lavrov" in b"".join(download.streaming_content)
    assert current(snapshot).status == "failed"
