"""Training end to end in a real `run_worker` process: the page enqueues, the worker trains, then
computes the new model's suggestions for the project's articles."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from annotator.suggestions.models import Suggestion
from annotator.training.models import ModelVersion
from tests.datasets.test_worker import database_backend, database_url  # noqa: F401 (a fixture)
from tests.factories import ArticleFactory

from .conftest import reviewed_corpus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_real_worker_trains_and_suggests(client, database_backend, project, reviewer, tmp_path,  # noqa: F811
                                           model_root):
    from django_tasks_db.models import DBTaskResult

    reviewed_corpus(project, reviewer, 40)
    waiting = ArticleFactory(project=project, text="Vostrak officials said the council met.")
    client.force_login(reviewer)
    assert client.post(reverse("model_train_start", args=[project.id])).status_code == 302
    version = ModelVersion.objects.get()
    [queued] = DBTaskResult.objects.all()
    assert (queued.task_path, queued.args_kwargs["args"]) == ("annotator.training.tasks.model_train", [str(version.id)])
    assert version.status == "queued"

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.datasets.worker_settings",
        "DATABASE_URL": database_url(),
        "ANNOTATOR_SNAPSHOT_ROOT": str(tmp_path),
        "ANNOTATOR_MODEL_ROOT": str(model_root),
        "CONN_MAX_AGE": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        cwd=django_settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and worker.poll() is None:
            tasks = list(DBTaskResult.objects.values_list("task_path", "status"))
            if len(tasks) > 1 and all(status in ("SUCCESSFUL", "FAILED") for _, status in tasks):
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
    assert sorted(DBTaskResult.objects.values_list("task_path", "status")) == [
        ("annotator.training.tasks.model_suggest_articles", "SUCCESSFUL"),
        ("annotator.training.tasks.model_train", "SUCCESSFUL"),
    ], output
    version.refresh_from_db()
    assert version.status == "ready" and (model_root / version.artifact).is_file()
    assert version.heartbeat_at is not None and version.progress_done == version.progress_total > 0
    [suggestion] = Suggestion.objects.filter(source=version.source)
    assert (suggestion.article_id, suggestion.topic.name) == (waiting.id, "Armenia")
