import uuid

import pytest
from django.core.exceptions import ValidationError

from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Change, Span
from annotator.labelling.services import StaleVersion
from annotator.review import services

from .helpers import choose, gold_of, mark, submit

pytestmark = pytest.mark.django_db

QUOTE = "the West is trying to pull Armenia away"


@pytest.fixture
def work(quote_article, analyst, second_analyst, labels):
    """Two analysts who submitted different quotes and topics."""
    first = mark(quote_article, analyst, labels["Quote"], QUOTE, attributes={"speaker": "Lavrov", "stance": "critical"})
    second = mark(quote_article, second_analyst, labels["Claim"], QUOTE)
    choose(quote_article, analyst, topics=["Armenia"], stances={"the West": "critical"})
    choose(quote_article, second_analyst, topics=["Armenia", "Ukraine"], stances={"the West": "neutral"})
    submit(quote_article, analyst)
    submit(quote_article, second_analyst)
    return first, second


def gold_state(article):
    gold = gold_of(article)
    if gold is None:
        return None
    return (
        gold.version,
        gold.status,
        list(gold.spans.values_list("label__name", "start", "end", "text", "attributes")),
        labelling.labels_state(gold),
        gold.changes.count(),
    )


def ids(project, model, names):
    return [getattr(project, model).get(name=n).id for n in names]


class TestAccept:
    def test_copies_the_span_exactly_and_records_an_accept(self, quote_article, reviewer, work):
        first, _ = work
        accepted = services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        gold = gold_of(quote_article)
        assert (gold.kind, gold.annotator, gold.status) == ("gold", reviewer, "in_progress")
        assert accepted.annotation == gold
        assert (accepted.label, accepted.start, accepted.end, accepted.text, accepted.attributes) == (
            first.label, first.start, first.end, first.text, {"speaker": "Lavrov", "stance": "critical"}
        )
        [change] = gold.changes.all()
        assert (change.action, change.actor, change.subject, change.subject_id) == (
            "accept", reviewer, "span", accepted.id
        )
        assert change.after == labelling.span_state(accepted)
        assert change.reason == f"From analyst's span {first.id}."
        assert gold.version == 2
        # The analyst's own span is untouched.
        first.refresh_from_db()
        assert first.annotation.kind == "analyst" and first.annotation.spans.count() == 1

    def test_later_accepts_keep_the_same_gold(self, quote_article, reviewer, second_reviewer, work):
        first, second = work
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        services.gold_span_accept(article=quote_article, reviewer=second_reviewer, span=second, expected_version=2)
        [gold] = Annotation.objects.filter(article=quote_article, kind="gold")
        assert gold.spans.count() == 2 and gold.version == 3
        # The gold's annotator is whoever changed it last; each change keeps its own actor.
        assert gold.annotator == second_reviewer
        assert list(gold.changes.values_list("actor__username", flat=True)) == ["reviewer1", "reviewer2"]

    def test_a_retried_accept_adds_the_span_once(self, quote_article, reviewer, work):
        first, _ = work
        one = services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        again = services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        assert one == again and Span.objects.filter(annotation__kind="gold").count() == 1

    def test_the_same_span_of_two_analysts_goes_into_gold_once(self, quote_article, analyst, second_analyst, labels,
                                                                reviewer):
        a = mark(quote_article, analyst, labels["Source"], "Lavrov")
        b = mark(quote_article, second_analyst, labels["Source"], "Lavrov")
        submit(quote_article, analyst)
        submit(quote_article, second_analyst)
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=a, expected_version=0)
        with pytest.raises(ValidationError) as error:
            services.gold_span_accept(article=quote_article, reviewer=reviewer, span=b, expected_version=2)
        assert error.value.code == "duplicate"
        assert gold_of(quote_article).spans.count() == 1

    def test_unsubmitted_work_cannot_be_accepted(self, quote_article, analyst, labels, reviewer):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        with pytest.raises(ValidationError) as error:
            services.gold_span_accept(article=quote_article, reviewer=reviewer, span=span, expected_version=0)
        assert error.value.code == "not_submitted"
        assert gold_of(quote_article) is None


