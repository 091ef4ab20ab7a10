"""Links reviewed like spans: services, the review page's links, and each span's review decision."""

import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.labelling import services as labelling
from annotator.labelling.models import Change, Relation, Span
from annotator.labelling.services import StaleVersion
from annotator.projects.models import RelationType
from annotator.review import services

from .helpers import gold_of, mark, submit

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
QUOTE = "the West is trying to pull Armenia away"
CLAIM = "repeated the claim"
RELATION_ROUTE_NAMES = [
    "review_relation_accept", "review_relation_reject", "review_relation_add", "review_relation_delete",
]


def kinds(project):
    return {t.name: t for t in RelationType.objects.filter(project=project)}


def link(project, name, source, target):
    return labelling.relation_create(relation_type=kinds(project)[name], source=source, target=target)


@pytest.fixture
def w(project, quote_article, analyst, second_analyst, labels):
    """Two analysts: both link the quote to Lavrov (its speaker); their claims name different sources."""
    made = {}
    for user, claim_source in ((analyst, "ministry"), (second_analyst, "Lavrov")):
        quote = mark(quote_article, user, labels["Quote"], QUOTE)
        lavrov = mark(quote_article, user, labels["Source"], "Lavrov")
        claim = mark(quote_article, user, labels["Claim"], CLAIM)
        source = lavrov if claim_source == "Lavrov" else mark(quote_article, user, labels["Source"], "ministry")
        made[user.username] = SimpleNamespace(
            quote=quote, lavrov=lavrov, claim=claim, source=source,
            speaker=link(project, "speaker", quote, lavrov), said_by=link(project, "source", claim, source),
        )
        submit(quote_article, user)
    return SimpleNamespace(project=project, article=quote_article, a=made["analyst"], b=made["analyst2"], labels=labels)


def accept(w, reviewer, span):
    gold = gold_of(w.article)
    return services.gold_span_accept(
        article=w.article, reviewer=reviewer, span=span, expected_version=gold.version if gold else 0
    )


def version(article):
    gold = gold_of(article)
    return gold.version if gold else 0


def gold_links(article):
    gold = gold_of(article)
    return sorted(
        (r.type.name, r.source.text, r.target.text)
        for r in Relation.objects.filter(annotation=gold).select_related("type", "source", "target")
    )


