"""A long task's sign of life, and what is done when it stops.

Snapshot builds and import jobs are rows (queued → running → done or failed) run by a task of
the worker. They keep a transaction or a slow step open for a long time, yet a worker killed
midway (SIGKILL, out of memory, a host that goes away) never records the end: its row would stay
`running` for ever. So while a task runs, a thread of its own stamps the row's `heartbeat_at` on
its own connection every few seconds (`Heartbeat`), and stops the task once recovery has given
the row up. `recover_lost` (run by each worker as it starts and while idle, and by `manage.py
recover_snapshots`) fails visibly every row whose heartbeat is older than `stale_after`, and
every queued row that old which no task will ever take. A snapshot's shard tasks share their
snapshot's row but have a heartbeat each: a shard that lost its worker is queued again rather
than failing its snapshot (`annotator.datasets.recovery`, with `wait_for_fresh_heartbeats`,
`task_rows` and `fail_running_tasks` from here).

Right after a crash the killed task's last heartbeat is only seconds old, so recovery may first
wait, at most `stale_after`, for each running row's heartbeat to either move on (another worker
is at it) or go stale.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import Error, connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.tasks import Task, TaskResultStatus
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone

logger = logging.getLogger(__name__)


def claim_queued(model, pk):
    """Take a queued row for the task that runs it (queued → running, started and stamped now), or
    None when another run has taken it already: a task enqueued twice does its work once."""
    now = timezone.now()
    taken = model.objects.filter(pk=pk, status=model.Status.QUEUED).update(
        status=model.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return model.objects.select_related("project").get(pk=pk) if taken else None


class Abandoned(Exception):
    """The task's row is no longer running: recovery gave it up while the task was still at it."""


