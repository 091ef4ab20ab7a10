"""The background path end to end: the export page enqueues, a real `run_worker` process builds."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from annotator.datasets.models import Snapshot

from .helpers import annotate, article

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_backend(settings):
    """django-tasks-db in this test database, unless the project already installs it."""
    installed = apps.is_installed("django_tasks_db")
    if not installed:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_tasks_db"]
    label = next(config.label for config in apps.get_app_configs() if config.name == "django_tasks_db")
    if not installed:
        call_command("migrate", label, verbosity=0)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    yield
    if not installed:
        # Its migrations cannot be reversed: drop the table, and forget them.
        from django_tasks_db.models import DBTaskResult

        with connection.schema_editor() as editor:
            editor.delete_model(DBTaskResult)
        MigrationRecorder(connection).migration_qs.filter(app=label).delete()


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def run_worker_until(done, *, timeout: float = 120, **env: str) -> str:
    """A real `manage.py run_worker` process on this test database (its environment plus `env`),
    stopped once `done()` is true, it exits, or `timeout` seconds pass; returns what it printed."""
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        cwd=django_settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.datasets.worker_settings", "DATABASE_URL": database_url(),
             "CONN_MAX_AGE": "0", **env},
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and worker.poll() is None and not done():
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    return output

def test_export_page_snapshot_is_built_by_a_real_worker(client, database_backend, project, admin_user, snapshot_root):
    from django_tasks_db.models import DBTaskResult

    for n in range(6):
        item = article(project, f"Lavrov spoke to envoy {n} about grain deal number {n * 3}.", language="en")
        annotate(item, admin_user, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("dataset_list", args=[project.id]),
        {"scope": "gold", "formats": ["jsonl", "parquet", "spacy"], "train": "60", "validation": "20", "test": "20",
         "seed": "5", "near_duplicate_threshold": "0.8"},
    )
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    # Enqueued once the request's transaction committed; nothing runs it in this process.
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "annotator.datasets.services.snapshot_build"
    assert queued.args_kwargs["args"] == [str(snapshot.id)]
    time.sleep(0.3)
    snapshot.refresh_from_db()
    assert snapshot.status == "queued"

    def built():
        snapshot.refresh_from_db()
        return snapshot.finished

    output = run_worker_until(built, ANNOTATOR_SNAPSHOT_ROOT=str(snapshot_root))
    snapshot.refresh_from_db()
    assert snapshot.status == "ready", (snapshot.error, output)
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL", output
    assert snapshot.counts["articles"] == 6
    names = set(snapshot.files.values_list("name", flat=True))
    assert {"README.md", "train.jsonl", "train.parquet", "train.spacy"} <= names
    for file in snapshot.files.all():
        assert (Path(snapshot_root) / file.path).stat().st_size == file.size

    download = client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "train.jsonl"]))
    assert download.status_code == 200
    assert b"Lavrov" in b"".join(download.streaming_content)
