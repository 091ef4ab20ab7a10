"""The task bench.worker_latency enqueues: it does nothing, so the time to its start is the wait."""

from django.tasks import task


@task
def nothing(n: int) -> int:
    return n
