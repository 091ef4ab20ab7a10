"""The task worker that `manage.py run_worker` runs: django-tasks-db's `db_worker` loop, plus
three things it lacks.

- **It outlives the database.** `db_worker` exits on the first query that fails, so a
  PostgreSQL restart of a second stops every worker for good. This one closes the connection,
  tries again every second until the database answers, and carries on. A task it had claimed
  when the database went away (its outcome could not be recorded) goes back to the queue, to run
  again: every task here is safe to run twice (a snapshot build that finished says "skipped").
- **It starts a task at once.** On PostgreSQL, enqueueing a task sends a NOTIFY (`wake_workers`,
  in the same transaction as the task's row), and an idle worker waits on LISTEN instead of
  sleeping, so it starts within milliseconds rather than up to `--interval` later. It still looks
  every `--interval` seconds, for tasks due later (`run_after`) and in case a notification is
  lost with its connection. On SQLite there is no NOTIFY: it looks every `--interval`.
- **It recovers first, and again while idle.** Snapshots, import jobs and model training runs
  whose worker stopped (killed, host lost) are failed visibly before it takes any task
  (`annotator.datasets.recovery`, `corpus.jobs`), as `recover_snapshots` does; a snapshot's shard
  whose worker stopped is queued again instead. An idle worker looks again once every
  `stale_after` (a minute), so that work left by a host that is gone for good, or by a worker on
  another machine that is not restarted, does not stay "running" until some worker starts.
"""

import logging
import random
import time

import psycopg
from django.db import close_old_connections, connections, router
from django.db.utils import OperationalError
from django.dispatch import receiver
from django.tasks import TaskResultStatus
from django.tasks.signals import task_enqueued
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from annotator.corpus.jobs import import_jobs_recover
from annotator.database import RETRY_SECONDS, UNAVAILABLE, wait_for_database
from annotator.heartbeat import default_stale_after
from annotator.training.tasks import models_recover

from .recovery import snapshots_recover

CHANNEL = "annotator_tasks"

logger = logging.getLogger("django_tasks_db")


@receiver(task_enqueued)
def wake_workers(sender, task_result, **kwargs) -> None:
    """NOTIFY the listening workers; PostgreSQL delivers it when the task's row is committed."""
    if not issubclass(sender, DatabaseBackend):
        return
    connection = connections[router.db_for_write(DBTaskResult)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


class Worker(db_worker.Worker):
    def __init__(self, *, listen: bool = True, **options):
        super().__init__(**options)
        self.listen = listen
        self.listener: psycopg.Connection | None = None
        self.in_hand: DBTaskResult | None = None
        self.outage_ended = float("-inf")
        self.recovered_at: float | None = None

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311  (workers started together do not look in step)
        try:
            self.loop()
        finally:
            self.stop_listening()

    def loop(self) -> None:
        while self.running:
            try:
                if self.in_hand is not None:
                    self.put_back()
                if self.recovered_at is None:
                    # Right after a crash its tasks' heartbeats are seconds old: wait for them to go stale.
                    self.recover(wait=True)
                if not self.step():
                    return
            except UNAVAILABLE as error:
                logger.warning("The database went away: %s", error)
                self.stop_listening()
                if time.monotonic() - self.outage_ended < RETRY_SECONDS:
                    time.sleep(RETRY_SECONDS)  # it answered, then failed again at once: do not spin
                wait_for_database(keep_waiting=lambda: self.running)
                self.outage_ended = time.monotonic()

    def step(self) -> bool:
        """Run one task, or wait for one. False once --batch or --max-tasks says to stop."""
        close_old_connections()  # a connection that failed its health check is replaced here
        self.start_listening()  # before looking, so that a task enqueued after the look wakes us
        task_result = self.claim()
        if task_result is not None:
            self.in_hand = task_result
            self.run_task(task_result)
            self.in_hand = None
        elif self.batch:
            logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
            return False
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            logger.info("Run maximum tasks (%d) on worker=%s - exiting gracefully.", self._run_tasks, self.worker_id)
            return False
        if task_result is None and self.running:
            if time.monotonic() - self.recovered_at >= default_stale_after().total_seconds():
                self.recover(wait=False)
            self.wait_for_task()
        return True

    def recover(self, *, wait: bool) -> None:
        """Fail visibly, or queue again, what a stopped worker left running (see the module's doc)."""
        snapshots_recover(wait=wait)
        import_jobs_recover(wait=wait)
        models_recover(wait=wait)
        self.recovered_at = time.monotonic()

    def claim(self) -> DBTaskResult | None:
        """The next ready task, marked as this worker's (as db_worker takes it)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
            except OperationalError as error:
                if is_locked_database_exception(error):  # SQLite, busy: look again later
                    return None
                raise
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result

    def start_listening(self) -> None:
        if not self.listen or self.listener is not None:
            return
        connection = connections[router.db_for_read(DBTaskResult)]
        if connection.vendor != "postgresql":
            self.listen = False
            return
        with connection.wrap_database_errors:  # psycopg's errors as Django's, which run() handles
            listener = connection.get_new_connection(connection.get_connection_params())
            listener.autocommit = True
            listener.execute(f"LISTEN {CHANNEL}")
        self.listener = listener

    def wait_for_task(self) -> None:
        """Until a task is enqueued, or --interval seconds."""
        if self.listener is None:
            time.sleep(self.interval)
            return
        try:
            for _ in self.listener.notifies(timeout=self.interval, stop_after=1):
                pass
        except psycopg.Error as error:
            # The server went away; the next look at the queue finds out whether it is back.
            logger.warning("Lost the connection that listens for new tasks: %s", error)
            self.stop_listening()

    def stop_listening(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def put_back(self) -> None:
        """The task claimed when the database went away, its outcome unrecorded: to be run again."""
        DBTaskResult.objects.filter(pk=self.in_hand.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )
        logger.warning("Task id=%s goes back to the queue, to run again.", self.in_hand.pk)
        self.in_hand = None
