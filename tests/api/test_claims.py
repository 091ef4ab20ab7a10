"""The API takes an article's slots (the project's overlap, k) as the labelling page does, through
the same service: a first write to an article k analysts hold is refused with 409, saving nothing."""

import uuid

import pytest
from django.urls import reverse

from annotator.labelling.assignment import assignment_next
from annotator.labelling.models import Annotation, Change, Span
from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

TEXT = "Lavrov said “NATO is expanding” on Monday."


@pytest.fixture
def taken(bearer):
    """An article whose one slot (k = 1) the first analyst took through *Label next article*."""
    first, late = UserFactory(username="first"), UserFactory(username="late")
    project = make_project(name="Claims", analyst=[first, late])
    article = ArticleFactory(project=project, text=TEXT)
    assert assignment_next(project=project, user=first) == article
    return project, article, first, late


def span_body(phrase="Lavrov", label="Source"):
    start = TEXT.index(phrase)
    return {"label": label, "start": start, "end": start + len(phrase), "text": phrase, "client_id": str(uuid.uuid4())}


def test_a_span_on_a_full_article_is_refused_with_409_naming_the_reason(client, taken, bearer):
    project, article, _, late = taken
    response = client.post(f"/api/v1/projects/{project.id}/articles/{article.id}/spans", span_body(),
                           content_type="application/json", headers=bearer(late))
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 409 and body["title"] == "Conflict"
    assert "already has 1 analyst" in body["detail"] and "Nothing was saved" in body["detail"]
    assert body["errors"] == [{"field": None, "code": "full", "message": body["detail"]}]
    assert not Annotation.objects.filter(annotator=late).exists()
    assert not Span.objects.exists() and not Change.objects.exists()


def test_topics_and_stance_on_a_full_article_are_refused_the_same_way(client, taken, bearer):
    project, article, _, late = taken
    response = client.put(f"/api/v1/projects/{project.id}/articles/{article.id}/labels", {"topics": []},
                          content_type="application/json", headers=bearer(late))
    assert response.status_code == 409, response.content
    assert response.json()["errors"][0]["code"] == "full"
    assert not Annotation.objects.filter(annotator=late).exists()


def test_the_analyst_holding_it_keeps_writing_and_a_new_one_gets_in_when_k_grows(client, taken, bearer):
    project, article, first, late = taken
    url = f"/api/v1/projects/{project.id}/articles/{article.id}/spans"
    assert client.post(url, span_body(), content_type="application/json", headers=bearer(first)).status_code == 201
    project.overlap = 2
    project.save(update_fields=["overlap"])
    assert client.post(url, span_body(), content_type="application/json", headers=bearer(late)).status_code == 201
    assert Annotation.objects.filter(article=article).count() == 2
    # A third analyst is refused again: both slots are held.
    third = UserFactory(username="third")
    Membership.objects.create(project=project, user=third, role=Membership.Role.ANALYST)
    assert client.post(url, span_body(), content_type="application/json", headers=bearer(third)).status_code == 409


def test_a_slot_taken_through_the_api_fills_the_article_for_the_page(client, bearer):
    """One claim for both ways in: the API's first span takes the slot the page then refuses."""
    api_analyst, page_analyst = UserFactory(username="scripted"), UserFactory(username="clicker")
    project = make_project(name="Both", analyst=[api_analyst, page_analyst])
    article = ArticleFactory(project=project, text=TEXT)
    response = client.post(f"/api/v1/projects/{project.id}/articles/{article.id}/spans", span_body(),
                           content_type="application/json", headers=bearer(api_analyst))
    assert response.status_code == 201, response.content

    client.force_login(page_analyst)
    start = TEXT.index("Lavrov")
    response = client.post(
        reverse("span_create", args=[project.id, article.id]),
        {"label": project.span_labels.get(name="Source").id, "start": start, "end": start + 6, "text": "Lavrov",
         "client_id": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422 and "already has 1 analyst" in response.text
    assert list(Annotation.objects.values_list("annotator__username", flat=True)) == ["scripted"]
