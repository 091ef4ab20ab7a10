"""The task worker through PostgreSQL restarts (issue 17, "the worker survives").

`manage.py run_worker` runs against a private PostgreSQL cluster (tests/reliability/cluster.py)
that the test stops and starts again. `db_worker` exits on the first failed query; this worker
waits for the database and carries on. Nothing is lost: the snapshot being built when the
database went away is built again from nothing, the one queued behind it is built after, and a
snapshot asked for after a restart of an idle worker is built too.
"""

import sys
import time

import pytest

from . import processes

ARTICLES = 12
STEP_SECONDS = 0.2  # per record and pass: a build takes about 5 s

SETUP = """
from tests.datasets.helpers import annotate, article
from tests.factories import UserFactory, make_project

admin = UserFactory(username="admin")
project = make_project(admin=admin)
for n in range({articles}):
    item = article(project, f"Lavrov spoke to envoy number {{n}} about the grain deal, clause {{n * 7}}.")
    annotate(item, admin, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
print(project.id)
"""

ASK = """
from django.contrib.auth import get_user_model
from annotator.datasets.services import snapshot_create
from annotator.projects.models import Project
from tests.datasets.helpers import parameters

snapshot = snapshot_create(
    project=Project.objects.get(pk={project}), user=get_user_model().objects.get(username="admin"),
    parameters=parameters(formats=["jsonl", "csv"]),
)
print(snapshot.id)
"""


def snapshot_row(cluster, snapshot_id) -> tuple[str, int]:
    with cluster.connect() as connection:
        return connection.execute(
            "SELECT status, progress_done FROM datasets_snapshot WHERE id = %s", [snapshot_id]
        ).fetchone()


def task_statuses(cluster) -> list[str]:
    with cluster.connect() as connection:
        return sorted(row[0] for row in connection.execute("SELECT status FROM django_tasks_database_dbtaskresult"))


def wait_for(predicate, what, worker, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.alive(), f"the worker exited while waiting for {what}:\n{worker.output()}"
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{worker.output()}")


@pytest.fixture
def env(cluster, tmp_path):
    env = processes.process_env(
        database_url=cluster.url(), snapshot_root=tmp_path / "snapshots", ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5"
    )
    processes.manage(env, "migrate", "--noinput", "--verbosity", "0")
    return env


def test_worker_outlives_database_restarts_and_loses_no_snapshot(cluster, env, tmp_path):
    project = processes.manage(env, "shell", "--no-imports", "-c", SETUP.format(articles=ARTICLES)).strip()

    def ask() -> str:
        return processes.manage(env, "shell", "--no-imports", "-c", ASK.format(project=project)).strip()

    building, queued = ask(), ask()  # the worker takes them in this order
    worker = processes.worker(env, tmp_path / "worker.log", slow_step=STEP_SECONDS)
    try:
        wait_for(lambda: snapshot_row(cluster, building)[1] >= 3, "the build to be under way", worker)
        assert snapshot_row(cluster, building)[0] == "running"
        assert snapshot_row(cluster, queued)[0] == "queued"

        # A restart mid-build: every connection is ended and none is accepted for a while.
        cluster.stop()
        time.sleep(3)
        assert worker.alive(), worker.output()
        cluster.start()
        wait_for(lambda: snapshot_row(cluster, queued)[0] == "ready", "the queued snapshot", worker)
        assert snapshot_row(cluster, building)[0] == "ready", worker.output()
        assert "building again once it answers" in worker.output()

        # A restart while the worker waits for work, then a new snapshot.
        cluster.stop()
        time.sleep(2)
        cluster.start()
        later = ask()
        wait_for(lambda: snapshot_row(cluster, later)[0] == "ready", "the snapshot asked after", worker)
        assert task_statuses(cluster) == ["SUCCESSFUL"] * 3
    finally:
        worker.stop()
    for snapshot_id in (building, queued, later):
        names = {p.name for p in (tmp_path / "snapshots" / project / snapshot_id).iterdir()}
        assert {"README.md", "train.jsonl", "train.csv"} <= names, names


def test_idle_worker_is_woken_by_a_new_task_not_by_its_next_look(cluster, env, tmp_path):
    """On PostgreSQL enqueueing NOTIFYs the workers: one that looks at the queue only every
    300 s still starts a new snapshot at once (this waits at most 60 s)."""
    project = processes.manage(env, "shell", "--no-imports", "-c", SETUP.format(articles=2)).strip()
    worker = processes.Process(
        [sys.executable, "manage.py", "run_worker", "--interval", "300", "--no-startup-delay", "--no-reload"],
        env, tmp_path / "worker.log",
    )
    try:
        for _ in range(2):  # the second is asked while the worker waits, long after its one look
            asked = processes.manage(env, "shell", "--no-imports", "-c", ASK.format(project=project)).strip()
            wait_for(lambda: snapshot_row(cluster, asked)[0] == "ready", "the snapshot", worker)
    finally:
        worker.stop()