class Heartbeat:
    """Calls `beat` now and every `seconds` from a thread until the block ends.

    `beat` stamps the row and raises `Abandoned` when the row is no longer running; the task
    learns it at its next `check()`. Inside a transaction already (the tests' atomic blocks) there
    is no thread: it could not see the uncommitted row, and on SQLite it would wait for the
    transaction's lock; `threaded` tells the task to stamp now and then itself.
    """

    def __init__(self, beat: Callable[[], None], *, seconds: float, name: str):
        self.beat, self.seconds, self.name = beat, seconds, name
        self.lost = threading.Event()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def threaded(self) -> bool:
        return self.thread is not None

    def __enter__(self):
        self.beat()
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name=f"heartbeat-{self.name}", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def check(self) -> None:
        if self.lost.is_set():
            raise Abandoned(f"{self.name} is no longer running.")

    def _run(self) -> None:
        try:
            while not self.stop.wait(self.seconds):
                try:
                    self.beat()
                except Abandoned:
                    self.lost.set()
                    return
                except Error:
                    # The database is away for a moment: the next beat tries again, on a new connection.
                    logger.warning("Could not stamp the heartbeat of %s", self.name, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection


class TaskProgress:
    """Where a task is (`done` of `total`), stamped on its row with the heartbeat for the page to see.

    The task calls it now and then. A task whose own transaction stays open until the end (an
    import) has its progress written from the heartbeat's thread, on that thread's connection;
    without a thread (inside a transaction already), on the task's connection every `seconds`.
    The row's model has `status` (running), `heartbeat_at`, `progress_done` and `progress_total`.
    """

    def __init__(self, model, pk, *, seconds: float, name: str):
        self.row = model.objects.filter(pk=pk, status=model.Status.RUNNING)
        self.seconds, self.name = seconds, name
        self.done = self.total = 0
        self.saved_at = 0.0
        self.heartbeat = Heartbeat(self.save, seconds=seconds, name=name)

    def __call__(self, done: int, total: int) -> None:
        """Remembers where the task is; stops it if its row was given up."""
        self.heartbeat.check()
        self.done, self.total = min(done, total), total
        if not self.heartbeat.threaded and time.monotonic() - self.saved_at >= self.seconds:
            self.save()

    def save(self) -> None:
        self.saved_at = time.monotonic()
        if not self.row.update(heartbeat_at=timezone.now(), progress_done=self.done, progress_total=self.total):
            raise Abandoned(f"{self.name} is no longer running.")


# Recovery ------------------------------------------------------------------------------------


class WorkerStopped(Exception):
    """Recorded on the task of a row whose worker stopped."""


def default_stale_after() -> timedelta:
    # One worker, one idea of how long a silent task may be alive.
    return timedelta(seconds=float(getattr(settings, "ANNOTATOR_SNAPSHOT_STALE_SECONDS", 60)))


def recover_lost(
    rows: QuerySet,
    task: Task,
    *,
    error: str,
    clean_up: Callable,
    stale_after: timedelta | None = None,
    wait: bool = False,
    poll: float = 1.0,
) -> list:
    """Fail every row that lost its worker, with `error`, and return them.

    `rows` are run by `task`, whose first argument is the row's id; their model has `status`
    (queued, running, failed), `heartbeat_at`, `created_at`, `finished_at` and `error`.
    `clean_up(row)` removes what the row's task left, in the transaction that fails it.
    """
    stale_after = default_stale_after() if stale_after is None else stale_after
    status = rows.model.Status
    if wait:
        wait_for_fresh_heartbeats(rows.filter(status=status.RUNNING), stale_after, poll)
    limit = timezone.now() - stale_after
    lost = list(
        rows.filter(status=status.RUNNING)
        # Taken by a worker that died before the task's first heartbeat: its age is all we know.
        .alias(last_seen=Coalesce("heartbeat_at", "created_at"))
        .filter(last_seen__lt=limit)
    )
    waiting = _ids_a_task_will_take(task, limit)
    if waiting is not None:
        lost += rows.filter(status=status.QUEUED, created_at__lt=limit).exclude(pk__in=waiting)
    return [row for row in lost if _fail(rows, row, task, limit, error, clean_up)]


def wait_for_fresh_heartbeats(running: QuerySet, stale_after: timedelta, poll: float) -> None:
    """Until each running row's heartbeat has moved on or gone stale, at most `stale_after`."""
    deadline = time.monotonic() + stale_after.total_seconds()
    unsure = dict(running.filter(heartbeat_at__gte=timezone.now() - stale_after).values_list("pk", "heartbeat_at"))
    while unsure and time.monotonic() < deadline:
        time.sleep(poll)
        beats = dict(running.filter(pk__in=unsure).values_list("pk", "heartbeat_at"))
        limit = timezone.now() - stale_after
        unsure = {pk: beat for pk, beat in unsure.items() if beats.get(pk) == beat and beat >= limit}


def _fail(rows: QuerySet, row, task: Task, limit, error: str, clean_up: Callable) -> bool:
    """Fail the row unless it moved on meanwhile (finished, or its heartbeat came back)."""
    with transaction.atomic():
        taken = (
            rows.filter(pk=row.pk, status=row.status)
            .alias(last_seen=Coalesce("heartbeat_at", "created_at"))
            .filter(last_seen__lt=limit)
            .update(status=rows.model.Status.FAILED, error=error, finished_at=timezone.now())
        )
        if not taken:
            return False
        clean_up(row)
    fail_running_tasks(task, row.pk, error)
    row.refresh_from_db()
    return True


def fail_running_tasks(task: Task, row_id, error: str) -> None:
    """Mark failed the runs of `task` for the row `row_id` (its first argument) still marked
    running, whose worker stopped: so the worker's task list does not show them running for ever."""
    for task_row in task_rows(task, [TaskResultStatus.RUNNING]) or []:
        if task_row.args_kwargs.get("args", [])[:1] == [str(row_id)]:
            task_row.set_failed(WorkerStopped(error))


def task_rows(task: Task, statuses) -> QuerySet | None:
    """The task's rows if django-tasks-db runs it (whose rows can be read), else None."""
    if not apps.is_installed("django_tasks_db"):
        return None
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task.get_backend(), DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(task_path=task.module_path, backend_name=task.backend, status__in=statuses)


def _ids_a_task_will_take(task: Task, limit) -> set[str] | None:
    """Ids of the queued rows whose task waits, or was claimed since `limit`; None if unknown."""
    if isinstance(task.get_backend(), ImmediateBackend):
        return set()  # the task runs in the request that asked: nothing waits
    rows = task_rows(task, [TaskResultStatus.READY, TaskResultStatus.RUNNING])
    if rows is None:
        return None  # another backend: which tasks wait cannot be told from here
    waiting = set()
    for row in rows.only("status", "started_at", "args_kwargs"):
        if row.status == TaskResultStatus.READY or (row.started_at and row.started_at >= limit):
            waiting.update(str(arg) for arg in row.args_kwargs.get("args", [])[:1])
    return waiting
