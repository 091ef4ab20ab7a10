"""The model-in-the-loop settings through the API: retraining after every N reviewed articles and
"label next: least sure first" (the Model page's form, service and roles: reviewers and admins) and
the suggesters' switches (the admin site's, through `suggester_settings_update`: admins only)."""

import pytest

from annotator.suggestions.models import SuggesterSettings, Suggestion, enabled_sources
from annotator.suggestions.services import suggester_settings_update
from annotator.suggestions.tasks import suggestions_compute_project
from annotator.training.models import TrainingSettings
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

ALL_ON = {"quotes": True, "speakers": True, "topics": True, "model": True}


@pytest.fixture
def project(admin_user):
    reviewer = UserFactory(username="reviewer")
    return make_project(name="Assist", admin=admin_user, reviewer=reviewer, analyst=UserFactory(username="ana"))


@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_the_model_page_settings_are_read_and_set_by_its_staff(client, project, bearer, role):
    url = f"/api/v1/projects/{project.id}/training-settings"
    headers = bearer(project.memberships.get(role=role).user)
    # No row yet: trained only when started, next article by id.
    assert client.get(url, headers=headers).json() == {"retrain_every": 0, "prefer_uncertain": False}
    wanted = {"retrain_every": 25, "prefer_uncertain": True}
    response = client.put(url, wanted, content_type="application/json", headers=headers)
    assert response.status_code == 200, response.content
    assert response.json() == wanted
    saved = TrainingSettings.objects.get(project=project)
    assert (saved.retrain_every, saved.prefer_uncertain) == (25, True)
    assert client.get(url, headers=headers).json() == wanted
    # A later change of one keeps what the body says of the other.
    client.put(url, {"retrain_every": 5, "prefer_uncertain": True}, content_type="application/json", headers=headers)
    saved.refresh_from_db()
    assert (saved.retrain_every, saved.prefer_uncertain) == (5, True)


@pytest.mark.parametrize("value", [-1, 2**31])
def test_a_number_the_page_refuses_is_a_422_naming_the_field(client, project, admin_user, bearer, value):
    response = client.put(f"/api/v1/projects/{project.id}/training-settings",
                          {"retrain_every": value, "prefer_uncertain": False},
                          content_type="application/json", headers=bearer(admin_user))
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["retrain_every"]
    assert not TrainingSettings.objects.exists()


def test_a_body_without_the_field_is_a_422_naming_it(client, project, admin_user, bearer):
    response = client.put(f"/api/v1/projects/{project.id}/training-settings", {"retrain": 3},
                          content_type="application/json", headers=bearer(admin_user))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "retrain_every" in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(("role", "paths"), [
    ("reviewer", ["suggesters"]),  # the admin site's switches
    ("ana", ["training-settings", "suggesters"]),
])
def test_who_may_not_is_refused_and_nothing_changes(client, project, bearer, role, paths):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=role)
    payloads = {"training-settings": {"retrain_every": 3, "prefer_uncertain": True},
                "suggesters": {**ALL_ON, "quotes": False}}
    for path in paths:
        payload = payloads[path]
        url = f"/api/v1/projects/{project.id}/{path}"
        assert client.get(url, headers=bearer(user)).status_code == 403
        response = client.put(url, payload, content_type="application/json", headers=bearer(user))
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
    assert not TrainingSettings.objects.exists() and not SuggesterSettings.objects.exists()


def test_a_read_only_token_reads_the_settings_but_cannot_change_them(client, project, admin_user, bearer):
    headers = bearer(admin_user, read_only=True)
    assert client.get(f"/api/v1/projects/{project.id}/suggesters", headers=headers).json() == ALL_ON
    response = client.put(f"/api/v1/projects/{project.id}/suggesters", {**ALL_ON, "topics": False},
                          content_type="application/json", headers=headers)
    assert response.status_code in (401, 403)
    assert not SuggesterSettings.objects.exists()


def test_suggesters_are_turned_off_and_on_and_the_articles_computed_again(
    client, project, admin_user, bearer, django_capture_on_commit_callbacks
):
    url = f"/api/v1/projects/{project.id}/suggesters"
    headers = bearer(admin_user)
    assert client.get(url, headers=headers).json() == ALL_ON  # no row: every suggester on
    with django_capture_on_commit_callbacks() as queued:
        response = client.put(url, {**ALL_ON, "quotes": False, "model": False}, content_type="application/json",
                              headers=headers)
    assert response.status_code == 200, response.content
    assert response.json() == {**ALL_ON, "quotes": False, "model": False}
    assert len(queued) == 1  # the project's articles, once this committed
    assert enabled_sources(project.id) == ["rules:speakers", "rules:topics"]
    assert client.get(url, headers=headers).json() == {**ALL_ON, "quotes": False, "model": False}
    with django_capture_on_commit_callbacks() as queued:  # the same switches again: nothing to compute
        assert client.put(url, {**ALL_ON, "quotes": False, "model": False}, content_type="application/json",
                          headers=headers).status_code == 200
    assert queued == []


def test_a_switch_missing_or_not_a_boolean_is_a_422(client, project, admin_user, bearer):
    url = f"/api/v1/projects/{project.id}/suggesters"
    for payload in ({"quotes": False}, {**ALL_ON, "topics": "sometimes"}):
        response = client.put(url, payload, content_type="application/json", headers=bearer(admin_user))
        assert response.status_code == 422, payload
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] in {"speakers", "topics"}
    assert not SuggesterSettings.objects.exists()


def test_turning_a_suggester_off_removes_its_rows_once_the_worker_ran(project, django_capture_on_commit_callbacks):
    ArticleFactory(project=project, text="Lavrov said “NATO is expanding” on Monday.")
    suggestions_compute_project.call(project.id)
    assert Suggestion.objects.filter(source="rules:quotes").exists()
    with django_capture_on_commit_callbacks(execute=True):
        suggester_settings_update(project=project, **{**ALL_ON, "quotes": False})
    assert not Suggestion.objects.filter(source="rules:quotes").exists()
