"""`snapshots_recover` in one process: which snapshots it fails, and what it leaves alone."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from annotator.datasets import build as build_module
from annotator.datasets.models import Snapshot, SnapshotFile, SnapshotShard
from annotator.datasets.recovery import STOPPED, snapshots_recover
from annotator.datasets.services import snapshot_build, snapshot_write_shard
from tests.datasets.helpers import annotate, article, build, parameters

MINUTE = timedelta(minutes=1)


def snapshot_at(project, user, status, *, age=timedelta(0), heartbeat_age=None):
    snapshot = Snapshot.objects.create(project=project, created_by=user, parameters=parameters(), status=status)
    now = timezone.now()
    Snapshot.objects.filter(pk=snapshot.pk).update(
        created_at=now - age, heartbeat_at=None if heartbeat_age is None else now - heartbeat_age
    )
    return snapshot


def partial_files(snapshot_root, snapshot):
    directory = snapshot_root / snapshot.directory
    directory.mkdir(parents=True)
    (directory / ".train.jsonl.part").write_text("{}\n")
    return directory


@pytest.mark.django_db
def test_running_snapshot_without_a_heartbeat_is_failed_and_its_files_removed(
    project, admin_user, snapshot_root, client
):
    stopped = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=2 * MINUTE)
    alive = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=timedelta(seconds=5))
    never_beat = snapshot_at(project, admin_user, "running", age=2 * MINUTE)
    ready = snapshot_at(project, admin_user, "ready", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    stopped_files = partial_files(snapshot_root, stopped)
    alive_files = partial_files(snapshot_root, alive)

    recovered = snapshots_recover(stale_after=MINUTE)

    assert {s.pk for s in recovered} == {stopped.pk, never_beat.pk}
    states = dict(Snapshot.objects.values_list("pk", "status"))
    assert states == {stopped.pk: "failed", never_beat.pk: "failed", alive.pk: "running", ready.pk: "ready"}
    stopped.refresh_from_db()
    assert stopped.error == STOPPED
    assert stopped.finished_at is not None
    assert not stopped_files.exists()
    assert alive_files.exists()
    assert snapshots_recover(stale_after=MINUTE) == []

    client.force_login(admin_user)
    page = client.get(reverse("dataset_list", args=[project.id])).content.decode()
    assert page.count(STOPPED) == 2
    htmx = client.get(reverse("snapshot_detail", args=[project.id, stopped.id]), headers={"HX-Request": "true"})
    assert STOPPED in htmx.content.decode()
    assert 'data-status="failed"' in htmx.content.decode()


@pytest.mark.django_db
def test_queued_snapshot_is_failed_only_when_nothing_will_build_it(project, admin_user, snapshot_root, settings):
    # The immediate backend (the quick start) builds in the request that asks: a snapshot still
    # queued a minute later lost its process.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    lost = snapshot_at(project, admin_user, "queued", age=2 * MINUTE)
    just_asked = snapshot_at(project, admin_user, "queued", age=timedelta(seconds=5))

    assert [s.pk for s in snapshots_recover(stale_after=MINUTE)] == [lost.pk]
    lost.refresh_from_db()
    just_asked.refresh_from_db()
    assert (lost.status, lost.error) == ("failed", STOPPED)
    assert just_asked.status == "queued"


@pytest.mark.django_db(transaction=True)
def test_queued_snapshot_waiting_for_a_worker_is_left_alone(tasks_database, project, admin_user, snapshot_root):
    from django_tasks_db.models import DBTaskResult

    waiting = snapshot_at(project, admin_user, "queued", age=10 * MINUTE)
    snapshot_build.enqueue(str(waiting.id))  # no worker has taken it yet
    forgotten = snapshot_at(project, admin_user, "queued", age=10 * MINUTE)  # its task is gone
    claimed = snapshot_at(project, admin_user, "queued", age=10 * MINUTE)
    snapshot_build.enqueue(str(claimed.id))
    # A worker took the task and died before the build began.
    task = DBTaskResult.objects.get(args_kwargs__args=[str(claimed.id)])
    task.claim("dead-worker")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - 5 * MINUTE)

    recovered = snapshots_recover(stale_after=MINUTE)

    assert {s.pk for s in recovered} == {forgotten.pk, claimed.pk}
    waiting.refresh_from_db()
    assert waiting.status == "queued"
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert "WorkerStopped" in task.exception_class_path
    assert DBTaskResult.objects.get(args_kwargs__args=[str(waiting.id)]).status == "READY"


@pytest.mark.django_db(transaction=True)
def test_running_snapshot_task_is_marked_failed_with_it(tasks_database, project, admin_user, snapshot_root):
    from django_tasks_db.models import DBTaskResult

    snapshot = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    other = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=timedelta(seconds=1))
    for item in (snapshot, other):
        snapshot_build.enqueue(str(item.id))
        DBTaskResult.objects.get(args_kwargs__args=[str(item.id)]).claim("worker")

    assert [s.pk for s in snapshots_recover(stale_after=MINUTE)] == [snapshot.pk]

    assert DBTaskResult.objects.get(args_kwargs__args=[str(snapshot.id)]).status == "FAILED"
    assert DBTaskResult.objects.get(args_kwargs__args=[str(other.id)]).status == "RUNNING"


def shards_of(snapshot, *heartbeat_ages, done=(), selected=()):
    """A shard row per heartbeat age (None: its task has not stamped it), those in `selected`
    selected, those in `done` selected and done."""
    now = timezone.now()
    SnapshotShard.objects.bulk_create(
        SnapshotShard(
            snapshot=snapshot, number=n, folder=f"part-{n}" if n in done else "",
            selected=f"selected-{n}" if n in {*selected, *done} else "",
            heartbeat_at=None if age is None else now - age,
        )
        for n, age in enumerate(heartbeat_ages)
    )


def shard_task(snapshot, number, *, running_since=None):
    """The shard's task, queued, or taken by a worker `running_since` ago."""
    from django_tasks_db.models import DBTaskResult

    snapshot_write_shard.enqueue(str(snapshot.id), number)
    task = DBTaskResult.objects.get(args_kwargs__args=[str(snapshot.id), number])
    if running_since is not None:
        task.claim("worker")
        DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - running_since)
    return task


