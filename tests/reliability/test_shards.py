"""A snapshot's shard tasks run by real `run_worker` processes: two workers share one snapshot,
selecting and then writing its shards, and write the files one process writes; a worker killed
mid-shard (selecting or writing it) while the other works on shards has its shard queued again as
it restarts, and the snapshot ends ready with the same files; shards that wait in the queue longer
than the stale time are not failed by a worker starting."""

import time
from contextlib import ExitStack

import pytest
from django.urls import reverse

from annotator.datasets.models import Snapshot, SnapshotShard
from tests.datasets.helpers import annotate, article

from . import processes
from .processes import current, wait_for

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


def sharded(env_for_test_database, **more) -> dict:
    """The workers' environment: shards of SHARD_RECORDS records, and `more`."""
    return env_for_test_database(ANNOTATOR_SNAPSHOT_SHARD_RECORDS=SHARD_RECORDS, CONN_MAX_AGE="0", **more)


def asked_for(client, project, admin_user) -> Snapshot:
    """A snapshot asked for on the export page, queued for the workers."""
    client.force_login(admin_user)
    assert client.post(reverse("dataset_list", args=[project.id]), SNAPSHOT_FORM).status_code == 302
    return Snapshot.objects.get()


def written_here(client, settings, project, snapshot, snapshot_root) -> dict[str, bytes]:
    """The files of the same snapshot asked for again and written in this process (the immediate
    backend), shard after shard."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = SHARD_RECORDS
    assert client.post(reverse("dataset_list", args=[project.id]), SNAPSHOT_FORM).status_code == 302
    here = Snapshot.objects.exclude(pk=snapshot.pk).get()
    assert here.status == "ready", here.error
    return files(here, snapshot_root)


def test_two_workers_share_a_snapshot_and_write_what_one_process_writes(
    client, settings, tasks_database, env_for_test_database, project, admin_user, corpus, snapshot_root, tmp_path
):
    env = sharded(env_for_test_database)
    snapshot = asked_for(client, project, admin_user)
    # Each record's step sleeps, so that a shard lasts long enough for the other worker to take the next.
    with ExitStack() as stack:
        workers = [stack.enter_context(processes.worker(env, tmp_path / f"worker-{n}.log", slow_step=0.2)) for n in range(2)]
        wait_for(lambda: current(snapshot).finished, "the snapshot", *workers, timeout=180)
    assert snapshot.status == "ready", (snapshot.error, *(worker.output() for worker in workers))
    tasks = list(shard_tasks())
    # A task per shard selects its records, then, once all are selected and split, one writes them.
    assert sorted(task.return_value for task in tasks) == ["selected"] * (ARTICLES // SHARD_RECORDS) + ["written"] * (ARTICLES // SHARD_RECORDS)
    assert {task.status for task in tasks} == {"SUCCESSFUL"}
    assert len({task.worker_ids[0] for task in tasks}) == 2, "one worker wrote every shard"

    written = files(snapshot, snapshot_root)
    assert written == written_here(client, settings, project, snapshot, snapshot_root)
    assert {"train-00000.parquet", "train-00001.parquet", "train.jsonl", "label_studio.json"} <= set(written)
    assert snapshot.counts["articles"] == ARTICLES


@pytest.mark.parametrize("step", ["selected", "written"])
def test_a_worker_killed_mid_shard_while_another_works_on_shards_has_its_shard_queued_again(
    step, client, settings, tasks_database, env_for_test_database, project, admin_user, corpus, snapshot_root, tmp_path
):
    env = sharded(env_for_test_database, ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5", ANNOTATOR_SNAPSHOT_STALE_SECONDS="3")
    snapshot = asked_for(client, project, admin_user)

    with ExitStack() as stack:
        # The one killed is slower: a shard of it lasts seconds, so it is still writing the shard seen
        # running when the kill lands (at the same speed, it could finish in between, under load).
        workers = [stack.enter_context(processes.worker(env, tmp_path / f"worker-{n}.log", slow_step=step))
                   for n, step in enumerate((2.0, 0.3))]
        killed, other = workers
        # Kill one while each selects (or writes) a shard, one shard at least being selected (or
        # written): the shards are written only once all are selected.
        shards = SnapshotShard.objects.all()
        if step == "selected":
            def at_work():
                return shards.exclude(selected="").exists() and shards.filter(selected="").exists()
        else:
            def at_work():
                return shards.exclude(folder="").exists()
        wait_for(
            lambda: at_work() and shard_tasks().filter(status="RUNNING").count() == 2,
            f"both workers at shards, one {step}", killed, timeout=120,
        )
        killed.kill()
        lost = set(shard_tasks().filter(status="RUNNING").values_list("pk", flat=True))
        if step == "written":
            assert shard_tasks().filter(status="READY").exists()
        # Its supervisor starts it again while the other worker still writes the snapshot's shards.
        workers.append(stack.enter_context(processes.worker(env, tmp_path / "worker-restarted.log", slow_step=0.3)))
        wait_for(lambda: current(snapshot).finished, "the snapshot", *workers[1:], timeout=180)
    assert snapshot.status == "ready", (snapshot.error, *(worker.output() for worker in workers))
    stopped = shard_tasks().filter(pk__in=lost, status="FAILED").get()
    assert "WorkerStopped" in stopped.exception_class_path
    # The shard lost was selected (again) and written all the same.
    done = shard_tasks().filter(args_kwargs__args=stopped.args_kwargs["args"], status="SUCCESSFUL")
    assert sorted(done.values_list("return_value", flat=True)) == ["selected", "written"]
    assert shard_tasks().filter(status="SUCCESSFUL").count() == 2 * ARTICLES // SHARD_RECORDS
    assert not any((snapshot_root / snapshot.directory).glob(".shard-*"))

    assert files(snapshot, snapshot_root) == written_here(client, settings, project, snapshot, snapshot_root)


def test_shards_queued_longer_than_the_stale_time_are_not_failed_by_a_worker_starting(
    client, tasks_database, env_for_test_database, project, admin_user, corpus, snapshot_root, tmp_path
):
    env = sharded(env_for_test_database, ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5", ANNOTATOR_SNAPSHOT_STALE_SECONDS="2")
    snapshot = asked_for(client, project, admin_user)

    # The only worker runs the build, which queues the shards, and is then busy elsewhere (here: gone).
    with processes.worker(env, tmp_path / "builder.log", max_tasks=1) as builder:
        builder.popen.wait(timeout=120)
    assert current(snapshot).status == "running", builder.output()
    assert shard_tasks().filter(status="READY").count() == ARTICLES // SHARD_RECORDS
    time.sleep(3)  # longer than the stale time: the snapshot's heartbeat and the shards' tasks are that old

    with processes.worker(env, tmp_path / "worker.log") as worker:
        wait_for(lambda: current(snapshot).finished, "the snapshot", worker, timeout=180)
    assert snapshot.status == "ready", (snapshot.error, worker.output())
    assert {task.status for task in shard_tasks()} == {"SUCCESSFUL"}
    assert snapshot.counts["articles"] == ARTICLES
