import re
import uuid
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Change, Span
from annotator.projects.models import Membership
from annotator.review import services
from tests.factories import ArticleFactory, UserFactory, make_project

from .helpers import choose, gold_of, mark, submit

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
QUOTE = "the West is trying to pull Armenia away"


@pytest.fixture
def w(project, quote_article, analyst, second_analyst, labels, reviewer):
    """Two analysts' submitted, disagreeing work on one article, and an accepted gold span."""
    first = mark(quote_article, analyst, labels["Quote"], QUOTE, attributes={"speaker": "Lavrov"})
    second = mark(quote_article, second_analyst, labels["Quote"], "the West is trying")
    source = mark(quote_article, second_analyst, labels["Source"], "Lavrov")
    choose(quote_article, analyst, topics=["Armenia"], stances={"the West": "critical"})
    choose(quote_article, second_analyst, topics=["Ukraine"], stances={"the West": "critical"})
    submit(quote_article, analyst)
    submit(quote_article, second_analyst)
    gold_source = services.gold_span_accept(article=quote_article, reviewer=reviewer, span=source, expected_version=0)
    return SimpleNamespace(
        project=project, article=quote_article, first=first, second=second, source=source, gold_source=gold_source,
        labels=labels, version=2,
    )


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def url(name, w, *extra):
    if name == "review_queue":
        return reverse(name, args=[w.project.id])
    return reverse(name, args=[w.project.id, w.article.id, *extra])


def routes(w):
    """Every review URL with a request that succeeds for a reviewer."""
    start = w.article.text.index("ministry")
    armenia = w.project.topics.get(name="Armenia")
    return {
        "review_queue": ("get", url("review_queue", w), {}),
        "review_article": ("get", url("review_article", w), {}),
        "article_history": ("get", url("article_history", w), {}),
        "review_text_window": ("get", url("review_text_window", w), {"start": 0}),
        "review_groups_more": ("get", url("review_groups_more", w), {"after": 0}),
        "review_gold_more": ("get", url("review_gold_more", w), {"start": 0, "end": 1, "id": 0}),
        "review_accept": ("post", url("review_accept", w, w.first.id), {"version": w.version}),
        "review_reject": ("post", url("review_reject", w, w.second.id), {"version": w.version, "reason": "Too short"}),
        "review_span_add": ("post", url("review_span_add", w), {
            "label": w.labels["Source"].id, "start": start, "end": start + 8, "text": "ministry",
            "client_id": str(uuid.uuid4()), "version": w.version,
        }),
        "review_span_update": ("post", url("review_span_update", w, w.gold_source.id), {
            "label": w.labels["Quote"].id, "attr-speaker": "Lavrov", "version": w.version, "reason": "checked",
        }),
        "review_span_delete": ("post", url("review_span_delete", w, w.gold_source.id), {"version": w.version}),
        "review_labels": ("post", url("review_labels", w), {
            "topics": [armenia.id], "version": w.version, "reason": "Armenia is the subject",
        }),
        "review_done": ("post", url("review_done", w), {"version": w.version}),
    }


ROUTE_NAMES = [
    "review_queue", "review_article", "article_history", "review_text_window", "review_groups_more",
    "review_gold_more", "review_accept", "review_reject", "review_span_add",
    "review_span_update", "review_span_delete", "review_labels", "review_done",
]
POSTS = ROUTE_NAMES[6:]


def request(client, route, htmx=False, **overrides):
    method, path, data = route
    return getattr(client, method)(path, {**data, **overrides}, headers=HTMX if htmx else {})


def gold_state(article):
    gold = gold_of(article)
    return gold and (
        gold.version,
        gold.status,
        list(gold.spans.order_by("id").values_list("label_id", "start", "end", "attributes")),
        labelling.labels_state(gold), gold.changes.count(),
    )


def test_route_list_covers_every_review_url():
    from annotator.review import urls

    from .test_relations import RELATION_ROUTE_NAMES

    assert sorted(p.name for p in urls.urlpatterns) == sorted(ROUTE_NAMES + RELATION_ROUTE_NAMES)