class TestRelationServices:
    def test_a_link_waits_for_both_ends_in_gold(self, w, reviewer):
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker, expected_version=0)
        assert refused.value.code == "missing_span"
        assert "Accept “the West is trying to pull Armenia away” (Quote) and “Lavrov” (Source)" in refused.value.messages[0]
        assert gold_of(w.article) is None  # the gold made for it went with the refusal

        accept(w, reviewer, w.a.quote)
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker,
                                          expected_version=version(w.article))
        assert refused.value.code == "missing_span" and "“Lavrov” (Source)" in refused.value.messages[0]
        assert gold_links(w.article) == []

    def test_accept_copies_the_link_between_the_gold_spans(self, w, reviewer):
        gold_quote = accept(w, reviewer, w.a.quote)
        gold_lavrov = accept(w, reviewer, w.b.lavrov)
        before = version(w.article)
        accepted = services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker,
                                                 expected_version=before)
        gold = gold_of(w.article)
        assert (accepted.annotation, accepted.source, accepted.target, accepted.type.name) == (
            gold, gold_quote, gold_lavrov, "speaker"
        )
        assert gold.version == before + 1 and gold.annotator == reviewer
        change = gold.changes.latest("id")
        assert (change.action, change.actor, change.subject, change.subject_id) == ("accept", reviewer, "relation", accepted.id)
        assert change.after == {"type": "speaker", "source": gold_quote.id, "target": gold_lavrov.id,
                                "source_text": QUOTE, "target_text": "Lavrov"}
        assert change.reason == f"From analyst's link {w.a.speaker.id}."

    def test_the_same_link_from_another_analyst_is_the_one_already_accepted(self, w, reviewer):
        accept(w, reviewer, w.a.quote)
        accept(w, reviewer, w.a.lavrov)
        first = services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker,
                                              expected_version=version(w.article))
        changes = Change.objects.count()
        # Also what a retry after a lost answer gets, at the version its page showed.
        again = services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.b.speaker,
                                              expected_version=version(w.article) - 1)
        assert again == first and Change.objects.count() == changes
        assert gold_links(w.article) == [("speaker", QUOTE, "Lavrov")]

    def test_stale_version_changes_nothing(self, w, reviewer):
        accept(w, reviewer, w.a.quote)
        accept(w, reviewer, w.a.lavrov)
        with pytest.raises(StaleVersion):
            services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker,
                                          expected_version=version(w.article) - 1)
        with pytest.raises(StaleVersion):
            services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=w.a.speaker,
                                          expected_version=1, reason="no")
        assert gold_links(w.article) == [] and version(w.article) == 3

    def test_reject_needs_a_reason_and_is_recorded(self, w, reviewer):
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=w.b.said_by,
                                          expected_version=0, reason="  ")
        assert refused.value.code == "reason_required" and gold_of(w.article) is None
        change = services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=w.b.said_by,
                                               expected_version=0, reason="The ministry repeats it, not Lavrov")
        gold = gold_of(w.article)
        assert gold.version == 2 and gold_links(w.article) == []
        assert (change.action, change.subject, change.subject_id, change.reason) == (
            "reject", "relation", w.b.said_by.id, "The ministry repeats it, not Lavrov"
        )
        assert change.before == {"type": "source", "source": w.b.claim.id, "target": w.b.lavrov.id,
                                 "source_text": CLAIM, "target_text": "Lavrov", "annotator": "analyst2"}

    def test_a_reject_reason_with_a_control_character_is_refused(self, w, reviewer):
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=w.b.said_by,
                                          expected_version=0, reason="not\x00him")
        assert "reason" in str(refused.value).lower() and gold_of(w.article) is None

    def test_add_links_two_gold_spans_and_delete_unlinks(self, w, reviewer):
        gold_claim = accept(w, reviewer, w.a.claim)
        gold_ministry = accept(w, reviewer, w.a.source)
        source = kinds(w.project)["source"]
        added = services.gold_relation_add(
            article=w.article, reviewer=reviewer, relation_type=source, source=gold_claim, target=gold_ministry,
            expected_version=3, reason="the ministry says it",
        )
        gold = gold_of(w.article)
        assert gold.version == 4 and gold_links(w.article) == [("source", CLAIM, "ministry")]
        assert (gold.changes.latest("id").action, gold.changes.latest("id").reason) == ("create", "the ministry says it")
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_add(article=w.article, reviewer=reviewer, relation_type=source, source=gold_claim,
                                       target=gold_ministry, expected_version=4)
        assert refused.value.code == "duplicate"
        services.gold_relation_delete(article=w.article, reviewer=reviewer, relation=added, expected_version=4)
        assert gold_links(w.article) == [] and gold_of(w.article).version == 5
        assert gold_of(w.article).changes.latest("id").before["target_text"] == "ministry"

    def test_add_refuses_analysts_spans_and_wrong_labels(self, w, reviewer):
        gold_claim = accept(w, reviewer, w.a.claim)
        gold_quote = accept(w, reviewer, w.a.quote)
        types = kinds(w.project)
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_add(article=w.article, reviewer=reviewer, relation_type=types["source"],
                                       source=gold_claim, target=w.a.source, expected_version=3)
        assert refused.value.code == "not_gold"
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_add(article=w.article, reviewer=reviewer, relation_type=types["speaker"],
                                       source=gold_claim, target=gold_quote, expected_version=3)
        assert refused.value.code == "wrong_labels"
        assert gold_links(w.article) == [] and version(w.article) == 3

    def test_only_submitted_analysts_links_are_adjudicated(self, w, reviewer, project, labels):
        from tests.factories import UserFactory

        late = UserFactory(username="late")
        quote = mark(w.article, late, labels["Quote"], QUOTE)
        unsubmitted = link(project, "speaker", quote, mark(w.article, late, labels["Source"], "Lavrov"))
        with pytest.raises(ValidationError) as refused:
            services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=unsubmitted,
                                          expected_version=0, reason="x")
        assert refused.value.code == "not_submitted" and gold_of(w.article) is None

    def test_a_speaker_link_in_gold_clears_the_free_text_speaker(self, w, reviewer, analyst):
        gold_quote = accept(w, reviewer, w.a.quote)
        gold_lavrov = accept(w, reviewer, w.a.lavrov)
        services.gold_span_update(article=w.article, reviewer=reviewer, span=gold_quote, label=w.labels["Quote"],
                                  attributes={"speaker": "Sergei Lavrov"}, expected_version=3)
        services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.speaker, expected_version=4)
        gold_quote.refresh_from_db()
        assert gold_quote.attributes == {}
        cleared = gold_of(w.article).changes.latest("id")
        assert (cleared.action, cleared.subject, cleared.subject_id) == ("update", "span", gold_quote.id)
        assert cleared.before["attributes"] == {"speaker": "Sergei Lavrov"} and cleared.after["attributes"] == {}
        assert "“Lavrov”" in cleared.reason and "“Sergei Lavrov” was removed" in cleared.reason
        assert gold_links(w.article) == [("speaker", QUOTE, "Lavrov")] and gold_lavrov.text == "Lavrov"


