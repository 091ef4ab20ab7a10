"""The suggestions routes: what the labelling page lists, decided through the same services, with
the API's claim (409 when full), `If-Match` (412 when stale) and `ETag` handling."""

import pytest

from annotator.labelling.models import Annotation, Span
from annotator.suggestions.models import Suggestion, SuggestionDecision
from annotator.suggestions.services import suggestions_compute, suggestions_pending
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

TEXT = "“We are ready to talk with the West,” said Foreign Minister Sergei Lavrov in Yerevan."


@pytest.fixture
def setup(analyst):
    project = make_project(name="Assist", analyst=[analyst])
    article = ArticleFactory(project=project, text=TEXT)
    suggestions_compute(article=article)
    return project, article


def base(project, article):
    return f"/api/v1/projects/{project.id}/articles/{article.id}/suggestions"


def quote(article):
    return article.suggestions.get(kind=Suggestion.Kind.SPAN, source="rules:quotes")


def test_the_list_is_the_pages_pending_suggestions(client, setup, analyst, bearer):
    project, article = setup
    response = client.get(base(project, article), headers=bearer(analyst))
    assert response.status_code == 200
    assert response["ETag"] == '"v1"'
    listed = response.json()
    assert [s["id"] for s in listed] == [s.id for s in suggestions_pending(article=article, annotation=None)]
    by_source = {s["source"]: s for s in listed}
    assert by_source["rules:quotes"]["label"] == "Quote"
    assert by_source["rules:quotes"]["text"] == "We are ready to talk with the West"
    assert by_source["rules:speakers"]["text"] == "Foreign Minister Sergei Lavrov"
    assert by_source["rules:quotes"]["speaker"] == by_source["rules:speakers"]["id"]


def test_accepting_a_span_makes_it_yours_with_its_provenance(client, setup, analyst, bearer):
    project, article = setup
    suggestion = quote(article)
    response = client.post(f"{base(project, article)}/{suggestion.id}/accept", headers=bearer(analyst))
    assert response.status_code == 200, response.content
    body = response.json()
    span = Span.objects.get(annotation__annotator=analyst)
    assert body["decision"] == "accepted" and body["span"]["id"] == span.id
    assert body["span"]["suggested_by"] == span.suggested_by == "rules:quotes"
    assert (span.start, span.end) == (suggestion.start, suggestion.end)
    assert response["ETag"] == f'"v{span.annotation.version}"' and body["version"] == span.annotation.version
    # The span output everywhere says where it came from; the suggestion is no longer offered.
    own = client.get(f"/api/v1/projects/{project.id}/articles/{article.id}/annotation", headers=bearer(analyst)).json()
    assert [s["suggested_by"] for s in own["spans"]] == ["rules:quotes"]
    listed = client.get(base(project, article), headers=bearer(analyst)).json()
    assert suggestion.id not in [s["id"] for s in listed]


def test_a_stale_if_match_is_refused_and_saves_nothing(client, setup, analyst, bearer):
    project, article = setup
    first = client.post(f"{base(project, article)}/{quote(article).id}/accept", headers=bearer(analyst) | {"If-Match": '"v1"'})
    assert first.status_code == 200 and first["ETag"] == '"v2"'
    speaker = article.suggestions.get(kind=Suggestion.Kind.SPAN, source="rules:speakers")
    response = client.post(f"{base(project, article)}/{speaker.id}/accept",
                           headers=bearer(analyst) | {"If-Match": '"v1"'})
    assert response.status_code == 412, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert list(Span.objects.values_list("suggested_by", flat=True)) == ["rules:quotes"]
    assert list(SuggestionDecision.objects.values_list("source", flat=True)) == ["rules:quotes"]


def test_rejecting_hides_it_and_counts_as_rejected(client, setup, analyst, bearer):
    project, article = setup
    suggestion = quote(article)
    response = client.post(f"{base(project, article)}/{suggestion.id}/reject", headers=bearer(analyst) | {"If-Match": '"v1"'})
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "rejected" and response.json()["span"] is None
    decision = SuggestionDecision.objects.get()
    assert (decision.suggestion_id, decision.decision, decision.annotation.annotator) == (suggestion.id, "rejected", analyst)
    listed = client.get(base(project, article), headers=bearer(analyst)).json()
    assert suggestion.id not in [s["id"] for s in listed] and listed


def test_accept_all_takes_every_pending_suggestion(client, setup, analyst, bearer):
    project, article = setup
    pending = suggestions_pending(article=article, annotation=None)
    response = client.post(f"{base(project, article)}/accept-all", headers=bearer(analyst))
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(pending) > 0
    assert Span.objects.filter(annotation__annotator=analyst).count() == len(
        [s for s in pending if s.kind == Suggestion.Kind.SPAN])
    assert client.get(base(project, article), headers=bearer(analyst)).json() == []


def test_another_analysts_decisions_do_not_change_my_list(client, setup, analyst, bearer):
    """Blind labelling: what one analyst accepted or rejected is never seen by another."""
    project, article = setup
    project.overlap = 2
    project.save(update_fields=["overlap"])
    other = UserFactory(username="other")
    project.memberships.create(user=other, role="analyst")
    before = client.get(base(project, article), headers=bearer(analyst)).json()
    assert client.post(f"{base(project, article)}/accept-all", headers=bearer(other)).status_code == 200
    assert client.get(base(project, article), headers=bearer(analyst)).json() == before


def test_a_full_article_is_refused_with_409_and_lists_nothing(client, setup, analyst, bearer):
    project, article = setup
    late = UserFactory(username="late")
    project.memberships.create(user=late, role="analyst")
    assert client.post(f"{base(project, article)}/{quote(article).id}/reject", headers=bearer(analyst)).status_code == 200
    for path in (f"{quote(article).id}/accept", f"{quote(article).id}/reject", "accept-all"):
        response = client.post(f"{base(project, article)}/{path}", headers=bearer(late))
        assert response.status_code == 409, (path, response.content)
        assert response.json()["errors"][0]["code"] == "full"
    assert not Annotation.objects.filter(annotator=late).exists()
    assert client.get(base(project, article), headers=bearer(late)).json() == []


def test_a_read_only_token_cannot_decide(client, setup, analyst, bearer):
    project, article = setup
    headers = bearer(analyst, read_only=True)
    assert client.get(base(project, article), headers=headers).status_code == 200
    response = client.post(f"{base(project, article)}/{quote(article).id}/accept", headers=headers)
    assert response.status_code == 403
    assert not Annotation.objects.exists() and not SuggestionDecision.objects.exists()


def test_a_suggestion_of_another_article_is_not_found(client, setup, analyst, bearer):
    project, article = setup
    other = ArticleFactory(project=project, text=TEXT + " Again.")
    suggestions_compute(article=other)
    response = client.post(f"{base(project, article)}/{quote(other).id}/accept", headers=bearer(analyst))
    assert response.status_code == 404
    assert not Annotation.objects.exists()