class TestAccess:
    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_analyst_is_forbidden(self, client, w, analyst, name):
        client.force_login(analyst)
        before = gold_state(w.article)
        assert request(client, routes(w)[name]).status_code == 403
        assert request(client, routes(w)[name], htmx=True).status_code == 403
        assert gold_state(w.article) == before

    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_non_member_gets_404(self, client, w, other_user, name):
        client.force_login(other_user)
        before = gold_state(w.article)
        assert request(client, routes(w)[name]).status_code == 404
        assert gold_state(w.article) == before

    @pytest.mark.parametrize("name", ROUTE_NAMES)
    def test_anonymous_is_sent_to_log_in(self, client, w, name):
        response = request(client, routes(w)[name])
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert request(client, routes(w)[name], htmx=True).status_code == 401

    @pytest.mark.parametrize("name", ["review_queue", "review_article", "article_history", "review_accept"])
    def test_project_admin_may_review(self, client, w, admin_user, name):
        client.force_login(admin_user)
        assert request(client, routes(w)[name], htmx=True).status_code == 200

    @pytest.mark.parametrize("name", POSTS)
    def test_get_is_not_allowed_for_changes(self, reviewer_client, w, name):
        assert reviewer_client.get(routes(w)[name][1]).status_code == 405

    @pytest.mark.parametrize("name", [n for n in ROUTE_NAMES if n != "review_queue"])
    def test_article_of_another_project_is_404(self, reviewer_client, w, reviewer, name):
        # The reviewer reviews the other project too: only the URL's project decides.
        other = make_project(name="Other", reviewer=reviewer)
        foreign = ArticleFactory(project=other)
        method, path, data = routes(w)[name]
        tampered = path.replace(f"/{w.article.id}/", f"/{foreign.id}/", 1)
        assert tampered != path
        before = gold_state(w.article)
        assert getattr(reviewer_client, method)(tampered, data).status_code == 404
        assert gold_state(w.article) == before and gold_of(foreign) is None

    def test_reviewing_in_one_project_gives_no_access_to_another(self, reviewer_client, w, analyst):
        other = make_project(name="Other", analyst=analyst)
        foreign = ArticleFactory(project=other)
        assert reviewer_client.get(reverse("review_article", args=[other.id, foreign.id])).status_code == 404
        assert reviewer_client.get(reverse("review_queue", args=[other.id])).status_code == 404

    def test_span_of_another_article_is_404(self, reviewer_client, w, analyst, labels):
        elsewhere = ArticleFactory(project=w.project)
        span = mark(elsewhere, analyst, labels["Source"], "Lavrov")
        submit(elsewhere, analyst)
        response = reviewer_client.post(url("review_accept", w, span.id), {"version": w.version})
        assert response.status_code == 404
        response = reviewer_client.post(url("review_span_delete", w, w.first.id), {"version": w.version})
        assert response.status_code == 404, "an analyst's span is not a gold span"
        assert Span.objects.filter(pk=w.first.pk).exists()

    def test_unsubmitted_span_is_404(self, reviewer_client, w, labels):
        analyst3 = UserFactory(username="analyst3")
        Membership.objects.create(project=w.project, user=analyst3, role="analyst")
        draft = mark(w.article, analyst3, labels["Claim"], "repeated the claim")
        assert reviewer_client.post(url("review_accept", w, draft.id), {"version": w.version}).status_code == 404


class TestQueue:
    def test_full_page_lists_and_links(self, reviewer_client, w, project, analyst, labels):
        agreed = ArticleFactory(project=project, title="Agreed one")
        submit(agreed, analyst)
        response = reviewer_client.get(url("review_queue", w))
        content = response.content.decode()
        assert response.status_code == 200 and "<html" in content
        rows = re.findall(r'<a href="(/p/\d+/review/\d+/)" dir="auto">([^<]*)</a>', content)
        assert rows == [
            (url("review_article", w), "Quote article"),
            (reverse("review_article", args=[project.id, agreed.id]), "Agreed one"),
        ]
        assert "Disagree:</strong> boundaries differ, missing for some, topics differ" in content
        assert "No article is reviewed yet." in content

    def test_htmx_gets_the_queue_fragment(self, reviewer_client, w):
        response = reviewer_client.get(url("review_queue", w), {"page": 1}, headers=HTMX)
        content = response.content.decode()
        assert response.status_code == 200
        assert content.startswith('<div id="queue">') and "<html" not in content
        assert "Quote article" in content

    def test_reviewed_articles_are_listed_apart(self, reviewer_client, w, reviewer):
        services.gold_mark_reviewed(article=w.article, reviewer=reviewer, expected_version=w.version)
        content = reviewer_client.get(url("review_queue", w)).content.decode()
        waiting, reviewed = content.split('id="reviewed-heading"')
        assert "Nothing waits for review." in waiting and "Quote article" not in waiting
        assert "Quote article" in reviewed and "Reviewed" in reviewed
        assert url("article_history", w) in reviewed


