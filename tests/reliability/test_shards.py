"""A snapshot's shard tasks run by real `run_worker` processes: two workers share one snapshot
and write the files one process writes; a worker killed mid-shard leaves the snapshot failed
visibly by recovery, and the shards still queued then do nothing."""

import time

import pytest
from django.urls import reverse

from annotator.datasets.models import Snapshot, SnapshotShard
from annotator.datasets.recovery import STOPPED
from tests.datasets.helpers import annotate, article

from . import processes
from .test_worker_crash import current, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ARTICLES = 12
SHARD_RECORDS = 2  # six shards

SNAPSHOT_FORM = {
    "scope": "gold", "formats": ["jsonl", "csv", "conll", "parquet", "label-studio", "spacy"],
    "train": "60", "validation": "20", "test": "20", "seed": "5", "near_duplicate_threshold": "0.8",
}


@pytest.fixture
def corpus(project, admin_user):
    for n in range(ARTICLES):
        item = article(project, f"Lavrov spoke to envoy number {n} about the grain deal, clause {n * 7}.", language="en")
        annotate(item, admin_user, [("Source", "Lavrov"), ("Claim", "the grain deal")], topics=["Armenia"], gold=True)


def files(snapshot, root) -> dict[str, bytes]:
    return {f.name: (root / f.path).read_bytes() for f in snapshot.files.all()}


def shard_tasks():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="annotator.datasets.services.snapshot_write_shard")


def test_two_workers_share_a_snapshot_and_write_what_one_process_writes(
    client, settings, tasks_database, env_for_test_database, project, admin_user, corpus, snapshot_root, tmp_path
):
    env = env_for_test_database(ANNOTATOR_SNAPSHOT_SHARD_RECORDS=SHARD_RECORDS, CONN_MAX_AGE="0")
    client.force_login(admin_user)
    assert client.post(reverse("dataset_list", args=[project.id]), SNAPSHOT_FORM).status_code == 302
    snapshot = Snapshot.objects.get()
    # Each record's step sleeps, so that a shard lasts long enough for the other worker to take the next.
    workers = [processes.worker(env, tmp_path / f"worker-{n}.log", slow_step=0.2) for n in range(2)]
    try:
        wait_for(lambda: current(snapshot).finished, "the snapshot", workers[0], timeout=180)
    finally:
        for worker in workers:
            worker.stop()
    assert snapshot.status == "ready", (snapshot.error, workers[0].output(), workers[1].output())
    tasks = list(shard_tasks())
    assert len(tasks) == ARTICLES // SHARD_RECORDS
    assert {task.status for task in tasks} == {"SUCCESSFUL"}
    assert len({task.worker_ids[0] for task in tasks}) == 2, "one worker wrote every shard"

    # The same snapshot written in this process, shard after shard.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = SHARD_RECORDS
    assert client.post(reverse("dataset_list", args=[project.id]), SNAPSHOT_FORM).status_code == 302
    here = Snapshot.objects.exclude(pk=snapshot.pk).get()
    assert here.status == "ready", here.error
    written = files(snapshot, snapshot_root)
    assert written == files(here, snapshot_root)
    assert {"train-00000.parquet", "train-00001.parquet", "train.jsonl", "label_studio.json"} <= set(written)
    assert snapshot.counts["articles"] == ARTICLES


def test_a_worker_killed_mid_shard_leaves_the_snapshot_failed_by_recovery(
    client, tasks_database, env_for_test_database, project, admin_user, corpus, snapshot_root, tmp_path
):
    env = env_for_test_database(
        ANNOTATOR_SNAPSHOT_SHARD_RECORDS=SHARD_RECORDS, ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5", CONN_MAX_AGE="0"
    )
    client.force_login(admin_user)
    assert client.post(reverse("dataset_list", args=[project.id]), SNAPSHOT_FORM).status_code == 302
    snapshot = Snapshot.objects.get()
    directory = snapshot_root / snapshot.directory

    worker = processes.worker(env, tmp_path / "worker.log", slow_step=0.5)
    try:
        # Kill it while it writes a shard, one shard at least being done.
        wait_for(
            lambda: SnapshotShard.objects.exclude(folder="").exists() and any(directory.glob(".shard-*/.*.part")),
            "a shard being written after another", worker, timeout=120,
        )
        worker.kill()
    finally:
        worker.stop()
    assert current(snapshot).status == "running"
    assert not snapshot.files.exists()
    assert shard_tasks().filter(status="RUNNING").count() == 1
    queued = set(shard_tasks().filter(status="READY").values_list("pk", flat=True))
    assert queued

    output = processes.manage(env, "recover_snapshots", "--stale-after", "2")
    assert "1 snapshot recovered" in output
    assert (current(snapshot).status, snapshot.error) == ("failed", STOPPED)
    assert not directory.exists()

    # A new worker takes the shards still queued: each finds its snapshot failed and does nothing.
    worker = processes.worker(env, tmp_path / "worker-restarted.log")
    try:
        wait_for(lambda: not shard_tasks().filter(status="READY").exists(), "the queued shards", worker, timeout=120)
        time.sleep(0.5)
    finally:
        worker.stop()
    assert {t.status: t.return_value for t in shard_tasks().filter(pk__in=queued)} == {"SUCCESSFUL": "skipped"}
    assert current(snapshot).status == "failed"
    assert not directory.exists()
    assert not snapshot.files.exists()