class TestReject:
    def test_needs_a_reason(self, quote_article, reviewer, work):
        first, _ = work
        for reason in ("", "   "):
            with pytest.raises(ValidationError) as error:
                services.gold_span_reject(article=quote_article, reviewer=reviewer, span=first, expected_version=0,
                                          reason=reason)
            assert error.value.code == "reason_required"
        assert gold_of(quote_article) is None
        assert not Change.objects.filter(action="reject").exists()

    def test_records_the_reject_on_gold(self, quote_article, reviewer, work):
        _, second = work
        services.gold_span_reject(article=quote_article, reviewer=reviewer, span=second, expected_version=0,
                                  reason="It is a quote, not a claim.")
        gold = gold_of(quote_article)
        [change] = gold.changes.all()
        assert (change.action, change.subject, change.subject_id, change.reason, change.actor) == (
            "reject", "span", second.id, "It is a quote, not a claim.", reviewer
        )
        assert change.before["label"] == "Claim" and change.before["annotator"] == "analyst2"
        assert gold.version == 2 and gold.spans.count() == 0
        assert Span.objects.filter(pk=second.pk).exists()


class TestGoldSpans:
    def test_reviewer_adds_edits_and_deletes_their_own_span(self, quote_article, reviewer, labels):
        start = quote_article.text.index("ministry")
        span = services.gold_span_add(
            article=quote_article, reviewer=reviewer, label=labels["Source"], start=start, end=start + 8,
            text="ministry", client_id=uuid.uuid4(), expected_version=0,
        )
        assert (span.annotation.kind, span.text) == ("gold", "ministry")
        services.gold_span_update(article=quote_article, reviewer=reviewer, span=span, label=labels["Claim"],
                                  attributes={"claimant": "the ministry"}, expected_version=2, reason="A claim")
        span.refresh_from_db()
        assert (span.label, span.attributes) == (labels["Claim"], {"claimant": "the ministry"})
        services.gold_span_delete(article=quote_article, reviewer=reviewer, span=span, expected_version=3)
        gold = gold_of(quote_article)
        assert gold.spans.count() == 0
        assert list(gold.changes.order_by("id").values_list("action", "reason")) == [
            ("create", ""), ("update", "A claim"), ("delete", "")
        ]
        # Each before-state is kept.
        assert gold.changes.get(action="delete").before["label"] == "Claim"
        assert gold.changes.get(action="update").before["label"] == "Source"

    def test_a_retried_add_whose_answer_was_lost_adds_the_span_once(self, quote_article, reviewer, labels):
        start = quote_article.text.index("ministry")
        arguments = dict(article=quote_article, reviewer=reviewer, label=labels["Source"], start=start,
                         end=start + 8, text="ministry", client_id=uuid.uuid4())
        first = services.gold_span_add(**arguments, expected_version=0)
        # The retry carries the version the page had before the first try.
        assert services.gold_span_add(**arguments, expected_version=0) == first
        gold = gold_of(quote_article)
        assert (gold.spans.count(), gold.changes.count(), gold.version) == (1, 1, 2)
        with pytest.raises(ValidationError) as error:
            services.gold_span_add(**{**arguments, "label": labels["Claim"]}, expected_version=0)
        assert error.value.code == "client_id_reused"

    def test_text_that_does_not_match_is_refused_and_makes_no_gold(self, quote_article, reviewer, labels):
        with pytest.raises(ValidationError) as error:
            services.gold_span_add(article=quote_article, reviewer=reviewer, label=labels["Source"], start=0, end=6,
                                   text="Putin!", client_id=uuid.uuid4(), expected_version=0)
        assert error.value.code == "text_mismatch"
        assert gold_of(quote_article) is None

    def test_an_analyst_span_cannot_be_edited_as_gold(self, quote_article, reviewer, labels, work):
        first, second = work
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        with pytest.raises(ValidationError) as error:
            services.gold_span_delete(article=quote_article, reviewer=reviewer, span=second, expected_version=2)
        assert error.value.code == "not_gold"
        assert Span.objects.filter(pk=second.pk).exists()


