"""Benchmark 6: from enqueueing a task to an idle worker starting it, and what an idle worker costs.

    python -m bench.worker_latency --tasks 40 --idle-seconds 20

For each way of running the worker (django-tasks-db's `db_worker`, polling every second; our
`run_worker` polling every 1, 0.1 and 0.05 s with --no-listen; `run_worker` woken by LISTEN/NOTIFY
with its default 1 s interval) a worker process runs against the benchmark PostgreSQL database
with the production settings. Tasks that do nothing are enqueued one at a time, at random moments
(0.2 to 0.6 s apart, so they fall anywhere in a polling interval); each one's wait is its row's
`started_at` (stamped by the worker as it claims it) minus `enqueued_at` (stamped as it is
enqueued, in autocommit: the row is visible at once). Then, with no task at all, the worker's CPU
time, its PostgreSQL backends' CPU time and the database's committed transactions are counted for
`--idle-seconds`: the price of polling. On a busy machine the waits include waiting for a core.
"""

import argparse
import os
import random
import subprocess
import sys
import time

from bench.common import ROOT, median, percentile, setup_django

MODES = {
    "db_worker, --interval 1": ["db_worker", "--interval", "1"],
    "run_worker --no-listen, --interval 1": ["run_worker", "--no-listen", "--interval", "1"],
    "run_worker --no-listen, --interval 0.1": ["run_worker", "--no-listen", "--interval", "0.1"],
    "run_worker --no-listen, --interval 0.05": ["run_worker", "--no-listen", "--interval", "0.05"],
    "run_worker (LISTEN), --interval 1": ["run_worker", "--interval", "1"],
}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def backends(cursor) -> list[int]:
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    return [row[0] for row in cursor.fetchall()]


def commits(cursor) -> int:
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    return cursor.fetchone()[0]


def wait_started(result_id, timeout=30.0):
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = DBTaskResult.objects.get(pk=result_id)
        if row.started_at is not None:
            return row
        time.sleep(0.01)
    raise RuntimeError(f"task {result_id} did not start in {timeout} s")


def measure(name: str, options: list[str], tasks: int, idle_seconds: float) -> dict:
    from django.db import connection

    from bench.worker_task import nothing

    # Connections kept for the whole run (production keeps them 60 s), so that the idle window
    # counts the same PostgreSQL backends from start to end.
    env = {**os.environ, "TASKS_BACKEND": "database", "CONN_MAX_AGE": "600"}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", *options, "--no-reload", "--no-startup-delay", "--verbosity", "0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_started(nothing.enqueue(-1).id)  # the worker is up and idle
        rng = random.Random(6)
        waits = []
        for n in range(tasks):
            time.sleep(rng.uniform(0.2, 0.6))
            row = wait_started(nothing.enqueue(n).id)
            waits.append((row.started_at - row.enqueued_at).total_seconds() * 1000)
        time.sleep(1)  # the last task's bookkeeping is done
        with connection.cursor() as cursor:
            pids = backends(cursor)
            before = cpu_seconds(worker.pid), sum(cpu_seconds(p) for p in pids), commits(cursor)
            time.sleep(idle_seconds)
            after = cpu_seconds(worker.pid), sum(cpu_seconds(p) for p in pids), commits(cursor)
        assert worker.poll() is None, worker.stderr.read().decode()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return {
        "name": name, "median": median(waits), "p95": percentile(waits, 95), "max": max(waits),
        "worker_cpu": (after[0] - before[0]) / idle_seconds * 100,
        "postgres_cpu": (after[1] - before[1]) / idle_seconds * 100,
        # Less the two this process's own `commits` reads add.
        "commits": (after[2] - before[2] - 1) / idle_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--modes", nargs="*", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    os.environ["TASKS_BACKEND"] = "database"
    setup_django()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path="bench.worker_task.nothing").delete()
    print(f"{'worker':<42} {'wait ms: median':>15} {'p95':>7} {'max':>7} {'idle: worker CPU %':>19} "
          f"{'PG CPU %':>9} {'commits/s':>10}")
    for name in args.modes:
        r = measure(name, MODES[name], args.tasks, args.idle_seconds)
        print(f"{r['name']:<42} {r['median']:>15.1f} {r['p95']:>7.1f} {r['max']:>7.1f} {r['worker_cpu']:>19.2f} "
              f"{r['postgres_cpu']:>9.2f} {r['commits']:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
