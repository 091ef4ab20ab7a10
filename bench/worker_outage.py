"""Benchmark 7: the task worker through a PostgreSQL restart (issue 17).

    python -m bench.worker_outage --articles 300 --snapshots 6 --outage-seconds 30

A PostgreSQL cluster of the benchmark's own (initdb in a temporary folder, its own port, as in
tests/reliability/cluster.py; the system's server is never touched) holds a project of
`--articles` gold-annotated articles and `--snapshots` snapshots asked for (JSONL and CSV).
`manage.py run_worker` starts building them; while the first is under way the cluster is stopped
(`pg_ctl stop -m fast`: every connection ends), stays down `--outage-seconds`, and is started
again. `--worker db_worker` runs django-tasks-db's own worker instead, for comparison.
Reported: the seconds from the cluster's start to the worker's next heartbeat on a build
(time to resume). Then, with every snapshot done and the worker idle, the same outage again,
and one more snapshot asked once the cluster is back. Reported: how many snapshots end ready,
failed, or are never built (lost; must be 0).
"""

import argparse
import sys
import time

from bench.common import ROOT

sys.path.insert(0, str(ROOT))

from tests.reliability import processes  # noqa: E402
from tests.reliability.cluster import PrivateCluster, postgres_bin  # noqa: E402

SETUP = """
from annotator.datasets.services import snapshot_create
from tests.datasets.helpers import annotate, article, parameters
from tests.factories import UserFactory, make_project

admin = UserFactory(username="admin")
project = make_project(admin=admin)
for n in range({articles}):
    item = article(project, f"Lavrov spoke to envoy number {{n}} about the grain deal, clause {{n * 7}}. " * 20)
    annotate(item, admin, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
for _ in range({snapshots}):
    snapshot_create(project=project, user=admin, parameters=parameters(formats=["jsonl", "csv"]))
"""

ASK = """
from django.contrib.auth import get_user_model
from annotator.datasets.services import snapshot_create
from annotator.projects.models import Project
from tests.datasets.helpers import parameters

snapshot_create(project=Project.objects.get(), user=get_user_model().objects.get(username="admin"),
                parameters=parameters(formats=["jsonl", "csv"]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--snapshots", type=int, default=6)
    parser.add_argument("--outage-seconds", type=float, default=30)
    parser.add_argument("--worker", choices=["run_worker", "db_worker"], default="run_worker",
                        help="db_worker: django-tasks-db's own, for comparison")
    args = parser.parse_args()

    cluster = PrivateCluster(postgres_bin())
    worker = None
    try:
        cluster.init()
        cluster.start()
        with cluster.connect("postgres") as connection:
            connection.execute("CREATE DATABASE annotator")
        env = processes.process_env(database_url=cluster.url(), snapshot_root=cluster.base / "snapshots")
        processes.manage(env, "migrate", "--noinput", "--verbosity", "0")
        processes.manage(env, "shell", "--no-imports", "-c", SETUP.format(**vars(args)), timeout=1800)

        def rows():
            with cluster.connect() as connection:
                return connection.execute(
                    "SELECT status, progress_done, heartbeat_at FROM datasets_snapshot ORDER BY created_at"
                ).fetchall()

        worker = processes.Process(
            [sys.executable, "manage.py", args.worker, "--no-startup-delay", "--no-reload"],
            env, cluster.base / "worker.log",
        )
        while not any(status == "running" and done > 0 for status, done, _ in rows()):
            assert worker.alive(), worker.output()
            time.sleep(0.05)
        cluster.stop()
        time.sleep(args.outage_seconds)
        alive_through_outage = worker.alive()
        cluster.start()
        with cluster.connect() as connection:
            started = connection.execute("SELECT now()").fetchone()[0]
        resumed = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            current = rows()
            if resumed is None:
                beats = [beat for _, _, beat in current if beat is not None and beat > started]
                if beats:
                    resumed = (min(beats) - started).total_seconds()
            if all(status in ("ready", "failed") for status, _, _ in current) or not worker.alive():
                break
            time.sleep(0.05)
        # Then the same outage while the worker waits for work, and one more snapshot asked after it.
        cluster.stop()
        time.sleep(args.outage_seconds)
        cluster.start()
        processes.manage(env, "shell", "--no-imports", "-c", ASK)
        deadline = time.monotonic() + 120
        while rows()[-1][0] not in ("ready", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = [status for status, _, _ in rows()]
        print(f"{args.worker}, outage {args.outage_seconds:g} s: worker alive through it: {alive_through_outage}, "
              f"alive at the end: {worker.alive()}; "
              + (f"resumed {resumed:.2f} s after the database came back" if resumed is not None else "never resumed"))
        print(f"snapshots (the last asked after the idle outage): {len(statuses)} asked, {statuses.count('ready')} ready, {statuses.count('failed')} failed, "
              f"{len(statuses) - statuses.count('ready') - statuses.count('failed')} lost")
    finally:
        if worker is not None:
            worker.stop()
        cluster.remove()


if __name__ == "__main__":
    main()
