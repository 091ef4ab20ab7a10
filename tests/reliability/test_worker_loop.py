"""run_worker's loop in this process: a task whose outcome could not be recorded because the
database went away goes back to the queue and runs again (tasks are safe to run twice)."""

import pytest
from django.db.utils import OperationalError
from django.tasks import task

from annotator.datasets.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = []


@task
def remember(n: int) -> int:
    RUNS.append(n)
    return n


def worker() -> Worker:
    return Worker(
        queue_names=["default"], excluded_queue_names=[], interval=0.01, batch=True, backend_name="default",
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
