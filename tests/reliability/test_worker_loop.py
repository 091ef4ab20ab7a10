"""run_worker's loop in this process: a task whose outcome could not be recorded because the
database went away goes back to the queue and runs again (tasks are safe to run twice); an idle
worker fails a snapshot whose worker stopped after it started."""

import time

import pytest
from django.db.utils import OperationalError
from django.tasks import task
from django.utils import timezone

from annotator.datasets.models import Snapshot
from annotator.datasets.recovery import STOPPED
from annotator.datasets.worker import Worker
from tests.datasets.helpers import parameters

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = []


@task
def remember(n: int) -> int:
    RUNS.append(n)
    return n


def worker(batch: bool = True) -> Worker:
    return Worker(
        queue_names=["default"], excluded_queue_names=[], interval=0.01, batch=batch, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="loop-test", listen=True,
    )


def test_a_task_whose_result_was_not_recorded_runs_again(tasks_database, snapshot_root, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    RUNS.clear()
    result = remember.enqueue(7)
    loop = worker()
    failures = []

    def gone_for_the_first_run(method):
        # The first run's result cannot be written, success or failure alike; then it can.
        def write(self, value):
            if len(failures) < 2:
                failures.append(method.__name__)
                raise OperationalError("server closed the connection unexpectedly")
            return method(self, value)

        return write

    monkeypatch.setattr(DBTaskResult, "set_successful", gone_for_the_first_run(DBTaskResult.set_successful))
    monkeypatch.setattr(DBTaskResult, "set_failed", gone_for_the_first_run(DBTaskResult.set_failed))
    loop.run()  # --batch: returns once the queue is empty

    assert failures == ["set_successful", "set_failed"]
    assert RUNS == [7, 7]
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "SUCCESSFUL" and row.return_value == 7
    assert row.worker_ids == ["loop-test", "loop-test"]


def test_an_idle_worker_fails_a_snapshot_whose_worker_stopped_after_it_started(
    tasks_database, snapshot_root, project, admin_user, settings, monkeypatch
):
    """A build on another host whose heartbeat stops while this worker is idle: this worker fails
    it visibly within about `stale_after` of its last look, not only when some worker starts."""
    settings.ANNOTATOR_SNAPSHOT_STALE_SECONDS = 0.5
    loop = worker(batch=False)
    lost = []
    give_up = time.monotonic() + 10

    def idle():
        if not lost:  # the start's recovery is done: a build starts elsewhere, then its host goes away
            lost.append(Snapshot.objects.create(
                project=project, created_by=admin_user, parameters=parameters(), status="running",
                heartbeat_at=timezone.now(),
            ))
        elif Snapshot.objects.get(pk=lost[0].pk).status != "running" or time.monotonic() > give_up:
            loop.running = False
        time.sleep(0.05)

    monkeypatch.setattr(loop, "wait_for_task", idle)
    loop.run()

    snapshot = Snapshot.objects.get(pk=lost[0].pk)
    assert (snapshot.status, snapshot.error) == ("failed", STOPPED)
    assert time.monotonic() < give_up
