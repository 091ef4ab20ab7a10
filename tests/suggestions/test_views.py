"""The labelling page's suggestions: shown (full page), decided through the page's own answers (htmx and
plain), and never shown where they must not be (read-only, turned off, decided)."""

import pytest
from django.urls import reverse

from annotator.labelling.models import Annotation, Span
from annotator.suggestions.models import SuggesterSettings, Suggestion, SuggestionDecision

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def page_url(article):
    return reverse("label_article", args=[article.project_id, article.id])


def decide_url(name, suggestion):
    return reverse(name, args=[suggestion.article.project_id, suggestion.article_id, suggestion.id])


def test_the_page_lists_suggestions_and_marks_suggested_topics(analyst_client, suggested):
    html = analyst_client.get(page_url(suggested)).content.decode()
    assert 'Suggestions (<span id="suggestion-count">8</span>)' in html
    for s in Suggestion.objects.filter(article=suggested).exclude(kind="relation"):
        assert f'id="suggestion-{s.id}"' in html
    quote = Suggestion.objects.get(article=suggested, text="We are ready to talk with the West")
    assert f'data-start="{quote.start}" data-end="{quote.end}"' in html
    assert "said by Foreign Minister Sergei Lavrov" in html  # the suggested link, for screen readers too
    assert '<span class="suggested-tag">suggested</span>' in html and "suggestions.js" in html
    assert "Accept every suggestion on this article" in html  # the help lists the keys


def test_accepting_a_span_answers_with_the_change_and_drops_the_item(analyst_client, suggested, analyst):
    quote = Suggestion.objects.get(article=suggested, text="Nobody listens to us anymore.")
    response = analyst_client.post(decide_url("suggestion_accept", quote), headers=HTMX)
    assert response.status_code == 201
    span = Span.objects.get(annotation__annotator=analyst)
    assert (span.text, span.suggested_by) == (quote.text, "rules:quotes")
    body = response.content.decode()
    assert f'<li id="suggestion-{quote.id}" hx-swap-oob="delete">' in body
    assert f'data-span="{span.id}"' in body and "Accepted the suggested Quote" in body
    assert response["X-Annotation-Base"] == "1" and int(response["X-Annotation-Version"]) > 1
    # The page no longer offers it.
    assert f'id="suggestion-{quote.id}"' not in analyst_client.get(page_url(suggested)).content.decode()