class TestReviewDecision:
    def test_accepted_from_every_analyst_with_the_same_span(self, w, reviewer):
        gold = accept(w, reviewer, w.b.quote)
        assert Span.objects.get(pk=gold.pk).review == {"decision": "accepted", "from": ["analyst", "analyst2"]}

    def test_accepted_from_one_when_the_other_differs(self, w, reviewer, analyst):
        labelling.span_update(span=w.a.claim, label=w.labels["Claim"], attributes={"stance": "critical"})
        gold = accept(w, reviewer, w.b.claim)
        assert Span.objects.get(pk=gold.pk).review == {"decision": "accepted", "from": ["analyst2"]}

    def test_edited_keeps_whom_it_came_from(self, w, reviewer):
        gold = accept(w, reviewer, w.a.claim)
        services.gold_span_update(article=w.article, reviewer=reviewer, span=gold, label=w.labels["Claim"],
                                  attributes={"stance": "critical"}, expected_version=2)
        assert Span.objects.get(pk=gold.pk).review == {"decision": "edited", "from": ["analyst", "analyst2"]}

    def test_an_update_that_changes_nothing_is_no_edit(self, w, reviewer):
        gold = accept(w, reviewer, w.a.claim)
        services.gold_span_update(article=w.article, reviewer=reviewer, span=gold, label=w.labels["Claim"],
                                  attributes={}, expected_version=2)
        assert Span.objects.get(pk=gold.pk).review["decision"] == "accepted"

    def test_the_reviewers_own_span_is_added(self, w, reviewer):
        import uuid

        start = w.article.text.index("ministry")
        span = services.gold_span_add(article=w.article, reviewer=reviewer, label=w.labels["Source"], start=start,
                                      end=start + 8, text="ministry", client_id=uuid.uuid4(), expected_version=0)
        assert Span.objects.get(pk=span.pk).review == {"decision": "added", "from": []}

    def test_analysts_spans_have_none(self, w):
        assert set(Span.objects.filter(annotation__kind="analyst").values_list("review", flat=True)) == {None}


# Views


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def ready(w, reviewer):
    """Gold holds the quote, Lavrov, the claim and the ministry; one gold link, claim -> ministry."""
    w.gold_quote = accept(w, reviewer, w.a.quote)
    w.gold_lavrov = accept(w, reviewer, w.a.lavrov)
    w.gold_claim = accept(w, reviewer, w.a.claim)
    w.gold_ministry = accept(w, reviewer, w.a.source)
    w.gold_said_by = services.gold_relation_accept(article=w.article, reviewer=reviewer, relation=w.a.said_by,
                                                   expected_version=5)
    w.version = 6
    return w


def url(name, w, *extra):
    return reverse(name, args=[w.project.id, w.article.id, *extra])


def routes(w):
    return {
        "review_relation_accept": url("review_relation_accept", w, w.b.speaker.id),
        "review_relation_reject": url("review_relation_reject", w, w.b.said_by.id),
        "review_relation_add": url("review_relation_add", w),
        "review_relation_delete": url("review_relation_delete", w, w.gold_said_by.id),
    }


