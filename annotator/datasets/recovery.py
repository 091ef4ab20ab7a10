"""Snapshots whose worker stopped: found by their heartbeat, failed visibly, their files removed.

A worker that is killed mid-build (SIGKILL, out of memory, a host that goes away) never gets to
record the end: its snapshot would stay `running` for ever, and so would its django-tasks-db
row. A build stamps `Snapshot.heartbeat_at` while it runs (`build.snapshot_heartbeat`), so
`snapshots_recover` can tell such a snapshot from a slow one: a running snapshot whose heartbeat
is older than `stale_after` has no worker any more. A queued snapshot older than that which no
task will ever take (its task is gone, failed, or was claimed by a worker that died before
starting it) is lost the same way. Both are marked failed with `STOPPED` as their error, which
the datasets page shows, and their partial files are removed.

A worker runs it as it starts (`manage.py run_worker`, `annotator.datasets.worker`). Right
after a crash the killed build's last heartbeat is only seconds old, so it first waits, at most
`stale_after`, for each running snapshot's heartbeat to either move on (another worker is
building it) or go stale.
"""

import logging
import shutil
import time
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.tasks import TaskResultStatus
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone

from .models import Snapshot, SnapshotFile, snapshot_root
from .services import snapshot_build

STOPPED = "the worker stopped while building this snapshot; make it again"

logger = logging.getLogger(__name__)


class WorkerStopped(Exception):
    """Recorded on the task of a snapshot whose worker stopped."""


def default_stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "ANNOTATOR_SNAPSHOT_STALE_SECONDS", 60)))


def snapshots_recover(
    *, stale_after: timedelta | None = None, wait: bool = False, poll: float = 1.0
) -> list[Snapshot]:
    """Fail every snapshot that lost its worker, remove its files, and return them."""
    stale_after = default_stale_after() if stale_after is None else stale_after
    if wait:
        _wait_for_fresh_heartbeats(stale_after, poll)
    limit = timezone.now() - stale_after
    running = (
        Snapshot.objects.filter(status=Snapshot.Status.RUNNING)
        # Taken by a worker that died before the build's first heartbeat: its age is all we know.
        .alias(last_seen=Coalesce("heartbeat_at", "created_at"))
        .filter(last_seen__lt=limit)
    )
    recovered = [snapshot for snapshot in running if _fail(snapshot, limit)]
    waiting = _snapshots_a_task_will_take(limit)
    if waiting is not None:
        queued = Snapshot.objects.filter(status=Snapshot.Status.QUEUED, created_at__lt=limit).exclude(pk__in=waiting)
        recovered += [snapshot for snapshot in queued if _fail(snapshot, limit)]
    for snapshot in recovered:
        logger.warning("Snapshot %s of project %s failed: %s", snapshot.pk, snapshot.project_id, STOPPED)
    return recovered


def _wait_for_fresh_heartbeats(stale_after: timedelta, poll: float) -> None:
    """Until each running snapshot's heartbeat has moved on or gone stale, at most `stale_after`."""
    deadline = time.monotonic() + stale_after.total_seconds()
    unsure = dict(
        Snapshot.objects.filter(status=Snapshot.Status.RUNNING, heartbeat_at__gte=timezone.now() - stale_after)
        .values_list("pk", "heartbeat_at")
    )
    while unsure and time.monotonic() < deadline:
        time.sleep(poll)
        beats = dict(
            Snapshot.objects.filter(pk__in=unsure, status=Snapshot.Status.RUNNING).values_list("pk", "heartbeat_at")
        )
        limit = timezone.now() - stale_after
        unsure = {pk: beat for pk, beat in unsure.items() if beats.get(pk) == beat and beat >= limit}


def _fail(snapshot: Snapshot, limit) -> bool:
    """Fail the snapshot unless it moved on meanwhile (finished, or its heartbeat came back)."""
    with transaction.atomic():
        taken = (
            Snapshot.objects.filter(pk=snapshot.pk, status=snapshot.status)
            .alias(last_seen=Coalesce("heartbeat_at", "created_at"))
            .filter(last_seen__lt=limit)
            .update(status=Snapshot.Status.FAILED, error=STOPPED, finished_at=timezone.now())
        )
        if not taken:
            return False
        SnapshotFile.objects.filter(snapshot=snapshot).delete()
    shutil.rmtree(snapshot_root() / snapshot.directory, ignore_errors=True)
    _fail_tasks(snapshot)
    snapshot.refresh_from_db()
    return True


def _database_backend():
    """The snapshot task's backend if it is django-tasks-db's (whose rows can be read), else None."""
    if not apps.is_installed("django_tasks_db"):
        return None
    from django_tasks_db.backend import DatabaseBackend

    backend = snapshot_build.get_backend()
    return backend if isinstance(backend, DatabaseBackend) else None


def _task_rows(statuses):
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=snapshot_build.module_path, backend_name=snapshot_build.backend, status__in=statuses
    )


def _snapshots_a_task_will_take(limit) -> set[str] | None:
    """Ids of queued snapshots whose task waits, or was claimed since `limit`; None if unknown."""
    if isinstance(snapshot_build.get_backend(), ImmediateBackend):
        return set()  # the build runs in the request that asked: nothing waits
    if _database_backend() is None:
        return None  # another backend: which tasks wait cannot be told from here
    waiting = set()
    rows = _task_rows([TaskResultStatus.READY, TaskResultStatus.RUNNING]).only("status", "started_at", "args_kwargs")
    for row in rows:
        if row.status == TaskResultStatus.READY or (row.started_at and row.started_at >= limit):
            waiting.update(str(arg) for arg in row.args_kwargs.get("args", [])[:1])
    return waiting


def _fail_tasks(snapshot: Snapshot) -> None:
    """Mark the snapshot's task failed too, so the task list does not show it running for ever."""
    if _database_backend() is None:
        return
    for row in _task_rows([TaskResultStatus.RUNNING]):
        if row.args_kwargs.get("args", [])[:1] == [str(snapshot.pk)]:
            row.set_failed(WorkerStopped(STOPPED))
