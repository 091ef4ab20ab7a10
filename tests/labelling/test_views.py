import re
import uuid
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotator.labelling import services
from annotator.labelling.models import Annotation, Relation, Span, Stance
from annotator.projects.models import Membership, SpanLabel, Topic
from tests.factories import ArticleFactory, UserFactory, make_project

from .helpers import mark

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
QUOTE = "the West is trying to pull Armenia away"


@pytest.fixture
def w(project, quote_article, analyst, labels, relation_types):
    """The analyst's work on one article: a quote and a claim, both linked to a source."""
    quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
    claim = mark(quote_article, analyst, labels["Claim"], "repeated the claim")
    source = mark(quote_article, analyst, labels["Source"], "Lavrov")
    speaker = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
    return SimpleNamespace(
        project=project, article=quote_article, quote=quote, claim=claim, source=source, speaker=speaker,
        labels=labels, types=relation_types, annotation=quote.annotation,
        page=reverse("label_article", args=[project.id, quote_article.id]),
    )


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def url(name, w, *extra):
    if name == "next_article":
        return reverse(name, args=[w.project.id])
    return reverse(name, args=[w.project.id, w.article.id, *extra])


def routes(w):
    """Every labelling URL with a request that would succeed for the analyst who owns the work."""
    west = w.project.stance_targets.get(name="the West")
    critical = w.project.stance_values.get(name="critical")
    armenia = w.project.topics.get(name="Armenia")
    start = w.article.text.index("ministry")
    return {
        "label_article": ("get", url("label_article", w), {}),
        "next_article": ("get", url("next_article", w), {}),
        "span_create": ("post", url("span_create", w), {
            "label": w.labels["Claim"].id, "start": start, "end": start + 8, "text": "ministry",
            "client_id": str(uuid.uuid4()),
        }),
        "span_edit": ("get", url("span_edit", w, w.quote.id), {}),
        "text_window": ("get", url("text_window", w), {"start": 0}),
        "span_list_more": ("get", url("span_list_more", w), {"start": 0, "end": 1, "id": 0}),
        "span_update": ("post", url("span_update", w, w.quote.id), {
            "label": w.labels["Quote"].id, "attr-speaker": "Lavrov",
        }),
        "span_delete": ("post", url("span_delete", w, w.quote.id), {}),
        "relation_create": ("post", url("relation_create", w), {
            "type": w.types["source"].id, "source": w.claim.id, "target": w.source.id,
        }),
        "relation_delete": ("post", url("relation_delete", w, w.speaker.id), {}),
        "document_labels": ("post", url("document_labels", w), {
            "topics": [armenia.id], f"stance-{west.id}": critical.id,
        }),
        "article_submit": ("post", url("article_submit", w), {}),
        "article_skip": ("post", url("article_skip", w), {"reason": "Not about foreign policy"}),
    }


ROUTE_NAMES = [
    "label_article", "next_article", "span_create", "span_edit", "span_update", "span_delete",
    "relation_create", "relation_delete", "document_labels", "article_submit", "article_skip",
    "text_window", "span_list_more",
]
POST_ONLY = ["span_create", "span_update", "span_delete", "relation_create", "relation_delete",
             "document_labels", "article_submit", "article_skip"]
GET_ONLY = ["label_article", "next_article", "span_edit", "text_window", "span_list_more"]


def request(client, route, htmx=False, **overrides):
    method, path, data = route
    data = {**data, **overrides}
    return getattr(client, method)(path, data, headers=HTMX if htmx else {})


def db_state():
    return (
        list(Span.objects.order_by("id").values_list("id", "label_id", "start", "end", "text", "attributes")),
        list(Relation.objects.order_by("id").values_list("id", "type_id", "source_id", "target_id")),
        list(Annotation.objects.order_by("id").values_list("id", "status", "submitted_at")),
        list(Stance.objects.order_by("id").values_list("id", "target_id", "value_id")),
        list(Annotation.topics.through.objects.order_by("id").values_list("annotation_id", "topic_id")),
    )


def body(response):
    return response.content.decode()


def mark_tag(span, editing=False, track=0):
    return (
        f'<mark class="span label-{span.label_id} track-{track}{" editing" if editing else ""}" '
        f'data-span="{span.id}" title="{escape(span.label.name)}">'
    )


def para_tag(start, end, oob=False):
    return f'<p id="para-{start}" dir="auto" data-start="{start}" data-end="{end}"{" hx-swap-oob=\"true\"" if oob else ""}>'


def swapped_paragraphs(content):
    """The paragraphs an answer swaps in out of band, by start."""
    return {int(m[1]): m[0] for m in re.finditer(r'<p id="para-(\d+)"[^>]* hx-swap-oob="true">.*?</p>', content)}


def assert_change_answer(content, response, annotation):
    """The htmx answer to one change: only pieces swapped out of band, never the whole text or
    list, from the version before the change to the version it made."""
    assert "<html" not in content and "<body" not in content
    assert 'id="article-text"' not in content and 'id="span-list"' not in content
    assert re.search(r'<section id="span-editor"[^>]* hx-swap-oob="true">', content)
    version = Annotation.objects.get(pk=annotation.pk).version
    assert (response["X-Annotation-Base"], response["X-Annotation-Version"]) == (str(version - 1), str(version))