def data(w, name, **overrides):
    values = {"version": w.version, "reason": "Lavrov did not say it"}
    if name == "review_relation_add":
        values |= {"type": kinds(w.project)["speaker"].id, "source": w.gold_quote.id, "target": w.gold_lavrov.id}
    return values | overrides


def gold_state(article):
    gold = gold_of(article)
    return gold.version, gold_links(article), gold.changes.count()


class TestRelationViews:
    @pytest.mark.parametrize("name", RELATION_ROUTE_NAMES)
    def test_analyst_is_forbidden_and_non_member_gets_404(self, client, ready, analyst, other_user, name):
        before = gold_state(ready.article)
        client.force_login(analyst)
        assert client.post(routes(ready)[name], data(ready, name), headers=HTMX).status_code == 403
        client.force_login(other_user)
        assert client.post(routes(ready)[name], data(ready, name)).status_code == 404
        assert gold_state(ready.article) == before

    @pytest.mark.parametrize("name", RELATION_ROUTE_NAMES)
    def test_htmx_answers_with_the_new_review(self, reviewer_client, ready, reviewer, name):
        response = reviewer_client.post(routes(ready)[name], data(ready, name), headers=HTMX)
        assert response.status_code == 200, response.content
        assert response.content.decode().startswith('<div id="review" data-version="7">')
        change = gold_of(ready.article).changes.latest("id")
        assert (change.actor, change.subject) == (reviewer, "relation")

    @pytest.mark.parametrize("name", RELATION_ROUTE_NAMES)
    def test_plain_post_redirects(self, reviewer_client, ready, name):
        response = reviewer_client.post(routes(ready)[name], data(ready, name))
        assert response.status_code == 302 and response["Location"] == url("review_article", ready)
        assert gold_of(ready.article).version == 7

    @pytest.mark.parametrize("name", RELATION_ROUTE_NAMES)
    def test_stale_version_is_409_and_changes_nothing(self, reviewer_client, ready, name):
        before = gold_state(ready.article)
        response = reviewer_client.post(routes(ready)[name], data(ready, name, version=5), headers=HTMX)
        assert response.status_code == 409
        assert gold_state(ready.article) == before

    def test_reject_without_reason_is_422(self, reviewer_client, ready):
        response = reviewer_client.post(routes(ready)["review_relation_reject"],
                                        data(ready, "review_relation_reject", reason=""), headers=HTMX)
        assert response.status_code == 422 and "Say why you reject this link" in response.content.decode()

    def test_add_needs_gold_span_ids(self, reviewer_client, ready):
        path = routes(ready)["review_relation_add"]
        assert reviewer_client.post(path, data(ready, "review_relation_add", source="x")).status_code == 400
        # An analyst's span is not gold's.
        assert reviewer_client.post(path, data(ready, "review_relation_add", source=ready.a.quote.id)).status_code == 404
        assert gold_links(ready.article) == [("source", CLAIM, "ministry")]

    def test_links_of_another_article_are_404(self, reviewer_client, ready, project, analyst, labels):
        from tests.factories import ArticleFactory

        other = ArticleFactory(project=project, text="Lavrov: “no”.")
        quote = mark(other, analyst, labels["Quote"], "no")
        elsewhere = link(project, "speaker", quote, mark(other, analyst, labels["Source"], "Lavrov"))
        submit(other, analyst)
        response = reviewer_client.post(url("review_relation_accept", ready, elsewhere.id), data(ready, "x"))
        assert response.status_code == 404