class TestReviewPage:
    def test_full_page(self, reviewer_client, w):
        response = reviewer_client.get(url("review_article", w))
        content = response.content.decode()
        assert response.status_code == 200 and "<html" in content
        assert f'<div id="review" data-version="{w.version}">' in content
        # The text once, in paragraphs with their offsets, directions decided by the browser.
        assert content.count('id="article-text"') == 1
        paragraphs = re.findall(r'<p dir="auto" data-start="(\d+)" data-end="(\d+)"', content)
        assert paragraphs == [("0", "54"), ("55", "87")]
        # Every analyst's spans and the gold's are layered in the text, each in its own style.
        mark_tag = r'<mark class="rspan (\S+) label-\d+ track-\d+" data-group="(\d+-\d+)" title="([^"]*)"'
        marks = re.findall(mark_tag, content)
        assert marks == [
            ("gold", "0-6", "Gold: Source"),
            ("analyst-1", "0-6", "analyst2: Source"),
            # The long quote is cut where the short one ends: one mark per piece it covers.
            ("analyst-1", "13-31", "analyst2: Quote"),
            ("analyst-0", "13-52", "analyst: Quote"),
            ("analyst-0", "13-52", "analyst: Quote"),
        ]
        # The nonce'd label colours, as on the labelling page.
        nonce = response.context["csp_nonce"]
        assert f'<style nonce="{nonce}">' in content
        assert f".label-{w.labels['Quote'].id}{{--label:#d62728}}" in content
        assert url("article_history", w) in content

    def test_spans_side_by_side_with_differences(self, reviewer_client, w):
        content = reviewer_client.get(url("review_article", w)).content.decode()
        groups = re.findall(r'<section id="group-(\d+-\d+)" ([^>]*)>(.*?)</section>', content, re.S)
        rows = {key: body for key, _, body in groups}
        assert list(rows) == ["0-6", "13-52", "13-31"]
        # The side panel opens on the first disagreement; the others wait behind N / P and the picker.
        assert [key for key, attrs, _ in groups if "hidden" not in attrs] == ["0-6"]
        picker = re.search(r'<select id="group-picker">(.*?)</select>', content, re.S).group(1)
        assert re.findall(r'<option value="(\d+-\d+)"( selected)?>(≠ )?', picker) == [
            ("0-6", " selected", "≠ "), ("13-52", "", "≠ "), ("13-31", "", "≠ "),
        ]
        assert "2 disagreement" not in content and "(3 disagreements in 3 groups)" in content
        assert "boundaries differ" in rows["13-52"] and "boundaries differ" in rows["13-31"]
        assert "other boundaries: <bdi>Quote</bdi> 13–31" in rows["13-52"]
        assert "speaker: <span dir=\"auto\">Lavrov</span>" in rows["13-52"]
        assert "missing for some" in rows["0-6"] and "in gold" in rows["0-6"]
        assert 'aria-label="Accept analyst\'s Quote: the West is trying to pull Armenia away"' in rows["13-52"]
        # Accepting a span already in gold is not offered again.
        assert f'id="accept-{w.source.id}"' not in rows["0-6"]
        assert f'id="reject-{w.source.id}"' in rows["0-6"]

    def test_topics_and_stance_side_by_side(self, reviewer_client, w):
        content = reviewer_client.get(url("review_article", w)).content.decode()
        armenia = re.search(r"<tr class=\"disagree\">\s*<th scope=\"row\">Armenia (.*?)</tr>", content, re.S)
        assert armenia and armenia.group(1).count("✓") == 1 and "differs" in armenia.group(1)
        west = re.search(r"<tr>\s*<th scope=\"row\">the West</th>(.*?)</tr>", content, re.S)
        assert west and west.group(1).count("critical</td>") == 2 and "differs" not in west.group(1)
        # In the side panel beside the text, before the article's links table.
        side = content.index('<aside class="side"')
        assert side < content.index('id="review-labels"') < content.index("</aside>") < content.index("links-heading")

    def test_in_gold_only_when_label_offsets_and_attributes_all_match(self, reviewer_client, w, reviewer, labels):
        gold = services.gold_span_accept(article=w.article, reviewer=reviewer, span=w.first, expected_version=2)
        in_gold = self.analyst_spans(reviewer_client, w)
        assert "in gold" in in_gold[w.first.id] and f'id="accept-{w.first.id}"' not in in_gold[w.first.id]
        services.gold_span_update(
            article=w.article, reviewer=reviewer, span=gold, label=labels["Quote"], attributes={"speaker": "Putin"},
            expected_version=3, reason="He said it",
        )
        differs = self.analyst_spans(reviewer_client, w)[w.first.id]
        assert "in gold" not in differs and "gold has other attributes" in differs
        # Accepting it would be refused as a duplicate: not offered; rejecting still is.
        assert f'id="accept-{w.first.id}"' not in differs and f'id="reject-{w.first.id}"' in differs
        # A span gold has nothing like: neither in gold nor differing from it, and offered.
        other = self.analyst_spans(reviewer_client, w)[w.second.id]
        assert "in gold" not in other and f'id="accept-{w.second.id}"' in other

    @staticmethod
    def analyst_spans(client, w):
        content = client.get(url("review_article", w)).content.decode()
        found = re.findall(r'<div class="analyst-span" data-span="(\d+)">(.*?)</details>', content, re.S)
        return {int(span_id): body for span_id, body in found}

    def test_htmx_gets_the_review_fragment(self, reviewer_client, w):
        response = reviewer_client.get(url("review_article", w), headers=HTMX)
        content = response.content.decode()
        assert response.status_code == 200
        assert content.startswith(f'<div id="review" data-version="{w.version}">') and "<html" not in content
        assert 'id="article-text"' in content

    def test_before_any_gold_the_version_is_zero(self, reviewer_client, project, analyst):
        article = ArticleFactory(project=project)
        submit(article, analyst)
        content = reviewer_client.get(reverse("review_article", args=[project.id, article.id])).content.decode()
        assert '<div id="review" data-version="0">' in content and "No gold annotation yet" in content
        assert 'name="version" value="0"' in content


