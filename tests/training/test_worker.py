"""Training end to end in a real `run_worker` process: the page enqueues, the worker trains, then
computes the new model's suggestions for the project's articles."""

import pytest
from django.urls import reverse

from annotator.suggestions.models import Suggestion
from annotator.training.models import ArticleCertainty, ModelVersion
from tests.datasets.test_worker import database_backend, run_worker_until  # noqa: F401 (a fixture)
from tests.factories import ArticleFactory

from .conftest import quoted_corpus, reviewed_corpus

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

    def trained_and_suggested():
        tasks = list(DBTaskResult.objects.values_list("task_path", "status"))
        return len(tasks) > 1 and all(status in ("SUCCESSFUL", "FAILED") for _, status in tasks)

    output = run_worker_until(trained_and_suggested, timeout=180, ANNOTATOR_SNAPSHOT_ROOT=str(tmp_path),
                              ANNOTATOR_MODEL_ROOT=str(model_root))
    assert sorted(DBTaskResult.objects.values_list("task_path", "status")) == [
        ("annotator.training.tasks.model_suggest_articles", "SUCCESSFUL"),
        ("annotator.training.tasks.model_train", "SUCCESSFUL"),
    ], output
    version.refresh_from_db()
    assert version.status == "ready" and (model_root / version.artifact).is_file()
    assert version.heartbeat_at is not None and version.progress_done == version.progress_total > 0
    [suggestion] = Suggestion.objects.filter(source=version.source, kind="topic")
    assert (suggestion.article_id, suggestion.topic.name) == (waiting.id, "Armenia")
    [stance] = Suggestion.objects.filter(source=version.source, kind="stance")
    assert (stance.article_id, stance.target.name, stance.stance_value.name) == (waiting.id, "the West", "neutral")
    # And how sure it is, for the queue's "least sure first".
    assert ArticleCertainty.objects.get(article=waiting).version == version


def test_a_real_worker_trains_the_span_model_and_new_articles_get_its_spans(
        client, database_backend, project, reviewer, tmp_path, model_root):  # noqa: F811
    from django_tasks_db.models import DBTaskResult

    from annotator.corpus.services import article_import

    quoted_corpus(project, reviewer, 30)
    waiting = ArticleFactory(project=project, text="Officials said «the talks go on this week» in the capital.")
    client.force_login(reviewer)
    assert client.post(reverse("model_train_start", args=[project.id])).status_code == 302
    version = ModelVersion.objects.get()

    def all_finished():
        tasks = list(DBTaskResult.objects.values_list("status", flat=True))
        return len(tasks) > 1 and all(status in ("SUCCESSFUL", "FAILED") for status in tasks)

    env = {"ANNOTATOR_SNAPSHOT_ROOT": str(tmp_path), "ANNOTATOR_MODEL_ROOT": str(model_root)}
    output = run_worker_until(all_finished, timeout=180, **env)
    version.refresh_from_db()
    assert version.status == "ready", output
    assert {row["label"]: row["f1"] for row in version.scores["spans"]}["Quote"] == 1.0
    [suggestion] = Suggestion.objects.filter(source=version.source, kind="span")
    assert (suggestion.article_id, suggestion.text) == (waiting.id, "the talks go on this week")

    # An article imported afterwards: its import queues the suggestions task, which the worker runs.
    text = "The envoy said «no deal was reached on Friday» after the meeting."
    [new] = article_import(project=project, files=[("new.txt", text.encode())]).created
    output = run_worker_until(all_finished, timeout=120, **env)
    assert list(DBTaskResult.objects.filter(task_path__startswith="annotator.suggestions").values_list(
        "task_path", "status")) == [("annotator.suggestions.tasks.suggestions_compute_articles", "SUCCESSFUL")], output
    assert list(Suggestion.objects.filter(article=new, source=version.source).values_list("kind", "text")) == [
        ("span", "no deal was reached on Friday")]
