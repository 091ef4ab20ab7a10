"""The background path end to end: the import page enqueues, a real `run_worker` process computes the
suggestions, and the labelling page (which computes nothing) then shows them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.corpus.models import Article
from annotator.suggestions.models import Suggestion
from tests.datasets.test_worker import database_backend, run_worker_until  # noqa: F401 (a fixture)

from .conftest import TEXT

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_imported_article_s_suggestions_are_computed_by_a_real_worker(
    client, database_backend, project, admin_user, analyst, tmp_path  # noqa: F811
):
    from django_tasks_db.models import DBTaskResult

    client.force_login(admin_user)
    response = client.post(reverse("article_import", args=[project.id]),
                           {"files": [SimpleUploadedFile("talks.txt", TEXT.encode())]})
    assert response.status_code == 200
    article = Article.objects.get()
    [queued] = DBTaskResult.objects.filter(task_path__startswith="annotator.suggestions")
    assert queued.task_path == "annotator.suggestions.tasks.suggestions_compute_articles"
    assert queued.args_kwargs["args"] == [[article.id]]
    # Nothing in this process computes them, and the page does not either.
    client.force_login(analyst)
    assert 'class="suggestion"' not in client.get(reverse("label_article", args=[project.id, article.id])).content.decode()
    assert not Suggestion.objects.exists()

    def computed():
        queued.refresh_from_db()
        return queued.status in ("SUCCESSFUL", "FAILED")

    output = run_worker_until(computed, ANNOTATOR_SNAPSHOT_ROOT=str(tmp_path))
    assert queued.status == "SUCCESSFUL", output
    assert Suggestion.objects.filter(article=article, kind="span").count() == 7
    html = client.get(reverse("label_article", args=[project.id, article.id])).content.decode()
    assert 'Suggestions (<span id="suggestion-count">8</span>)' in html


def test_a_snapshot_asked_for_after_a_big_import_does_not_wait_for_its_suggestions(
    database_backend, project, admin_user, tmp_path  # noqa: F811
):
    """A 10k import queues minutes of suggestion tasks; the worker takes the snapshot asked for
    after them first (higher priority), and the suggestions after."""
    from django_tasks_db.models import DBTaskResult

    from annotator.corpus.services import article_import
    from annotator.datasets.services import snapshot_create
    from tests.datasets.helpers import parameters

    files = [(f"{n}.txt", f"{TEXT}\nItem {n}.".encode()) for n in range(3)]
    assert len(article_import(project=project, files=files).created) == 3
    snapshot = snapshot_create(project=project, user=admin_user, parameters=parameters(formats=["jsonl"]))
    queued = list(DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", flat=True))
    assert queued == ["annotator.suggestions.tasks.suggestions_compute_articles",
                      "annotator.datasets.services.articles_keep_tokens",
                      "annotator.datasets.services.snapshot_build"]

    def done():
        return not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()

    output = run_worker_until(done, ANNOTATOR_SNAPSHOT_ROOT=str(tmp_path))
    ran = list(DBTaskResult.objects.order_by("started_at").values_list("task_path", "status"))
    assert ran == [("annotator.datasets.services.snapshot_build", "SUCCESSFUL"),
                   ("annotator.datasets.services.articles_keep_tokens", "SUCCESSFUL"),
                   ("annotator.suggestions.tasks.suggestions_compute_articles", "SUCCESSFUL")], output
    snapshot.refresh_from_db()
    assert snapshot.status == "ready"