class TestAdjudication:
    def test_accept_htmx_answers_with_the_new_review(self, reviewer_client, w):
        response = request(reviewer_client, routes(w)["review_accept"], htmx=True)
        content = response.content.decode()
        assert response.status_code == 200
        assert content.startswith(f'<div id="review" data-version="{w.version + 1}">')
        gold = gold_of(w.article)
        assert list(gold.spans.order_by("start", "-end").values_list("label__name", "start", "end", "attributes")) == [
            ("Source", 0, 6, {}), ("Quote", 13, 52, {"speaker": "Lavrov"}),
        ]
        assert gold.changes.latest("id").action == "accept"

    def test_plain_post_redirects_to_the_review(self, reviewer_client, w):
        response = request(reviewer_client, routes(w)["review_accept"])
        assert response.status_code == 302 and response["Location"] == url("review_article", w)
        assert gold_of(w.article).spans.count() == 2

    @pytest.mark.parametrize("name", ["review_accept", "review_reject", "review_span_add", "review_span_update",
                                      "review_span_delete", "review_labels"])
    def test_each_change_htmx_and_plain(self, client, w, reviewer, name):
        client.force_login(reviewer)
        response = request(client, routes(w)[name], htmx=True)
        assert response.status_code == 200, response.content
        assert response.content.decode().startswith('<div id="review" data-version="3">')
        assert gold_of(w.article).version == 3
        assert Change.objects.filter(annotation__kind="gold").latest("id").actor == reviewer

    @pytest.mark.parametrize("name", ["review_reject", "review_span_add", "review_span_update", "review_span_delete",
                                      "review_labels"])
    def test_each_change_plain_post_redirects(self, reviewer_client, w, name):
        response = request(reviewer_client, routes(w)[name])
        assert response.status_code == 302 and response["Location"] == url("review_article", w)
        assert gold_of(w.article).version == 3

    @pytest.mark.parametrize("name", POSTS)
    def test_stale_version_is_409_and_changes_nothing(self, reviewer_client, w, name):
        before = gold_state(w.article)
        response = request(reviewer_client, routes(w)[name], htmx=True, version=w.version - 1)
        assert response.status_code == 409
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode().startswith("Someone else changed this annotation")
        assert gold_state(w.article) == before

    def test_stale_plain_post_shows_the_message_on_the_page(self, reviewer_client, w):
        before = gold_state(w.article)
        response = request(reviewer_client, routes(w)["review_accept"], version=0)
        content = response.content.decode()
        assert response.status_code == 409 and "<html" in content
        assert '<p class="message error" role="alert">Someone else changed this annotation' in content
        assert gold_state(w.article) == before

    def test_two_reviewers_the_second_save_conflicts(self, client, w, reviewer, second_reviewer):
        client.force_login(reviewer)
        page_version = client.get(url("review_article", w)).context["version"]
        client.force_login(second_reviewer)
        assert client.get(url("review_article", w)).context["version"] == page_version
        assert request(client, routes(w)["review_accept"], htmx=True, version=page_version).status_code == 200
        client.force_login(reviewer)
        before = gold_state(w.article)
        response = request(client, routes(w)["review_reject"], htmx=True, version=page_version)
        assert response.status_code == 409
        assert gold_state(w.article) == before
        assert gold_of(w.article).annotator == second_reviewer

    @pytest.mark.parametrize("name", POSTS)
    def test_missing_or_bad_version_is_400(self, reviewer_client, w, name):
        method, path, data = routes(w)[name]
        before = gold_state(w.article)
        data = {k: v for k, v in data.items() if k != "version"}
        assert reviewer_client.post(path, data).status_code == 400
        assert reviewer_client.post(path, {**data, "version": "x"}).status_code == 400
        assert reviewer_client.post(path, {**data, "version": "-1"}).status_code == 400
        assert gold_state(w.article) == before

    def test_reject_without_reason_is_422(self, reviewer_client, w):
        before = gold_state(w.article)
        response = request(reviewer_client, routes(w)["review_reject"], htmx=True, reason=" ")
        assert response.status_code == 422
        assert "Say why you reject" in response.content.decode()
        assert gold_state(w.article) == before

    def test_overruling_topic_without_reason_is_422(self, reviewer_client, w):
        before = gold_state(w.article)
        response = request(reviewer_client, routes(w)["review_labels"], htmx=True, reason="")
        assert response.status_code == 422
        assert response.content.decode() == (
            "These topics and stances overrule analyst, analyst2: say why in the reason."
        )
        assert gold_state(w.article) == before

    def test_topics_and_stance_are_saved_with_the_reason(self, reviewer_client, w):
        west = w.project.stance_targets.get(name="the West")
        critical = w.project.stance_values.get(name="critical")
        armenia = w.project.topics.get(name="Armenia")
        response = request(reviewer_client, routes(w)["review_labels"], htmx=True,
                           **{f"stance-{west.id}": critical.id, "topics": [armenia.id]})
        assert response.status_code == 200
        gold = gold_of(w.article)
        assert labelling.labels_state(gold) == {"topics": ["Armenia"], "stance": {"the West": "critical"}}
        assert gold.changes.latest("id").reason == "Armenia is the subject"
        content = response.content.decode()
        assert re.search(rf'<input type="checkbox" name="topics" value="{armenia.id}"[^>]* checked>', content)

    def test_span_add_checks_the_text(self, reviewer_client, w):
        before = gold_state(w.article)
        response = request(reviewer_client, routes(w)["review_span_add"], htmx=True, text="minister")
        assert response.status_code == 422 and "does not match" in response.content.decode()
        assert gold_state(w.article) == before

    @pytest.mark.parametrize("field", ["start", "end", "label", "text", "client_id"])
    def test_span_add_missing_field_is_400(self, reviewer_client, w, field):
        method, path, data = routes(w)["review_span_add"]
        del data[field]
        assert reviewer_client.post(path, data).status_code == 400

    def test_mark_reviewed_goes_back_to_the_queue(self, reviewer_client, w):
        response = request(reviewer_client, routes(w)["review_done"], htmx=True)
        assert response.status_code == 200 and response["HX-Redirect"] == url("review_queue", w)
        assert gold_of(w.article).status == Annotation.Status.SUBMITTED
        page = reviewer_client.get(url("review_queue", w)).content.decode()
        assert "Marked “<bdi>Quote article</bdi>” reviewed." in page

    def test_mark_reviewed_plain_post_redirects(self, reviewer_client, w):
        response = request(reviewer_client, routes(w)["review_done"])
        assert response.status_code == 302 and response["Location"] == url("review_queue", w)
        assert gold_of(w.article).status == Annotation.Status.SUBMITTED