def shard_tasks_of(snapshot, number) -> list[tuple[str, str]]:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(args_kwargs__args=[str(snapshot.id), number]).order_by("enqueued_at")
    return [(row.status, row.exception_class_path.rpartition(".")[2]) for row in rows]


@pytest.mark.django_db(transaction=True)
def test_a_shard_whose_worker_stopped_is_queued_again_and_its_snapshot_left_running(
    tasks_database, project, admin_user, snapshot_root
):
    # The snapshot's own heartbeat is old: its build ended long ago, and its shards wait or run.
    snapshot = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    files = partial_files(snapshot_root, snapshot)
    shards_of(snapshot, 2 * MINUTE, timedelta(seconds=5), 2 * MINUTE, None, None, done={0})
    shard_task(snapshot, 1, running_since=10 * MINUTE)  # its worker is at it
    shard_task(snapshot, 2, running_since=10 * MINUTE)  # its worker was killed
    shard_task(snapshot, 3)  # waiting for a worker for ten minutes
    shard_task(snapshot, 4, running_since=timedelta(seconds=5))  # just taken, no heartbeat yet

    assert snapshots_recover(stale_after=MINUTE) == []

    snapshot.refresh_from_db()
    assert snapshot.status == "running"
    assert files.exists()
    assert shard_tasks_of(snapshot, 1) == [("RUNNING", "")]
    assert shard_tasks_of(snapshot, 2) == [("FAILED", "WorkerStopped"), ("READY", "")]
    assert shard_tasks_of(snapshot, 3) == [("READY", "")]
    assert shard_tasks_of(snapshot, 4) == [("RUNNING", "")]
    # Queued again once: the new task waits.
    assert snapshots_recover(stale_after=MINUTE) == []
    assert shard_tasks_of(snapshot, 2) == [("FAILED", "WorkerStopped"), ("READY", "")]


@pytest.mark.django_db(transaction=True)
def test_shards_selected_wait_for_the_others_selects_and_the_split(tasks_database, project, admin_user, snapshot_root):
    # Shards 0 and 1 are selected (their tasks ended), shard 2 is being selected: the last one
    # selected splits them all and queues each again. Left running, whatever its own heartbeat says.
    snapshot = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    shards_of(snapshot, 5 * MINUTE, 5 * MINUTE, timedelta(seconds=5), selected={0, 1})
    shard_task(snapshot, 2, running_since=10 * MINUTE)
    # Every shard selected, and no task left: the last one's was splitting them when its worker
    # stopped, and its task row is gone (not one recovery could queue again).
    split = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    shards_of(split, 5 * MINUTE, 5 * MINUTE, selected={0, 1})
    files = [partial_files(snapshot_root, s) for s in (snapshot, split)]

    assert [s.pk for s in snapshots_recover(stale_after=MINUTE)] == [split.pk]

    assert dict(Snapshot.objects.values_list("pk", "status")) == {snapshot.pk: "running", split.pk: "failed"}
    assert [f.exists() for f in files] == [True, False]
    assert shard_tasks_of(snapshot, 2) == [("RUNNING", "")]