def test_route_list_covers_every_labelling_url():
    from annotator.labelling.urls import urlpatterns

    assert sorted(p.name for p in urlpatterns) == sorted(ROUTE_NAMES)


class TestLabelArticle:
    def test_full_page(self, analyst_client, w):
        response = analyst_client.get(w.page)
        assert response.status_code == 200
        content = body(response)
        assert "<html" in content and "</html>" in content
        version = Annotation.objects.get(pk=w.annotation.pk).version
        assert f'<div id="article-text" class="article-text" lang="en" data-version="{version}" tabindex="-1">' in content
        assert "hx-swap-oob" not in content
        # The text, in paragraphs carrying their code-point ranges, with the analyst's spans as marks.
        assert para_tag(0, 54) in content
        assert para_tag(55, 87) in content
        assert mark_tag(w.quote, track=0) + "the West is trying to pull Armenia away</mark>" in content
        assert mark_tag(w.source) + "Lavrov</mark>" in content
        assert mark_tag(w.claim) + "repeated the claim</mark>" in content
        assert "Your spans (<span id=\"span-count\">3</span>)" in content
        for span in (w.quote, w.claim, w.source):
            assert f'<li id="span-{span.id}">' in content
            assert f'<button type="button" class="chip label-{span.label_id}" aria-label="Edit {span.label.name}:' in content
        for label in w.labels.values():
            assert f'data-label="{label.id}" data-hotkey="{label.hotkey}"><bdi>{label.name}</bdi> <kbd>' in content
        assert f'data-create-url="{url("span_create", w)}"' in content
        assert "0 of 1</strong> articles submitted" in content
        assert "this article: in progress" in content
        assert f'action="{url("document_labels", w)}"' in content
        assert f'action="{url("article_submit", w)}"' in content
        assert content.count('name="topics"') == 6
        assert "Click a highlight" in content  # nothing is being edited

    def test_htmx_request_gets_the_page(self, analyst_client, w):
        response = analyst_client.get(w.page, headers=HTMX)
        assert response.status_code == 200
        content = body(response)
        assert 'id="article-text"' in content
        assert mark_tag(w.quote) + QUOTE + "</mark>" in content
        assert "Your spans (<span id=\"span-count\">3</span>)" in content

    def test_before_any_work_the_page_has_no_marks(self, analyst_client, project, article):
        response = analyst_client.get(reverse("label_article", args=[project.id, article.id]))
        assert response.status_code == 200
        content = body(response)
        assert "<mark" not in content
        assert "Your spans (<span id=\"span-count\">0</span>)" in content and "No spans yet." in content
        assert "this article:" not in content
        assert 'data-version="1"' in content  # what a fresh annotation starts at
        assert Annotation.objects.count() == 0  # looking is not labelling

    def test_saved_topics_and_stance_are_shown(self, analyst_client, w):
        west = w.project.stance_targets.get(name="the West")
        critical = w.project.stance_values.get(name="critical")
        armenia = w.project.topics.get(name="Armenia")
        services.document_labels_set(annotation=w.annotation, topic_ids=[armenia.id], stances={west.id: critical.id})
        content = body(analyst_client.get(w.page))
        assert f'<input type="checkbox" name="topics" value="{armenia.id}" checked> Armenia' in content
        assert f'<option value="{critical.id}" selected>critical</option>' in content
        assert content.count(" checked>") == 1 and content.count(" selected>") == 1

    def test_article_of_another_project_is_404(self, analyst_client, project, analyst):
        other = make_project(name="Other", analyst=analyst)
        elsewhere = ArticleFactory(project=other)
        assert analyst_client.get(reverse("label_article", args=[project.id, elsewhere.id])).status_code == 404
        assert analyst_client.get(reverse("label_article", args=[other.id, elsewhere.id])).status_code == 200

    def test_span_across_a_line_break_is_marked_in_both_paragraphs(self, analyst_client, w):
        crossing = mark(w.article, w.quote.annotation.annotator, w.labels["Claim"], "”.\nThe ministry")
        content = body(analyst_client.get(w.page))
        assert content.count(f'data-span="{crossing.id}"') == 2
        assert mark_tag(crossing) + "”.</mark></p>" in content
        assert para_tag(55, 87) + mark_tag(crossing) + "The ministry</mark>" in content

    def test_nested_spans_render_both_marks(self, analyst_client, w):
        inner = mark(w.article, w.quote.annotation.annotator, w.labels["Source"], "West")
        content = body(analyst_client.get(w.page))
        # The nested span has the higher track and is the outer element on the shared piece.
        assert mark_tag(inner, track=1) + mark_tag(w.quote, track=0) + "West</mark></mark>" in content
        assert mark_tag(w.quote) + "the </mark>" in content


class TestNextArticle:
    def test_redirects_to_the_first_unfinished_article(self, analyst_client, project, analyst):
        first, second = ArticleFactory(project=project), ArticleFactory(project=project)
        services.annotation_submit(annotation=services.annotation_get_or_create(article=first, annotator=analyst))
        for headers in ({}, HTMX):
            response = analyst_client.get(reverse("next_article", args=[project.id]), headers=headers)
            assert response.status_code == 302
            assert response["Location"] == reverse("label_article", args=[project.id, second.id])

    def test_all_done(self, analyst_client, project, analyst):
        only = ArticleFactory(project=project)
        services.annotation_submit(annotation=services.annotation_get_or_create(article=only, annotator=analyst))
        for headers in ({}, HTMX):
            response = analyst_client.get(reverse("next_article", args=[project.id]), headers=headers)
            assert response.status_code == 200
            assert "<h1>Nothing left for you</h1>" in body(response)
            assert escape(project.name) in body(response)


