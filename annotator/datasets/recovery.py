"""Snapshots whose worker stopped: failed visibly, their files removed (see `annotator.heartbeat`);
a shard whose worker stopped: queued again.

A queued or running snapshot whose build's heartbeat (`build.snapshot_heartbeat`) stopped has no
worker any more: it is marked failed with `STOPPED` as its error, which the datasets page shows,
and its partial files are removed. A worker runs this as it starts, and once a minute while
idle (`manage.py run_worker`, `annotator.datasets.worker`).

A snapshot built by shard tasks (`build.shard`: each selects its shard's records, then writes
them) is judged by its shards instead, each with a heartbeat of its own (`build.shard_heartbeat`),
since some may wait in the queue behind long tasks while others are selected or written
(`shards_recover`).
"""

import logging
import shutil
from collections import defaultdict
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone

from annotator.heartbeat import (
    WorkerStopped, default_stale_after, fail_running_tasks, recover_lost, task_rows, wait_for_fresh_heartbeats,
)

from .models import Snapshot, SnapshotFile, SnapshotShard, snapshot_root
from .services import snapshot_build, snapshot_write_shard

STOPPED = "the worker stopped while building this snapshot; make it again"
SHARD_STOPPED = "the worker stopped while selecting or writing this shard; it is queued again"

logger = logging.getLogger(__name__)


def snapshots_recover(
    *, stale_after: timedelta | None = None, wait: bool = False, poll: float = 1.0
) -> list[Snapshot]:
    """Queue again every shard that lost its worker; fail every snapshot that lost its worker,
    remove its files, and return them."""
    stale_after = default_stale_after() if stale_after is None else stale_after
    finishing = shards_recover(stale_after=stale_after, wait=wait, poll=poll)
    recovered = recover_lost(
        Snapshot.objects.exclude(pk__in=finishing), snapshot_build, error=STOPPED, clean_up=_clean_up,
        stale_after=stale_after, wait=wait, poll=poll,
    )
    for snapshot in recovered:
        logger.warning("Snapshot %s of project %s failed: %s", snapshot.pk, snapshot.project_id, STOPPED)
    return recovered


def shards_recover(*, stale_after: timedelta, wait: bool = False, poll: float = 1.0) -> set:
    """Put back in the queue each shard whose task's worker stopped, and return the ids of the
    running snapshots that their shard tasks can still finish: those are left running, whatever
    their own heartbeat says.

    A shard not done yet is waiting while its task is queued (for as long as other tasks keep the
    workers busy), alive while its task runs with a fresh heartbeat, and lost when its task runs
    with a stale one: the shard is enqueued again (a shard is safe to run twice, even beside a
    first run that was only stalled) and the old task row failed. A shard selected, with no task,
    waits for the others' selects (the last one's task splits them all and queues each shard
    again). A snapshot with a shard that no task will select or write (its task rows gone, or not
    readable: another backend), with no shard task queued or running at all, or whose shards are
    all done (the last one's task joins them), is left to its own heartbeat, as a build is.
    """
    undone = SnapshotShard.objects.filter(snapshot__status=Snapshot.Status.RUNNING, folder="")
    if wait:
        # Right after a crash, a killed shard's heartbeat is only seconds old.
        wait_for_fresh_heartbeats(undone, stale_after, poll)
    tasks = task_rows(snapshot_write_shard, [TaskResultStatus.READY, TaskResultStatus.RUNNING])
    if tasks is None:
        return set()
    tasks_of = defaultdict(list)
    for task in tasks.only("status", "started_at", "args_kwargs"):
        snapshot_id, number = task.args_kwargs["args"]
        tasks_of[snapshot_id, number].append(task)
    limit = timezone.now() - stale_after
    finishing, unwritten = set(), set()
    for shard in undone:
        shard_tasks = tasks_of[str(shard.snapshot_id), shard.number]
        if not shard_tasks:
            if not shard.selected:
                unwritten.add(shard.snapshot_id)
            continue
        finishing.add(shard.snapshot_id)
        # A task that runs shows life by its shard's heartbeat, or (before its first) by when it started.
        if any(
            task.status == TaskResultStatus.READY or max(task.started_at, shard.heartbeat_at or task.started_at) >= limit
            for task in shard_tasks
        ):
            continue
        _queue_again(shard, tasks.filter(pk__in=[task.pk for task in shard_tasks]))
    return finishing - unwritten


def _queue_again(shard: SnapshotShard, lost_tasks) -> None:
    with transaction.atomic():
        # Of two workers recovering at once, the one that fails the old task rows first enqueues.
        stopped = list(lost_tasks.select_for_update())
        if not stopped:
            return
        for task in stopped:
            task.set_failed(WorkerStopped(SHARD_STOPPED))
        transaction.on_commit(partial(snapshot_write_shard.enqueue, str(shard.snapshot_id), shard.number))
    logger.warning("Shard %s of snapshot %s: %s", shard.number, shard.snapshot_id, SHARD_STOPPED)


def _clean_up(snapshot: Snapshot) -> None:
    """Remove the files of a snapshot failed by recovery; its shard tasks still marked running
    (the one that was joining when its worker stopped) are marked failed with it."""
    SnapshotFile.objects.filter(snapshot=snapshot).delete()
    shutil.rmtree(snapshot_root() / snapshot.directory, ignore_errors=True)
    fail_running_tasks(snapshot_write_shard, snapshot.pk, STOPPED)
