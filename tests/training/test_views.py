"""The Model page: full page and htmx answers, and only the project's admins and reviewers."""

import re

import pytest
from django.urls import reverse

from annotator.training.models import ModelVersion, TrainingSettings

from .conftest import reviewed_corpus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def url(name, project, *args):
    return reverse(name, args=[project.id, *args])


@pytest.fixture
def ready(project, reviewer, django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 40)
    from annotator.training.services import model_training_start

    with django_capture_on_commit_callbacks(execute=True):
        version = model_training_start(project=project, user=reviewer)
    version.refresh_from_db()
    assert version.status == "ready"
    return version


def test_analysts_and_outsiders_are_refused(client, project, analyst, other_user, ready):
    for user in (analyst, other_user):
        client.force_login(user)
        assert client.get(url("model_page", project)).status_code in (403, 404)
        assert client.post(url("model_train_start", project), headers=HTMX).status_code in (403, 404)
        assert client.get(url("model_version_detail", project, ready.id), headers=HTMX).status_code in (403, 404)
        assert client.post(url("training_settings_update", project), {"retrain_every": 3}).status_code in (403, 404)
    client.force_login(analyst)
    assert client.get(url("model_page", project)).status_code == 403
    assert ModelVersion.objects.count() == 1 and not TrainingSettings.objects.exists()


def test_the_page_shows_scores_and_the_curve_without_inline_styles(reviewer_client, project, ready):
    response = reviewer_client.get(url("model_page", project))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Train a new model" in html and f'id="model-{ready.id}"' in html and 'data-status="ready"' in html
    assert f"model:{ready.id}" in html  # the one suggesting now
    assert "Topics on the held-out articles" in html and "Stance toward <bdi>the West</bdi>" in html
    assert "<bdi>Armenia</bdi>" in html and "Topics, all together: F1 1.00." in html
    [points] = re.findall(r'<polyline class="curve-line" points="([^"]+)">', html)
    assert len(points.split()) == len(ready.curve) == 3  # 10, 25 and all 32 training articles
    assert " style=" not in html and "hx-trigger" not in html  # nothing to poll once ready
    # The project's page leads here.
    assert url("model_page", project) in reviewer_client.get(reverse("project_detail", args=[project.id])).content.decode()


def test_starting_training_with_htmx_answers_with_the_versions(reviewer_client, project, reviewer,
                                                                django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 12)
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not taken it yet
        response = reviewer_client.post(url("model_train_start", project), headers=HTMX)
    version = ModelVersion.objects.get()
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="model-versions">')
    assert "Waiting for a worker" in body and f'hx-get="{url("model_version_detail", project, version.id)}"' in body
    assert version.created_by == reviewer and version.status == "queued"

    # A second start while it waits is refused, and says why.
    response = reviewer_client.post(url("model_train_start", project), headers=HTMX)
    assert response.status_code == 409 and "already being trained" in response.content.decode()
    # The polled panel.
    response = reviewer_client.get(url("model_version_detail", project, version.id), headers=HTMX)
    assert response.content.decode().lstrip().startswith(f'<article id="model-{version.id}"')
    response = reviewer_client.get(url("model_version_detail", project, version.id))
    assert response.status_code == 302 and response["Location"].endswith(f"#model-{version.id}")


def test_starting_training_without_htmx_redirects(reviewer_client, project, reviewer):
    reviewed_corpus(project, reviewer, 12)
    response = reviewer_client.post(url("model_train_start", project))
    assert response.status_code == 302 and response["Location"] == url("model_page", project)
    assert ModelVersion.objects.count() == 1


def test_too_few_reviewed_articles_says_so(reviewer_client, project, reviewer):
    reviewed_corpus(project, reviewer, 3)
    response = reviewer_client.post(url("model_train_start", project))
    assert response.status_code == 409 and "this project has 3" in response.content.decode()
    assert not ModelVersion.objects.exists()


def test_the_retrain_setting(reviewer_client, project):
    response = reviewer_client.post(url("training_settings_update", project), {"retrain_every": 25}, headers=HTMX)
    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert TrainingSettings.objects.get(project=project).retrain_every == 25
    response = reviewer_client.post(url("training_settings_update", project), {"retrain_every": -1}, headers=HTMX)
    assert response.status_code == 400 and TrainingSettings.objects.get(project=project).retrain_every == 25
    response = reviewer_client.post(url("training_settings_update", project), {"retrain_every": 0})
    assert response.status_code == 302 and TrainingSettings.objects.get(project=project).retrain_every == 0
