"""The model routes: the Model page's versions and its training start, for reviewers and admins,
through the same service and with the same refusals (as problem details, 409)."""

import pytest

from annotator.training.learn import MIN_ARTICLES
from annotator.training.models import ModelVersion
from tests.factories import UserFactory, make_project
from tests.training.conftest import reviewed_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(analyst, admin_user, settings, tmp_path):
    settings.ANNOTATOR_MODEL_ROOT = tmp_path / "models"
    reviewer = UserFactory(username="reviewer")
    return make_project(name="Models", analyst=analyst, reviewer=reviewer, admin=admin_user), reviewer


def test_versions_are_listed_with_status_scores_curve_and_counts(client, setup, bearer):
    project, reviewer = setup
    scores = {"topics": [{"label": "Syria", "precision": 1.0, "recall": 0.5, "f1": 0.67, "support": 2}],
              "stance": [], "topics_micro_f1": 0.67}
    curve = [{"size": 10, "f1": 0.4}, {"size": 20, "f1": 0.67}]
    ready = ModelVersion.objects.create(project=project, created_by=reviewer, status="ready", scores=scores, curve=curve,
                                        gold_count=25, train_count=20, test_count=5)
    failed = ModelVersion.objects.create(project=project, status="failed", error="It broke.")
    response = client.get(f"/api/v1/projects/{project.id}/models", headers=bearer(reviewer))
    assert response.status_code == 200
    listed = response.json()
    assert [v["id"] for v in listed] == [failed.id, ready.id]  # newest first
    assert listed[0]["status"] == "failed" and listed[0]["error"] == "It broke." and listed[0]["current"] is False
    assert listed[1] | {"created_at": None} == listed[1] | {
        "id": ready.id, "status": "ready", "error": "", "current": True, "created_by": "reviewer", "created_at": None,
        "started_at": None, "finished_at": None, "progress_done": 0, "progress_total": 0, "gold_count": 25,
        "train_count": 20, "test_count": 5, "scores": scores, "curve": curve,
    }
    detail = client.get(f"/api/v1/projects/{project.id}/models/{ready.id}", headers=bearer(reviewer)).json()
    assert detail == listed[1]


def test_too_few_reviewed_articles_is_refused_with_409(client, setup, bearer):
    project, reviewer = setup
    reviewed_corpus(project, reviewer, MIN_ARTICLES - 1)
    response = client.post(f"/api/v1/projects/{project.id}/models", headers=bearer(reviewer))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert f"at least {MIN_ARTICLES} reviewed articles" in response.json()["detail"]
    assert not ModelVersion.objects.exists()


def test_training_starts_with_202_once_and_a_second_start_is_refused(client, setup, admin_user, bearer,
                                                                      django_capture_on_commit_callbacks):
    project, reviewer = setup
    reviewed_corpus(project, reviewer, MIN_ARTICLES)
    with django_capture_on_commit_callbacks() as queued:  # the task is enqueued once this commits
        response = client.post(f"/api/v1/projects/{project.id}/models", headers=bearer(admin_user))
    assert response.status_code == 202, response.content
    version = ModelVersion.objects.get()
    assert response.json()["id"] == version.id and response.json()["status"] == "queued"
    assert response.json()["created_by"] == "projectadmin" and response.json()["gold_count"] == MIN_ARTICLES
    assert len(queued) == 1
    again = client.post(f"/api/v1/projects/{project.id}/models", headers=bearer(reviewer))
    assert again.status_code == 409 and "already being trained" in again.json()["detail"]
    assert ModelVersion.objects.count() == 1


def test_a_read_only_token_cannot_start_training(client, setup, bearer):
    project, reviewer = setup
    reviewed_corpus(project, reviewer, MIN_ARTICLES)
    response = client.post(f"/api/v1/projects/{project.id}/models", headers=bearer(reviewer, read_only=True))
    assert response.status_code == 403
    assert not ModelVersion.objects.exists()