class TestSpanCreate:
    def test_htmx_saves_and_answers_with_the_workspace(self, analyst_client, w):
        route = routes(w)["span_create"]
        response = request(analyst_client, route, htmx=True)

        assert response.status_code == 201
        span = Span.objects.get(text="ministry")
        start = w.article.text.index("ministry")
        assert (span.start, span.end, span.label, span.annotation) == (start, start + 8, w.labels["Claim"], w.annotation)
        assert str(span.client_id) == route[2]["client_id"]
        content = body(response)
        assert_change_answer(content, response, w.annotation)
        # Only the paragraph the span is in, with the new span open for editing.
        paragraphs = swapped_paragraphs(content)
        assert list(paragraphs) == [55]
        assert paragraphs[55].startswith(para_tag(55, 87, oob=True))
        assert mark_tag(span, editing=True) + "ministry</mark>" in content
        assert content.count("<mark") == 2 and mark_tag(w.claim) + "repeated the claim</mark>" in content
        # The new list item goes before the next span in the list's order (the claim): labelling.js
        # puts it there from #span-changes (if the list has loaded that far).
        assert re.search(
            rf'<div hx-swap-oob="beforeend:#span-changes"><li id="span-{span.id}" data-change="add" '
            rf'data-before="{w.claim.id}">.*?</li></div>', content, re.S
        )
        assert content.count("<li id=") == 1
        # The list's count goes up by one on the page (it showed 3).
        assert '<div hx-swap-oob="beforeend:#span-changes"><span data-change="count" data-by="1"></span></div>' in content
        # The new span opens in the editor.
        assert f'action="{url("span_update", w, span.id)}"' in content
        assert f"Characters {start}–{start + 8}" in content
        assert 'id="attr-claimant" name="attr-claimant"' in content

    def test_plain_post_redirects_to_the_article(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_create"])
        assert Span.objects.filter(text="ministry").count() == 1
        assert response.status_code == 302
        assert response["Location"].startswith(w.page)

    def test_retry_with_the_same_client_id_makes_one_span(self, analyst_client, w):
        route = routes(w)["span_create"]
        first = request(analyst_client, route, htmx=True)
        again = request(analyst_client, route, htmx=True)
        assert (first.status_code, again.status_code) == (201, 201)
        assert Span.objects.filter(text="ministry").count() == 1

    def test_a_retry_answers_with_the_span_as_it_is_now_links_included(self, analyst_client, w):
        route = routes(w)["span_create"]
        request(analyst_client, route, htmx=True)
        span = Span.objects.get(text="ministry")
        link = services.relation_create(relation_type=w.types["source"], source=span, target=w.source)
        version = Annotation.objects.get(pk=w.annotation.pk).version

        again = request(analyst_client, route, htmx=True)
        assert again.status_code == 201
        assert (again["X-Annotation-Base"], again["X-Annotation-Version"]) == (str(version), str(version))
        content = body(again)
        assert re.search(rf'<section id="span-editor"[^>]* data-span="{span.id}"', content)
        assert f'action="{url("relation_delete", w, link.id)}"' in content

    def test_reused_client_id_for_another_span_is_422(self, analyst_client, w):
        route = routes(w)["span_create"]
        request(analyst_client, route, htmx=True)
        response = request(analyst_client, route, htmx=True, start=0, end=6, text="Lavrov")
        assert response.status_code == 422
        assert "already used" in body(response)
        assert Span.objects.count() == 4

    def test_mismatched_text_is_422_with_a_message(self, analyst_client, w):
        before = db_state()
        for headers in (True, False):
            response = request(analyst_client, routes(w)["span_create"], htmx=headers, text="ministrY")
            assert response.status_code == 422
            assert response["Content-Type"].startswith("text/plain")
            content = body(response)
            assert "does not match the article" in content and "Nothing was saved" in content
            assert "ministry" in content and "ministrY" in content
        assert db_state() == before

    def test_offsets_outside_the_text_are_422(self, analyst_client, w):
        before = db_state()
        length = len(w.article.text)
        for start, end in ((-1, 3), (5, 5), (7, 3), (length - 1, length + 1)):
            text = w.article.text[max(start, 0) : end]
            response = request(analyst_client, routes(w)["span_create"], htmx=True, start=start, end=end, text=text)
            assert response.status_code == 422, (start, end)
            assert "is not inside the article" in body(response)
        assert db_state() == before

    @pytest.mark.parametrize("missing", ["label", "start", "end", "text", "client_id"])
    def test_missing_field_is_400(self, analyst_client, w, missing):
        method, path, data = routes(w)["span_create"]
        before = db_state()
        del data[missing]
        response = analyst_client.post(path, data, headers=HTMX)
        assert response.status_code == 400
        assert db_state() == before

    @pytest.mark.parametrize(
        "field, value", [("start", "x"), ("end", "1.5"), ("label", "Claim"), ("client_id", "not-a-uuid"), ("start", "")]
    )
    def test_malformed_field_is_400(self, analyst_client, w, field, value):
        before = db_state()
        response = request(analyst_client, routes(w)["span_create"], htmx=True, **{field: value})
        assert response.status_code == 400
        assert db_state() == before

    def test_label_of_another_project_is_404(self, analyst_client, w):
        foreign = make_project(name="Other").span_labels.get(name="Claim")
        before = db_state()
        response = request(analyst_client, routes(w)["span_create"], htmx=True, label=foreign.id)
        assert response.status_code == 404
        assert db_state() == before

    def test_emoji_offsets_are_code_points(self, analyst_client, project, labels):
        article = ArticleFactory(project=project, text="👩\u200d👩\u200d👧 said x")
        path = reverse("span_create", args=[project.id, article.id])
        data = {"label": labels["Claim"].id, "text": "x", "client_id": str(uuid.uuid4())}
        # UTF-16 offsets, as a browser would count them, are refused.
        assert analyst_client.post(path, data | {"start": 14, "end": 15}, headers=HTMX).status_code == 422
        response = analyst_client.post(path, data | {"start": 11, "end": 12}, headers=HTMX)
        assert response.status_code == 201
        assert Span.objects.get().text == "x"
        assert "said " + mark_tag(Span.objects.get(), editing=True) + "x</mark>" in body(response)


class TestSpanEdit:
    def test_htmx_opens_the_editor(self, analyst_client, w):
        response = analyst_client.get(url("span_edit", w, w.quote.id), headers=HTMX)
        assert response.status_code == 200
        content = body(response)
        # Nothing changed: only the editor, which names the span the page marks as edited.
        assert "<html" not in content and "<mark" not in content and "<li id=" not in content
        assert re.search(rf'<section id="span-editor"[^>]* data-span="{w.quote.id}" hx-swap-oob="true">', content)
        assert "X-Annotation-Version" not in response
        assert f"Characters {w.quote.start}–{w.quote.end}" in content
        assert f'<option value="{w.labels["Quote"].id}" selected>Quote</option>' in content
        # The speaker link gives the speaker: shown, not typed (and not sent) again.
        assert ('<input type="text" id="attr-speaker" value="Lavrov" dir="auto" disabled '
                'aria-describedby="attr-speaker-hint">') in content
        assert 'name="attr-speaker"' not in content
        assert "Given by the speaker link; unlink it to type a speaker who is not named in the text." in content
        assert '<select id="attr-stance" name="attr-stance">' in content
        assert "<option>the West</option>" in content
        # The existing link, with a way to remove it, and a way to make another.
        assert "speaker → <span dir=\"auto\">Lavrov</span>" in content
        assert f'action="{url("relation_delete", w, w.speaker.id)}"' in content
        assert f'<input type="hidden" name="type" value="{w.types["speaker"].id}">' in content
        assert f'<option value="{w.source.id}">Lavrov</option>' in content
        assert f'action="{url("span_delete", w, w.quote.id)}"' in content

    def test_plain_get_redirects_to_the_span_on_the_page(self, analyst_client, w):
        response = analyst_client.get(url("span_edit", w, w.quote.id))
        assert response.status_code == 302
        assert response["Location"] == f"{w.page}#span-{w.quote.id}"

    def test_unknown_span_is_404(self, analyst_client, w):
        for headers in ({}, HTMX):
            assert analyst_client.get(url("span_edit", w, 987654), headers=headers).status_code == 404

    def test_span_of_another_article_is_404(self, analyst_client, w, analyst):
        elsewhere = ArticleFactory(project=w.project, text="Lavrov again.")
        theirs = mark(elsewhere, analyst, w.labels["Source"], "Lavrov")
        assert analyst_client.get(url("span_edit", w, theirs.id), headers=HTMX).status_code == 404


class TestSpanUpdate:
    def test_htmx_saves_and_answers_with_the_workspace(self, analyst_client, w):
        services.relation_delete(relation=Relation.objects.get(pk=w.speaker.pk))  # no speaker link: the speaker is typed
        response = request(
            analyst_client, routes(w)["span_update"], htmx=True,
            **{"attr-speaker": "Sergei <Lavrov>", "attr-stance": "critical", "attr-bogus": "x"},
        )
        assert response.status_code == 200
        w.quote.refresh_from_db()
        assert w.quote.attributes == {"speaker": "Sergei <Lavrov>", "stance": "critical"}
        content = body(response)
        assert_change_answer(content, response, w.annotation)
        assert 'value="Sergei &lt;Lavrov&gt;"' in content
        assert "<option selected>critical</option>" in content
        assert mark_tag(w.quote, editing=True) in content
        assert list(swapped_paragraphs(content)) == [0]  # the quote's paragraph, not the other one
        assert re.search(rf'<li id="span-{w.quote.id}" data-change="replace">', content)

    def test_a_typed_speaker_is_not_kept_beside_a_speaker_link(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_update"], htmx=True,
                           **{"attr-speaker": "Sergei Lavrov", "attr-stance": "critical"})
        assert response.status_code == 200
        w.quote.refresh_from_db()
        assert w.quote.attributes == {"stance": "critical"}
        assert 'id="attr-speaker" value="Lavrov" dir="auto" disabled' in body(response)

    def test_plain_post_redirects(self, analyst_client, w):
        services.relation_delete(relation=Relation.objects.get(pk=w.speaker.pk))
        response = request(analyst_client, routes(w)["span_update"])
        assert response.status_code == 302
        assert response["Location"] == w.page
        w.quote.refresh_from_db()
        assert w.quote.attributes == {"speaker": "Lavrov"}

    def test_label_change_drops_links_it_cannot_keep(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_update"], htmx=True, label=w.labels["Claim"].id)
        assert response.status_code == 200
        w.quote.refresh_from_db()
        assert w.quote.label == w.labels["Claim"]
        assert w.quote.attributes == {}  # speaker is not a claim's attribute
        assert Relation.objects.count() == 0
        content = body(response)
        assert mark_tag(w.quote, editing=True) in content
        assert re.search(rf'<li id="span-{w.quote.id}" data-change="replace">\s*<button type="button" class="chip label-{w.labels["Claim"].id}"', content)

    def test_bad_stance_is_422(self, analyst_client, w):
        before = db_state()
        response = request(analyst_client, routes(w)["span_update"], htmx=True, **{"attr-stance": "furious"})
        assert response.status_code == 422
        assert "“furious” is not a valid stance." in body(response)
        assert db_state() == before

    def test_label_of_another_project_is_404(self, analyst_client, w):
        foreign = make_project(name="Other").span_labels.get(name="Claim")
        before = db_state()
        assert request(analyst_client, routes(w)["span_update"], htmx=True, label=foreign.id).status_code == 404
        assert db_state() == before

    @pytest.mark.parametrize("value", ["Claim", ""])
    def test_non_integer_label_is_400(self, analyst_client, w, value):
        analyst_client.raise_request_exception = False
        before = db_state()
        response = request(analyst_client, routes(w)["span_update"], htmx=True, label=value)
        assert response.status_code == 400
        assert db_state() == before


class TestSpanDelete:
    def test_htmx_deletes_and_answers_with_the_workspace(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_delete"], htmx=True)
        assert response.status_code == 200
        assert not Span.objects.filter(pk=w.quote.pk).exists()
        assert Relation.objects.count() == 0
        content = body(response)
        assert_change_answer(content, response, w.annotation)
        assert f'data-span="{w.quote.id}"' not in content
        assert list(swapped_paragraphs(content)) == [0]
        assert mark_tag(w.source) + "Lavrov</mark>" in content  # the paragraph's other span stays
        assert f'<div hx-swap-oob="beforeend:#span-changes"><li id="span-{w.quote.id}" data-change="remove"></li></div>' in content
        assert '<span data-change="count" data-by="-1"></span>' in content
        assert "Click a highlight" in content

    def test_plain_post_redirects(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_delete"])
        assert response.status_code == 302
        assert response["Location"] == w.page
        assert Span.objects.count() == 2

    def test_deleting_twice_is_404(self, analyst_client, w):
        request(analyst_client, routes(w)["span_delete"], htmx=True)
        assert request(analyst_client, routes(w)["span_delete"], htmx=True).status_code == 404


class TestRelationCreate:
    def test_htmx_links_and_answers_with_the_editor_of_the_source(self, analyst_client, w):
        response = request(analyst_client, routes(w)["relation_create"], htmx=True)
        assert response.status_code == 200
        relation = Relation.objects.get(type=w.types["source"])
        assert (relation.source, relation.target, relation.annotation) == (w.claim, w.source, w.annotation)
        content = body(response)
        assert_change_answer(content, response, w.annotation)
        assert "<mark" not in content and "<li id=" not in content  # the text and list do not change
        assert re.search(rf'<section id="span-editor"[^>]* data-span="{w.claim.id}"', content)
        assert 'source → <span dir="auto">Lavrov</span>' in content
        assert f'action="{url("relation_delete", w, relation.id)}"' in content

    def test_plain_post_redirects(self, analyst_client, w):
        response = request(analyst_client, routes(w)["relation_create"])
        assert response.status_code == 302
        assert response["Location"] == w.page
        assert Relation.objects.count() == 2

    def test_wrong_labels_are_422(self, analyst_client, w):
        before = db_state()
        response = request(
            analyst_client, routes(w)["relation_create"], htmx=True, type=w.types["speaker"].id, source=w.claim.id
        )
        assert response.status_code == 422
        assert "A “speaker” link goes from a Quote span to a Source span." in body(response)
        assert db_state() == before

    def test_self_link_is_refused(self, analyst_client, w):
        before = db_state()
        response = request(analyst_client, routes(w)["relation_create"], htmx=True, target=w.claim.id)
        assert response.status_code == 422
        assert db_state() == before

    @pytest.mark.parametrize("missing", ["type", "source", "target"])
    def test_missing_field_is_400(self, analyst_client, w, missing):
        method, path, data = routes(w)["relation_create"]
        del data[missing]
        before = db_state()
        assert analyst_client.post(path, data, headers=HTMX).status_code == 400
        assert db_state() == before

    @pytest.mark.parametrize("field", ["type", "source", "target"])
    def test_non_integer_field_is_400(self, analyst_client, w, field):
        before = db_state()
        assert request(analyst_client, routes(w)["relation_create"], htmx=True, **{field: "x"}).status_code == 400
        assert db_state() == before

    def test_relation_type_of_another_project_is_404(self, analyst_client, w):
        foreign = make_project(name="Other").relation_types.get(name="source")
        before = db_state()
        assert request(analyst_client, routes(w)["relation_create"], htmx=True, type=foreign.id).status_code == 404
        assert db_state() == before


class TestRelationDelete:
    def test_htmx_unlinks_and_answers_with_the_editor_of_the_source(self, analyst_client, w):
        response = request(analyst_client, routes(w)["relation_delete"], htmx=True)
        assert response.status_code == 200
        assert Relation.objects.count() == 0
        assert Span.objects.count() == 3
        content = body(response)
        assert_change_answer(content, response, w.annotation)
        assert "<mark" not in content and "<li id=" not in content
        assert re.search(rf'<section id="span-editor"[^>]* data-span="{w.quote.id}"', content)
        assert "speaker → " not in content

    def test_plain_post_redirects(self, analyst_client, w):
        response = request(analyst_client, routes(w)["relation_delete"])
        assert response.status_code == 302
        assert response["Location"] == w.page
        assert Relation.objects.count() == 0


class TestDocumentLabels:
    def test_htmx_saves_and_answers_with_the_status_line(self, analyst_client, w):
        response = request(analyst_client, routes(w)["document_labels"], htmx=True)
        assert response.status_code == 200
        content = body(response).strip()
        # The status line, and the state the form now stands on, swapped in out of band.
        token = services.state_token(services.labels_state(w.annotation))
        assert re.fullmatch(
            r'Saved at \d\d:\d\d:\d\d\.<input type="hidden" id="labels-seen" name="seen" value="'
            + token + '" hx-swap-oob="true">',
            content,
        )
        assert list(w.annotation.topics.values_list("name", flat=True)) == ["Armenia"]
        assert dict(w.annotation.stances.values_list("target__name", "value__name")) == {"the West": "critical"}

    def test_plain_post_redirects(self, analyst_client, w):
        response = request(analyst_client, routes(w)["document_labels"])
        assert response.status_code == 302
        assert response["Location"] == w.page
        assert w.annotation.topics.count() == 1

    def test_empty_stance_clears_it_and_no_topics_clears_them(self, analyst_client, w):
        west = w.project.stance_targets.get(name="the West")
        request(analyst_client, routes(w)["document_labels"], htmx=True)
        method, path, _ = routes(w)["document_labels"]
        response = analyst_client.post(path, {f"stance-{west.id}": ""}, headers=HTMX)
        assert response.status_code == 200
        assert w.annotation.topics.count() == 0
        assert Stance.objects.count() == 0

    def test_first_labels_create_the_annotation(self, analyst_client, project, article):
        armenia = project.topics.get(name="Armenia")
        path = reverse("document_labels", args=[project.id, article.id])
        assert analyst_client.post(path, {"topics": [armenia.id]}, headers=HTMX).status_code == 200
        annotation = Annotation.objects.get()
        assert annotation.article == article and annotation.status == "in_progress"
        assert list(annotation.topics.all()) == [armenia]

    @pytest.mark.parametrize("data", [{"topics": "x"}, {"stance-x": "1"}, {"stance-1": "x"}])
    def test_non_integer_ids_are_400(self, analyst_client, w, data):
        method, path, _ = routes(w)["document_labels"]
        before = db_state()
        assert analyst_client.post(path, data, headers=HTMX).status_code == 400
        assert db_state() == before

    def test_topic_of_another_project_is_422(self, analyst_client, w):
        foreign = Topic.objects.get(project=make_project(name="Other"), name="Armenia")
        before = db_state()
        response = request(analyst_client, routes(w)["document_labels"], htmx=True, topics=[foreign.id])
        assert response.status_code == 422
        assert "Unknown topic." in body(response)
        assert db_state() == before

    def test_refused_labels_on_a_fresh_article_leave_nothing_behind(self, analyst_client, project, article):
        foreign = Topic.objects.get(project=make_project(name="Other"), name="Armenia")
        path = reverse("document_labels", args=[project.id, article.id])
        response = analyst_client.post(path, {"topics": [foreign.id]}, headers=HTMX)
        assert response.status_code == 422
        assert Annotation.objects.count() == 0


class TestArticleSubmit:
    def test_htmx_submits_and_sends_the_browser_to_the_next_article(self, analyst_client, w):
        following = ArticleFactory(project=w.project)
        response = request(analyst_client, routes(w)["article_submit"], htmx=True)
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("label_article", args=[w.project.id, following.id])
        w.annotation.refresh_from_db()
        assert w.annotation.status == "submitted" and w.annotation.submitted_at is not None

    def test_plain_post_redirects_to_the_next_article(self, analyst_client, w):
        following = ArticleFactory(project=w.project)
        response = request(analyst_client, routes(w)["article_submit"])
        assert response.status_code == 302
        assert response["Location"] == reverse("label_article", args=[w.project.id, following.id])
        assert Annotation.objects.get(pk=w.annotation.pk).status == "submitted"

    def test_last_article_goes_to_all_done(self, analyst_client, w):
        for headers in (True, False):
            response = request(analyst_client, routes(w)["article_submit"], htmx=headers)
            target = response["HX-Redirect"] if headers else response["Location"]
            assert target == reverse("next_article", args=[w.project.id])

    def test_submitting_an_untouched_article(self, analyst_client, project, article):
        response = analyst_client.post(reverse("article_submit", args=[project.id, article.id]), headers=HTMX)
        assert response.status_code == 200
        assert Annotation.objects.get().status == "submitted"
        assert analyst_client.get(reverse("label_article", args=[project.id, article.id])).status_code == 200
        assert "1 of 1</strong> articles submitted" in body(
            analyst_client.get(reverse("label_article", args=[project.id, article.id]))
        )


class TestPermissions:
    @pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_non_member_gets_404_and_changes_nothing(self, client, other_user, w, name, htmx):
        client.force_login(other_user)
        before = db_state()
        response = request(client, routes(w)[name], htmx=htmx)
        assert response.status_code == 404
        assert db_state() == before

    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_anonymous_plain_request_is_sent_to_log_in(self, client, w, name):
        before = db_state()
        route = routes(w)[name]
        response = request(client, route)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        assert db_state() == before

    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_anonymous_htmx_request_is_401(self, client, w, name):
        before = db_state()
        response = request(client, routes(w)[name], htmx=True)
        assert response.status_code == 401
        assert "session has expired" in body(response)
        assert db_state() == before

    @pytest.mark.parametrize("name", POST_ONLY)
    def test_get_on_a_post_only_url_is_405(self, analyst_client, w, name):
        before = db_state()
        path = routes(w)[name][1]
        for headers in ({}, HTMX):
            assert analyst_client.get(path, headers=headers).status_code == 405
        assert db_state() == before

    @pytest.mark.parametrize("name", GET_ONLY)
    def test_post_on_a_get_only_url_is_405(self, analyst_client, w, name):
        path = routes(w)[name][1]
        for headers in ({}, HTMX):
            assert analyst_client.post(path, headers=headers).status_code == 405

    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_other_analyst_in_the_project_may_use_every_url(self, client, w, second_analyst, name):
        # The requests that touch someone else's span are covered below; here, the URL itself opens.
        client.force_login(second_analyst)
        response = request(client, routes(w)[name], htmx=True)
        if name in ("span_edit", "span_update", "span_delete", "relation_create", "relation_delete"):
            assert response.status_code == 404
        else:
            assert response.status_code in (200, 201, 302)

    def test_project_admin_may_label(self, client, admin_user, w):
        w.project.overlap = 2  # the analyst holds the article's one slot otherwise
        w.project.save(update_fields=["overlap"])
        client.force_login(admin_user)
        assert client.get(w.page).status_code == 200
        assert request(client, routes(w)["span_create"], htmx=True).status_code == 201
        assert Span.objects.get(text="ministry").annotation.annotator == admin_user


class TestBlindLabelling:
    @pytest.fixture
    def theirs(self, w, second_analyst):
        span = mark(w.article, second_analyst, w.labels["Claim"], "pull Armenia")
        other_source = mark(w.article, second_analyst, w.labels["Source"], "ministry")
        quote = mark(w.article, second_analyst, w.labels["Quote"], "Lavrov said")
        relation = services.relation_create(relation_type=w.types["speaker"], source=quote, target=other_source)
        return SimpleNamespace(claim=span, source=other_source, quote=quote, relation=relation)

    def test_page_shows_only_the_users_own_spans(self, analyst_client, client, w, theirs, second_analyst):
        content = body(analyst_client.get(w.page))
        assert "Your spans (<span id=\"span-count\">3</span>)" in content
        for span in (theirs.claim, theirs.source, theirs.quote):
            assert f'data-span="{span.id}"' not in content
            assert f'id="span-{span.id}"' not in content
        assert content.count("<mark ") == 3

        client.force_login(second_analyst)
        content = body(client.get(w.page))
        assert "Your spans (<span id=\"span-count\">3</span>)" in content
        for span in (w.quote, w.claim, w.source):
            assert f'data-span="{span.id}"' not in content
        assert f'data-span="{theirs.claim.id}"' in content

    def test_cannot_open_another_analysts_span(self, analyst_client, w, theirs):
        for headers in ({}, HTMX):
            assert analyst_client.get(url("span_edit", w, theirs.claim.id), headers=headers).status_code == 404

    def test_cannot_update_another_analysts_span(self, analyst_client, w, theirs):
        before = db_state()
        for htmx in (False, True):
            response = analyst_client.post(
                url("span_update", w, theirs.claim.id), {"label": w.labels["Quote"].id, "attr-speaker": "x"},
                headers=HTMX if htmx else {},
            )
            assert response.status_code == 404
        assert db_state() == before

    def test_cannot_delete_another_analysts_span(self, analyst_client, w, theirs):
        before = db_state()
        for htmx in (False, True):
            response = analyst_client.post(url("span_delete", w, theirs.claim.id), headers=HTMX if htmx else {})
            assert response.status_code == 404
        assert db_state() == before

    def test_cannot_link_to_or_from_another_analysts_span(self, analyst_client, w, theirs):
        before = db_state()
        path = url("relation_create", w)
        for data in (
            {"type": w.types["speaker"].id, "source": w.quote.id, "target": theirs.source.id},
            {"type": w.types["speaker"].id, "source": theirs.quote.id, "target": w.source.id},
        ):
            assert analyst_client.post(path, data, headers=HTMX).status_code == 404
        assert db_state() == before

    def test_cannot_delete_another_analysts_relation(self, analyst_client, w, theirs):
        before = db_state()
        response = analyst_client.post(url("relation_delete", w, theirs.relation.id), headers=HTMX)
        assert response.status_code == 404
        assert db_state() == before

    def test_another_analysts_work_does_not_show_in_the_editor(self, analyst_client, w, theirs):
        content = body(analyst_client.get(url("span_edit", w, w.quote.id), headers=HTMX))
        assert f'<option value="{theirs.source.id}">' not in content
        assert f'<option value="{w.source.id}">Lavrov</option>' in content


class TestEscaping:
    EVIL_TEXT = 'Before <script>alert(1)</script> and {{ 7*7 }} {% now "Y" %} & "quotes".\nSecond <b>line</b>.'

    @pytest.fixture
    def evil(self, project):
        article = ArticleFactory(project=project, title="<script>alert(2)</script> {{ 7*7 }}", text=self.EVIL_TEXT,
                                 source="<i>src</i>")
        label = SpanLabel.objects.create(project=project, name='<img src=x onerror=alert(3)>"', colour="#000000",
                                         hotkey="x")
        return SimpleNamespace(article=article, label=label,
                               page=reverse("label_article", args=[project.id, article.id]))

    def assert_safe(self, content):
        assert "<script>alert" not in content
        assert "<img src=x" not in content
        assert "<b>line</b>" not in content and "<i>src</i>" not in content

    def test_article_text_and_label_names_are_escaped_on_the_page(self, analyst_client, evil):
        content = body(analyst_client.get(evil.page))
        self.assert_safe(content)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
        assert "{{ 7*7 }}" in content and '{% now &quot;Y&quot; %}' in content
        assert "&amp; &quot;quotes&quot;." in content
        assert "Second &lt;b&gt;line&lt;/b&gt;." in content
        assert "&lt;script&gt;alert(2)&lt;/script&gt; {{ 7*7 }}</h1>" in content
        assert "&lt;img src=x onerror=alert(3)&gt;&quot;</bdi> <kbd>x</kbd></button>" in content

    def test_fragments_escape_text_label_and_attributes(self, analyst_client, project, evil):
        phrase = "<script>alert(1)</script>"
        start = evil.article.text.index(phrase)
        response = analyst_client.post(
            reverse("span_create", args=[project.id, evil.article.id]),
            {"label": evil.label.id, "start": start, "end": start + len(phrase), "text": phrase,
             "client_id": str(uuid.uuid4())},
            headers=HTMX,
        )
        assert response.status_code == 201
        span = Span.objects.get()
        assert span.text == phrase
        content = body(response)
        self.assert_safe(content)
        assert 'title="&lt;img src=x onerror=alert(3)&gt;&quot;">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in content
        assert "<blockquote" in content and "&lt;script&gt;alert(1)&lt;/script&gt;</blockquote>" in content

        quote = project.span_labels.get(name="Quote")
        response = analyst_client.post(
            reverse("span_update", args=[project.id, evil.article.id, span.id]),
            {"label": quote.id, "attr-speaker": '"><script>alert(4)</script>'},
            headers=HTMX,
        )
        assert response.status_code == 200
        content = body(response)
        assert "<script>alert" not in content
        assert 'value="&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"' in content

    def test_rejected_text_is_answered_as_plain_text(self, analyst_client, project, evil):
        response = analyst_client.post(
            reverse("span_create", args=[project.id, evil.article.id]),
            {"label": evil.label.id, "start": 0, "end": 6, "text": "<script>x", "client_id": str(uuid.uuid4())},
            headers=HTMX,
        )
        assert response.status_code == 422
        assert response["Content-Type"] == "text/plain; charset=utf-8"


class TestDeletedMeanwhile:
    """A change to a span or link that another tab deleted: a 404 that says so, as text for htmx."""

    @pytest.mark.parametrize("name", ["span_edit", "span_update", "span_delete", "relation_create"])
    def test_a_deleted_span_is_a_404_that_says_what_happened(self, analyst_client, w, name):
        services.span_delete(span=Span.objects.get(pk=w.quote.pk))
        route = routes(w)[name]
        if name == "relation_create":
            route = (route[0], route[1], {"type": w.types["speaker"].id, "source": w.quote.id, "target": w.source.id})
        response = request(analyst_client, route, htmx=True)
        assert response.status_code == 404
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode().startswith("This span no longer exists: it was deleted, perhaps in another tab.")
        assert request(analyst_client, route).status_code == 404

    def test_a_removed_link_is_a_404_that_says_what_happened(self, analyst_client, w):
        route = routes(w)["relation_delete"]
        services.relation_delete(relation=w.speaker)
        response = request(analyst_client, route, htmx=True)
        assert response.status_code == 404
        assert response.content.decode().startswith("This link no longer exists")

    def test_saves_name_the_state_they_left(self, analyst_client, w):
        response = request(analyst_client, routes(w)["span_update"], htmx=True)
        assert response.status_code == 200
        assert response["X-Seen"] == services.state_token(services.span_state(Span.objects.get(pk=w.quote.pk)))
        response = request(analyst_client, routes(w)["document_labels"], htmx=True)
        assert response["X-Seen"] == services.state_token(services.labels_state(Annotation.objects.get(pk=w.annotation.pk)))