def test_accepting_a_topic_answers_with_the_topics_form(analyst_client, suggested, analyst):
    topic = Suggestion.objects.get(article=suggested, kind="topic")
    response = analyst_client.post(decide_url("suggestion_accept", topic), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="topics-fieldset"' in body and 'id="labels-seen"' in body
    assert f'value="{topic.topic_id}" checked' in body
    assert response["X-Seen"]


def test_rejecting_without_htmx_redirects_to_the_page(analyst_client, suggested, analyst):
    tass = Suggestion.objects.get(article=suggested, text="TASS")
    response = analyst_client.post(decide_url("suggestion_reject", tass))
    assert response.status_code == 302 and response["Location"] == page_url(suggested)
    assert SuggestionDecision.objects.get().decision == "rejected"
    response = analyst_client.post(decide_url("suggestion_reject", tass), headers=HTMX)
    assert f'<li id="suggestion-{tass.id}" hx-swap-oob="delete">' in response.content.decode()


def test_accept_all_makes_the_page_reload_its_text(analyst_client, suggested, analyst):
    url = reverse("suggestions_accept_all", args=[suggested.project_id, suggested.id])
    response = analyst_client.post(url, headers=HTMX)
    assert response.status_code == 200 and response["X-Annotation-Base"] == "reload"
    body = response.content.decode()
    assert "Accepted 8 suggestions." in body and "No suggestions to decide" in body
    assert Span.objects.filter(annotation__annotator=analyst).count() == 7


def test_a_suggestion_gone_is_a_404_that_says_so(analyst_client, suggested):
    quote = Suggestion.objects.filter(article=suggested, kind="span").first()
    url = decide_url("suggestion_accept", quote)
    quote.delete()
    response = analyst_client.post(url, headers=HTMX)
    assert response.status_code == 404 and "computed again" in response.content.decode()


def test_a_hand_made_span_over_a_suggestion_decides_it(analyst_client, suggested, analyst, project):
    speaker = Suggestion.objects.get(article=suggested, text="Foreign Minister Sergei Lavrov")
    start = speaker.start + len("Foreign Minister ")
    label = project.span_labels.get(name="Source")
    response = analyst_client.post(
        reverse("span_create", args=[project.id, suggested.id]),
        {"label": label.id, "start": start, "end": speaker.end, "text": suggested.text[start:speaker.end],
         "client_id": "8a0b8a0b-0000-4000-8000-000000000001"}, headers=HTMX,
    )
    assert response.status_code == 201
    assert f'<li id="suggestion-{speaker.id}" hx-swap-oob="delete">' in response.content.decode()
    assert SuggestionDecision.objects.get().decision == "corrected"
    assert Span.objects.get().suggested_by == "rules:speakers"


def test_ticking_a_suggested_topic_accepts_it(analyst_client, suggested, project):
    topic = Suggestion.objects.get(article=suggested, kind="topic")
    analyst_client.post(reverse("document_labels", args=[project.id, suggested.id]), {"topics": [topic.topic_id]},
                        headers=HTMX)
    assert SuggestionDecision.objects.get().decision == "accepted"


def test_no_suggestions_when_turned_off_or_read_only(analyst_client, suggested, admin_user):
    SuggesterSettings.objects.create(project=suggested.project, quotes=False, speakers=False, topics=False)
    html = analyst_client.get(page_url(suggested)).content.decode()
    assert "No suggestions to decide" in html and 'class="suggestion"' not in html
    SuggesterSettings.objects.filter(project=suggested.project).update(quotes=True)
    Annotation.objects.create(article=suggested, annotator=admin_user, kind="gold", status="submitted")
    html = analyst_client.get(page_url(suggested)).content.decode()
    assert 'id="suggestions"' not in html


def test_the_admin_edits_keywords_and_suggesters_and_the_suggestions_follow(
    client, suggested, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    html = client.get(reverse("admin:projects_project_change", args=[suggested.project_id])).content.decode()
    assert 'name="topics-0-keywords"' in html and 'name="suggesters-0-quotes"' in html
    other = suggested.project.topics.get(name="Other")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:projects_topic_change", args=[other.id]), {
            "project": suggested.project_id, "name": "Other", "order": other.order, "keywords": "talks, TASS"})
    assert response.status_code == 302
    # Computed again by the task (the immediate backend runs it at once).
    assert set(Suggestion.objects.filter(article=suggested, kind="topic").values_list("topic__name", flat=True)) == {
        "Armenia", "Other"}



def test_the_agreement_page_counts_each_suggester_s_decisions(client, suggested, analyst, admin_user):
    from annotator.labelling import services as labelling
    from annotator.suggestions import services

    annotation = labelling.annotation_get_or_create(article=suggested, annotator=analyst)
    get = lambda text: Suggestion.objects.get(article=suggested, text=text)  # noqa: E731
    services.suggestion_accept(annotation=annotation, suggestion=get("Lavrov"), actor=analyst)
    services.suggestion_reject(annotation=annotation, suggestion=get("TASS"))
    services.suggestion_accept(annotation=annotation, suggestion=get("Nobody listens to us anymore."), actor=analyst)
    client.force_login(admin_user)  # the project's admin
    url = reverse("project_agreement", args=[suggested.project_id])
    # Counted on submitted annotations only, as every figure on the page.
    assert "No analyst has decided a suggestion" in client.get(url).content.decode()
    labelling.annotation_submit(annotation=annotation)
    for response in (client.get(url), client.get(url, headers=HTMX)):
        html = response.content.decode()
        assert '<th scope="row"><code>rules:speakers</code></th>\n            <td>1</td><td>0</td><td>1</td>' in html
        assert "<code>rules:quotes</code></th>\n            <td>1</td><td>0</td><td>0</td>" in html


def test_the_suggestion_keys_are_capitals_so_every_label_key_stays_free(project):
    from annotator.projects.models import RESERVED_HOTKEYS, SpanLabel

    assert {"A", "X", "Y"} <= RESERVED_HOTKEYS.keys()
    for key in "axy":
        SpanLabel(project=project, name=f"Label {key}", colour="#123456", hotkey=key).full_clean()