class TestLabels:
    def test_overruling_an_analyst_without_a_reason_is_refused(self, project, quote_article, reviewer, work):
        west = project.stance_targets.get(name="the West")
        critical = project.stance_values.get(name="critical")
        with pytest.raises(ValidationError) as error:
            # What the first analyst chose, which overrules the second.
            services.gold_labels_set(
                article=quote_article, reviewer=reviewer, topic_ids=ids(project, "topics", ["Armenia"]),
                stances={west.id: critical.id}, expected_version=0,
            )
        assert error.value.code == "reason_required"
        assert error.value.messages == ["These topics and stances overrule analyst2: say why in the reason."]
        # Nothing is kept, not even the gold annotation made for the change.
        assert gold_state(quote_article) is None

    def test_overruling_needs_a_reason_on_an_existing_gold_too(self, project, quote_article, reviewer, work):
        first, _ = work
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        before = gold_state(quote_article)
        with pytest.raises(ValidationError) as error:
            services.gold_labels_set(article=quote_article, reviewer=reviewer,
                                     topic_ids=ids(project, "topics", ["Syria"]), stances={}, expected_version=2)
        assert error.value.code == "reason_required"
        assert "analyst, analyst2" in error.value.messages[0]
        assert gold_state(quote_article) == before

    def test_overruling_with_a_reason_is_recorded(self, project, quote_article, reviewer, work):
        west = project.stance_targets.get(name="the West")
        services.gold_labels_set(
            article=quote_article, reviewer=reviewer, topic_ids=ids(project, "topics", ["Armenia"]),
            stances={west.id: project.stance_values.get(name="critical").id}, expected_version=0,
            reason="Ukraine is only mentioned in passing.",
        )
        gold = gold_of(quote_article)
        assert labelling.labels_state(gold) == {"topics": ["Armenia"], "stance": {"the West": "critical"}}
        [change] = gold.changes.all()
        assert (change.action, change.subject, change.reason) == (
            "update", "labels", "Ukraine is only mentioned in passing."
        )
        assert change.before == {"topics": [], "stance": {}}

    def test_agreeing_with_every_analyst_needs_no_reason(self, project, quote_article, analyst, second_analyst,
                                                        reviewer):
        for user in (analyst, second_analyst):
            choose(quote_article, user, topics=["Syria"])
            submit(quote_article, user)
        services.gold_labels_set(article=quote_article, reviewer=reviewer,
                                 topic_ids=ids(project, "topics", ["Syria"]), stances={}, expected_version=0)
        assert labelling.labels_state(gold_of(quote_article))["topics"] == ["Syria"]


class TestVersions:
    def test_stale_version_changes_nothing(self, quote_article, reviewer, work):
        first, second = work
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        before = gold_state(quote_article)
        calls = [
            lambda v: services.gold_span_accept(article=quote_article, reviewer=reviewer, span=second,
                                                expected_version=v),
            lambda v: services.gold_span_reject(article=quote_article, reviewer=reviewer, span=second,
                                                expected_version=v, reason="no"),
            lambda v: services.gold_labels_set(article=quote_article, reviewer=reviewer, topic_ids=[], stances={},
                                               expected_version=v, reason="r"),
            lambda v: services.gold_mark_reviewed(article=quote_article, reviewer=reviewer, expected_version=v),
        ]
        for call in calls:
            for stale in (0, 1, 3):
                with pytest.raises(StaleVersion) as error:
                    call(stale)
                assert error.value.code == "stale"
        assert gold_state(quote_article) == before

    def test_second_reviewer_saving_from_an_old_page_gets_the_conflict(self, quote_article, reviewer,
                                                                       second_reviewer, work):
        first, second = work
        # Both opened the page before there was any gold (version 0).
        services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
        with pytest.raises(StaleVersion) as error:
            services.gold_span_accept(article=quote_article, reviewer=second_reviewer, span=second, expected_version=0)
        assert "version 2" in error.value.messages[0]
        gold = gold_of(quote_article)
        assert list(gold.spans.values_list("label__name", flat=True)) == ["Quote"]
        assert gold.annotator == reviewer
        gold_span = gold.spans.get()
        with pytest.raises(StaleVersion):
            services.gold_span_delete(article=quote_article, reviewer=second_reviewer, span=gold_span,
                                      expected_version=1)
        assert gold.spans.count() == 1

    def test_version_without_gold_is_stale(self, quote_article, reviewer, work):
        first, _ = work
        with pytest.raises(ValidationError) as error:
            services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=4)
        assert error.value.code == "stale"
        assert gold_of(quote_article) is None


def test_mark_reviewed(quote_article, reviewer, work):
    first, _ = work
    services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0)
    gold = services.gold_mark_reviewed(article=quote_article, reviewer=reviewer, expected_version=2)
    gold.refresh_from_db()
    assert (gold.status, gold.version) == ("submitted", 3)
    assert gold.submitted_at is not None
    change = gold.changes.latest("id")
    assert (change.action, change.actor, change.before, change.after) == (
        "submit", reviewer, {"status": "in_progress"}, {"status": "submitted"}
    )
    # Analysts' annotations keep their own state.
    assert set(Annotation.objects.filter(kind="analyst").values_list("status", flat=True)) == {"submitted"}