class TestHistory:
    def test_every_change_newest_first_with_before_after_and_reason(self, reviewer_client, w, reviewer, analyst,
                                                                    labels):
        services.gold_span_reject(article=w.article, reviewer=reviewer, span=w.second, expected_version=w.version,
                                  reason="Cut short")
        # The analyst edits their submitted span afterwards: the submitted state stays in the history.
        labelling.span_update(span=w.first, label=labels["Claim"], attributes={"claimant": "Lavrov"})
        response = reviewer_client.get(url("article_history", w))
        content = response.content.decode()
        assert response.status_code == 200 and "<html" in content
        rows = re.findall(r'<tr id="change-(\d+)" class="action-(\w+)">(.*?)</tr>', content, re.S)
        expected = list(Change.objects.filter(annotation__article=w.article).order_by("-created_at", "-id"))
        assert [int(r[0]) for r in rows] == [c.id for c in expected]
        assert len(rows) == Change.objects.filter(annotation__article=w.article).count() >= 10
        edit, reject, accept = rows[0][2], rows[1][2], rows[2][2]
        assert rows[0][1] == "update" and "<td><bdi>analyst</bdi>'s</td>" in edit
        # One line each: what changed in a summary, its before and after beneath it in a <details>.
        assert "<details>" in edit and "<summary>Edited span: <bdi>Claim</bdi> “<bdi>the West is trying" in edit
        assert re.search(r'<div class="changed"><dt>label</dt><dd dir="auto">Quote</dd></div>', edit)
        assert re.search(r'<div class="changed"><dt>label</dt><dd dir="auto">Claim</dd></div>', edit)
        assert '<dt>attributes</dt><dd dir="auto">speaker: Lavrov</dd>' in edit
        assert rows[1][1] == "reject" and "Rejected" in reject and "Cut short" in reject and "reviewer1" in reject
        assert "Rejected span: <bdi>Quote</bdi> “<bdi>the West is trying</bdi>”" in reject and "<td>Gold</td>" in reject
        assert f"span {w.second.id}" not in reject
        assert rows[2][1] == "accept" and f"From analyst2&#x27;s span {w.source.id}." in accept

    def test_labels_are_readable(self, reviewer_client, w):
        content = reviewer_client.get(url("article_history", w)).content.decode()
        assert '<dt>topics</dt><dd dir="auto">Armenia</dd>' in content
        assert '<dt>stance</dt><dd dir="auto">the West: critical</dd>' in content
        assert '<dt>topics</dt><dd dir="auto">—</dd>' in content

    def test_htmx_gets_the_changes_fragment(self, reviewer_client, w):
        response = reviewer_client.get(url("article_history", w), {"page": 1}, headers=HTMX)
        content = response.content.decode()
        assert response.status_code == 200
        assert content.startswith('<div id="changes">') and "<html" not in content and "action-accept" in content

    def test_filters_by_person_kind_and_subject_full_and_htmx(self, reviewer_client, w, reviewer, analyst):
        services.gold_span_reject(article=w.article, reviewer=reviewer, span=w.second, expected_version=w.version,
                                  reason="Cut short")
        everything = Change.objects.filter(annotation__article=w.article)

        def shown(htmx=False, **query):
            response = reviewer_client.get(url("article_history", w), query, headers=HTMX if htmx else {})
            assert response.status_code == 200
            return {int(i) for i in re.findall(r'<tr id="change-(\d+)"', response.content.decode())}, response

        ids, response = shown(person=reviewer.pk)
        assert ids == set(everything.filter(actor=reviewer).values_list("id", flat=True)) and len(ids) == 2
        assert f'<option value="{reviewer.pk}" selected>reviewer1</option>' in response.content.decode()
        ids, _ = shown(kind="reject")
        assert ids == set(everything.filter(action="reject").values_list("id", flat=True)) and len(ids) == 1
        ids, _ = shown(person=analyst.pk, subject="labels")
        assert ids == set(everything.filter(actor=analyst, subject="labels").values_list("id", flat=True))
        assert len(ids) == 1
        ids, response = shown(htmx=True, kind="submit")
        assert response.content.decode().startswith('<div id="changes">') and len(ids) == 2
        # Nonsense filters are ignored, not an error.
        ids, _ = shown(person="x", kind="nonsense", subject="nothing")
        assert ids == set(everything.values_list("id", flat=True))

    def test_the_pager_keeps_the_filters(self, reviewer_client, w, reviewer, monkeypatch):
        from annotator.review import views

        monkeypatch.setattr(views, "HISTORY_PER_PAGE", 1)
        content = reviewer_client.get(url("article_history", w), {"kind": "create"}).content.decode()
        assert '?kind=create&amp;page=2"' in content

    def test_a_link_change_names_the_spans_text_not_their_ids(self, reviewer_client, w, project, analyst, labels):
        from annotator.projects.models import RelationType

        speaker = RelationType.objects.get(project=project, name="speaker")
        lavrov = Span.objects.get(annotation__annotator=w.source.annotation.annotator, text="Lavrov")
        relation = labelling.relation_create(relation_type=speaker, source=w.second, target=lavrov)
        labelling.relation_delete(relation=relation)
        content = reviewer_client.get(url("article_history", w), {"subject": "relation"}).content.decode()
        rows = re.findall(r'<tr id="change-\d+" class="action-(\w+)">(.*?)</tr>', content, re.S)
        assert [action for action, _ in rows] == ["delete", "create"]
        for _, row in rows:
            assert "“<bdi>the West is trying</bdi>” → <bdi>speaker</bdi> → “<bdi>Lavrov</bdi>”" in row
            assert "<dt>source_text</dt>" in row and "<dt>source</dt>" not in row and "<dt>target</dt>" not in row
            assert f">{w.second.id}<" not in row and f">{lavrov.id}<" not in row

    def test_only_this_articles_changes(self, reviewer_client, w, analyst, labels):
        elsewhere = ArticleFactory(project=w.project)
        mark(elsewhere, analyst, labels["Source"], "Lavrov")
        content = reviewer_client.get(url("article_history", w)).content.decode()
        ids = {int(i) for i in re.findall(r'<tr id="change-(\d+)"', content)}
        assert ids == set(Change.objects.filter(annotation__article=w.article).values_list("id", flat=True))