@pytest.mark.django_db(transaction=True)
def test_a_sharded_snapshot_nothing_can_finish_is_failed(tasks_database, project, admin_user, snapshot_root):
    # A shard that no task will write (the build stopped before enqueueing them).
    unwritten = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    shards_of(unwritten, None, None)
    shard_task(unwritten, 0)
    # Every shard done: the last one's task was joining them when its worker stopped.
    joined = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)
    shards_of(joined, 5 * MINUTE, 5 * MINUTE, done={0, 1})
    shard_task(joined, 1, running_since=10 * MINUTE)
    # A shard with no task yet, its build still at work (enqueueing them): left alone.
    handing_out = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=timedelta(seconds=1))
    shards_of(handing_out, None)
    files = [partial_files(snapshot_root, s) for s in (unwritten, joined, handing_out)]

    recovered = snapshots_recover(stale_after=MINUTE)

    assert {s.pk for s in recovered} == {unwritten.pk, joined.pk}
    states = dict(Snapshot.objects.values_list("pk", "status"))
    assert states == {unwritten.pk: "failed", joined.pk: "failed", handing_out.pk: "running"}
    assert [f.exists() for f in files] == [False, False, True]
    assert shard_tasks_of(joined, 1) == [("FAILED", "WorkerStopped")]
    assert shard_tasks_of(unwritten, 0) == [("READY", "")]  # it will find its snapshot failed, and skip


@pytest.mark.django_db
def test_a_build_given_up_by_recovery_stops_and_stays_failed(project, admin_user, snapshot_root, monkeypatch):
    """Recovery fails a build that was slow, not dead: the build must not make it ready after all."""
    for n in range(3):
        annotate(article(project, f"Lavrov met envoy {n}."), admin_user, [("Source", "Lavrov")], gold=True)
    primary_topic = build_module.record_primary_topic

    def primary_topic_after_recovery(*args):
        snapshots_recover(stale_after=timedelta(0))
        return primary_topic(*args)

    monkeypatch.setattr(build_module, "record_primary_topic", primary_topic_after_recovery)
    monkeypatch.setattr(build_module, "PROGRESS_EVERY_SECONDS", 0)
    with pytest.raises(build_module.Abandoned):
        build(project, admin_user, formats=["jsonl"])
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.error) == ("failed", STOPPED)
    assert not SnapshotFile.objects.exists()
    assert not (snapshot_root / snapshot.directory).exists()


@pytest.mark.django_db
def test_a_build_given_up_at_its_last_step_is_not_made_ready(project, admin_user, snapshot_root, monkeypatch):
    annotate(article(project, "Lavrov met the envoy."), admin_user, [("Source", "Lavrov")], gold=True)
    stop_beating = build_module.Heartbeat.__exit__

    def files_written_then_recovered(self, *exc_info):
        stop_beating(self, *exc_info)
        snapshots_recover(stale_after=timedelta(0))

    # Every file is written and renamed; only the rows and the status are left to save.
    monkeypatch.setattr(build_module.Heartbeat, "__exit__", files_written_then_recovered)
    with pytest.raises(build_module.Abandoned):
        build(project, admin_user, formats=["jsonl"])
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.error) == ("failed", STOPPED)
    assert not SnapshotFile.objects.exists()
    assert not (snapshot_root / snapshot.directory).exists()


@pytest.mark.django_db
def test_a_finished_build_records_its_heartbeat(project, admin_user, snapshot_root):
    before = timezone.now()
    snapshot = build(project, admin_user, formats=["jsonl"])
    assert snapshot.status == "ready"
    assert before <= snapshot.heartbeat_at <= snapshot.finished_at


@pytest.mark.django_db
def test_command_reports_what_it_recovered(project, admin_user, snapshot_root, capsys):
    stopped = snapshot_at(project, admin_user, "running", age=10 * MINUTE, heartbeat_age=5 * MINUTE)

    call_command("recover_snapshots", "--stale-after", "60")

    output = capsys.readouterr().out
    assert f"Snapshot {stopped.pk} of project {project.pk}: failed, {STOPPED}." in output
    assert "1 snapshot recovered." in output
    stopped.refresh_from_db()
    assert stopped.status == "failed"


@pytest.mark.django_db
def test_command_refuses_a_negative_threshold(project):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="zero or more"):
        call_command("recover_snapshots", "--stale-after", "-1")


@pytest.mark.django_db(transaction=True)
def test_heartbeat_goes_on_during_a_long_step(project, admin_user, snapshot_root, settings, monkeypatch):
    """Grouping near-duplicates of a big corpus writes no progress; the heartbeat thread still beats."""
    from annotator.datasets.splits import NearDuplicates

    settings.ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS = 0.1
    annotate(article(project, "Lavrov met the envoy."), admin_user, [("Source", "Lavrov")], gold=True)
    groups = NearDuplicates.groups
    seen = []

    def slow_groups(self, texts):
        for _ in range(10):
            time.sleep(0.1)
            seen.append(Snapshot.objects.values_list("heartbeat_at", flat=True).get())
        return groups(self, texts)

    monkeypatch.setattr(NearDuplicates, "groups", slow_groups)
    snapshot = build(project, admin_user, formats=["jsonl"])
    assert snapshot.status == "ready"
    assert len(set(seen)) >= 4, seen