class TestReviewPageLinks:
    def test_full_page_lists_and_draws_every_analysts_links(self, reviewer_client, w):
        response = reviewer_client.get(url("review_article", w))
        content = response.content.decode()
        assert response.status_code == 200 and '<svg class="link-layer" id="link-layer"' in content
        # Every link to draw names its two spans' marks in the text.
        drawn = re.findall(r'data-link-source="(\d+)" data-link-target="(\d+)" data-link-style="([\w-]+)"', content)
        assert sorted(drawn) == sorted([
            (str(w.a.quote.id), str(w.a.lavrov.id), "analyst-0"), (str(w.a.claim.id), str(w.a.source.id), "analyst-0"),
            (str(w.b.quote.id), str(w.b.lavrov.id), "analyst-1"), (str(w.b.claim.id), str(w.b.lavrov.id), "analyst-1"),
        ])
        for source, target, _ in drawn:
            assert f'data-span="{source}">' in content and f'data-span="{target}">' in content
        # Listed by the spans' text: three distinct links, the shared one agreed, the others missing for some.
        table = content[content.index('id="links-heading"'):content.index("</section>", content.index('id="links-heading"'))]
        rows = re.findall(r'<tr( class="disagree")?>\s*<th scope="row">(.*?)</th>', table, re.S)
        texts = [re.sub(r"<[^>]+>", "", row).split() for _, row in rows]
        assert [" ".join(t) for t in texts] == [
            f"{QUOTE} (Quote) → speaker → Lavrov (Source)",
            f"{CLAIM} (Claim) → source → Lavrov (Source)",
            f"{CLAIM} (Claim) → source → ministry (Source)",
        ]
        assert [bool(d) for d, _ in rows] == [False, True, True]
        assert "accept both spans first" in table and "Links ready for gold" not in content

    def test_accepting_both_ends_offers_the_link(self, reviewer_client, w, reviewer):
        accept(w, reviewer, w.a.quote)
        response = reviewer_client.post(url("review_accept", w, w.b.lavrov.id), {"version": 2}, headers=HTMX)
        content = response.content.decode()
        assert response.status_code == 200 and "Links ready for gold" in content
        offer = re.search(r'<section class="panel offer".*?</section>', content, re.S).group(0)
        # One offer, for the speaker link both analysts drew; one button accepts the first analyst's.
        assert offer.count('class="primary offer-accept"') == 1
        assert url("review_relation_accept", w, w.a.speaker.id) in offer
        assert 'aria-label="Accept link speaker: the West is trying to pull Armenia away to Lavrov"' in offer
        assert "<bdi>analyst</bdi> <bdi>analyst2</bdi>" in offer
        response = reviewer_client.post(url("review_relation_accept", w, w.a.speaker.id), {"version": 3}, headers=HTMX)
        content = response.content.decode()
        assert "Links ready for gold" not in content
        assert gold_links(w.article) == [("speaker", QUOTE, "Lavrov")]
        gold_relation = Relation.objects.get(annotation__kind="gold")
        assert (f'data-link-source="{gold_relation.source_id}" data-link-target="{gold_relation.target_id}" '
                'data-link-style="gold"') in content

    def test_a_rejected_link_is_not_offered(self, reviewer_client, w, reviewer):
        accept(w, reviewer, w.b.claim)
        accept(w, reviewer, w.b.lavrov)
        services.gold_relation_reject(article=w.article, reviewer=reviewer, relation=w.b.said_by, expected_version=3,
                                      reason="Not his claim")
        content = reviewer_client.get(url("review_article", w)).content.decode()
        assert "Links ready for gold" not in content and "rejected: <span dir=\"auto\">Not his claim" in content

    def test_gold_span_offers_links_to_other_gold_spans(self, reviewer_client, ready):
        content = reviewer_client.get(url("review_article", ready), headers=HTMX).content.decode()
        assert content.startswith(f'<div id="review" data-version="{ready.version}">')
        item = re.search(rf'<li id="gold-{ready.gold_quote.id}">.*?</details>', content, re.S).group(0)
        assert f'<label for="gold-link-{ready.gold_quote.id}-{kinds(ready.project)["speaker"].id}">Link <bdi>speaker</bdi> (<bdi>Source</bdi> span)</label>' in item
        options = re.findall(r'<option value="(\d+)">([^<]*)</option>', item.split("Link <bdi>speaker</bdi>")[1])
        assert options == [(str(ready.gold_lavrov.id), "Lavrov"), (str(ready.gold_ministry.id), "ministry")]
        claim = re.search(rf'<li id="gold-{ready.gold_claim.id}">.*?</details>', content, re.S).group(0)
        assert "→ source → <span dir=\"auto\">ministry</span>" in claim
        assert 'aria-label="Remove gold link source to ministry"' in claim