XSS = '<script>alert("x")</script>'


class TestEscaping:
    @pytest.fixture
    def hostile(self, project, analyst, second_analyst, reviewer, labels):
        labels["Quote"].name = f"Q{XSS}"
        labels["Quote"].save()
        project.topics.filter(name="Armenia").update(name=f"Armenia{XSS}")
        article = ArticleFactory(project=project, title=f"Title {XSS}", text=f"Before {XSS} after.\nTwo")
        a = mark(article, analyst, labels["Quote"], XSS, attributes={"speaker": XSS})
        mark(article, second_analyst, labels["Claim"], XSS)
        choose(article, analyst, topics=[f"Armenia{XSS}"])
        submit(article, analyst)
        submit(article, second_analyst)
        services.gold_span_accept(article=article, reviewer=reviewer, span=a, expected_version=0, reason=XSS)
        services.gold_span_reject(article=article, reviewer=reviewer, span=a, expected_version=2, reason=XSS)
        return article

    @pytest.mark.parametrize("name", ["review_article", "article_history", "review_queue"])
    @pytest.mark.parametrize("htmx", [False, True])
    def test_user_strings_are_escaped(self, reviewer_client, project, hostile, name, htmx):
        args = [project.id] if name == "review_queue" else [project.id, hostile.id]
        response = reviewer_client.get(reverse(name, args=args), headers=HTMX if htmx else {})
        content = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in content
        assert escape(XSS) in content
        if name != "review_queue":
            assert content.count(escape(XSS)) >= 3


def test_review_page_queries_do_not_grow_with_spans_or_analysts(reviewer_client, w, reviewer, labels):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert reviewer_client.get(url("review_article", w)).status_code == 200
        return len(queries)

    few = count()
    analyst3 = UserFactory(username="analyst3")
    Membership.objects.create(project=w.project, user=analyst3, role="analyst")
    for phrase in ("ministry", "repeated", "claim", "Armenia"):
        span = mark(w.article, analyst3, labels["Claim"], phrase)
    choose(w.article, analyst3, topics=["Syria"], stances={"NATO": "neutral"})
    submit(w.article, analyst3)
    version = gold_of(w.article).version
    for span in Span.objects.filter(annotation__annotator=analyst3):
        services.gold_span_accept(article=w.article, reviewer=reviewer, span=span, expected_version=version)
        version += 1
    assert gold_of(w.article).spans.count() == 5
    assert count() == few
