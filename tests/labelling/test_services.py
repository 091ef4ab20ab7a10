import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.corpus.text import utf16_length
from annotator.labelling import queries, services
from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.projects.models import RelationType, SpanAttribute, StanceTarget, StanceValue, Topic
from tests.factories import ArticleFactory, UserFactory, make_project

from .helpers import mark

pytestmark = pytest.mark.django_db

QUOTE = "the West is trying to pull Armenia away"
FAMILY = "👩\u200d👩\u200d👧"  # woman, ZWJ, woman, ZWJ, girl: five code points, eight UTF-16 units


def create(article, user, label, start, end, text, client_id=None):
    return services.span_create(
        article=article, annotator=user, label=label, start=start, end=end, text=text,
        client_id=client_id or uuid.uuid4(),
    )


def assert_refused(code, call):
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


class TestSpanCreate:
    def test_saves_text_offsets_label_and_annotation(self, quote_article, analyst, labels):
        start = quote_article.text.index(QUOTE)
        client_id = uuid.uuid4()

        span = create(quote_article, analyst, labels["Quote"], start, start + len(QUOTE), QUOTE, client_id)

        stored = Span.objects.get()
        assert stored.pk == span.pk
        assert (stored.start, stored.end, stored.text) == (start, start + len(QUOTE), QUOTE)
        assert (start, start + len(QUOTE)) == (13, 52)
        assert stored.label == labels["Quote"]
        assert stored.client_id == client_id
        assert stored.attributes == {}
        annotation = Annotation.objects.get()
        assert stored.annotation == annotation
        assert (annotation.article, annotation.annotator, annotation.status) == (quote_article, analyst, "in_progress")

    def test_second_span_reuses_the_annotation(self, quote_article, analyst, labels):
        mark(quote_article, analyst, labels["Quote"], QUOTE)
        mark(quote_article, analyst, labels["Source"], "Lavrov")
        assert Annotation.objects.count() == 1
        assert Span.objects.count() == 2

    def test_text_mismatch_is_refused_and_nothing_saved(self, quote_article, analyst, labels):
        start = quote_article.text.index(QUOTE)
        error = assert_refused(
            "text_mismatch",
            lambda: create(quote_article, analyst, labels["Quote"], start, start + len(QUOTE), QUOTE.upper()),
        )
        assert QUOTE[:20] in error.messages[0]
        assert Span.objects.count() == 0
        assert Annotation.objects.count() == 0

    def test_one_off_offsets_are_a_mismatch(self, quote_article, analyst, labels):
        start = quote_article.text.index(QUOTE)
        assert_refused(
            "text_mismatch",
            lambda: create(quote_article, analyst, labels["Quote"], start + 1, start + 1 + len(QUOTE), QUOTE),
        )
        assert Span.objects.count() == 0

    @pytest.mark.parametrize(
        "start, end",
        [(-1, 3), (0, 0), (5, 5), (6, 5), (0, None), (None, None)],
        ids=["negative-start", "empty-at-0", "empty", "reversed", "end-past-text", "start-at-end"],
    )
    def test_offsets_outside_the_text_are_refused(self, quote_article, analyst, labels, start, end):
        length = len(quote_article.text)
        start = length if start is None else start
        end = length + 1 if end is None else end
        text = quote_article.text[max(start, 0) : end]
        assert_refused("out_of_range", lambda: create(quote_article, analyst, labels["Quote"], start, end, text))
        assert Span.objects.count() == 0
        assert Annotation.objects.count() == 0

    def test_whole_text_is_allowed(self, quote_article, analyst, labels):
        text = quote_article.text
        span = create(quote_article, analyst, labels["Claim"], 0, len(text), text)
        assert (span.start, span.end) == (0, len(text))

    def test_label_of_another_project_is_refused(self, quote_article, analyst):
        other = make_project(name="Other")
        foreign = other.span_labels.get(name="Quote")
        start = quote_article.text.index(QUOTE)
        assert_refused(
            "wrong_project", lambda: create(quote_article, analyst, foreign, start, start + len(QUOTE), QUOTE)
        )
        assert Span.objects.count() == 0

    def test_same_client_id_twice_returns_the_first_span(self, quote_article, analyst, labels):
        client_id = uuid.uuid4()
        first = mark(quote_article, analyst, labels["Quote"], QUOTE, client_id=client_id)
        again = mark(quote_article, analyst, labels["Quote"], QUOTE, client_id=client_id)
        assert again.pk == first.pk
        assert Span.objects.count() == 1

    def test_same_client_id_for_other_offsets_is_refused(self, quote_article, analyst, labels):
        client_id = uuid.uuid4()
        first = mark(quote_article, analyst, labels["Quote"], QUOTE, client_id=client_id)
        assert_refused(
            "client_id_reused",
            lambda: mark(quote_article, analyst, labels["Quote"], "Lavrov", client_id=client_id),
        )
        assert list(Span.objects.values_list("id", "start", "end")) == [(first.id, first.start, first.end)]

    def test_same_client_id_with_another_label_is_refused(self, quote_article, analyst, labels):
        client_id = uuid.uuid4()
        mark(quote_article, analyst, labels["Quote"], QUOTE, client_id=client_id)
        assert_refused(
            "client_id_reused", lambda: mark(quote_article, analyst, labels["Claim"], QUOTE, client_id=client_id)
        )
        assert Span.objects.get().label == labels["Quote"]

    def test_same_client_id_from_two_annotators_is_two_spans(self, quote_article, analyst, second_analyst, labels):
        client_id = uuid.uuid4()
        a = mark(quote_article, analyst, labels["Quote"], QUOTE, client_id=client_id)
        b = mark(quote_article, second_analyst, labels["Quote"], QUOTE, client_id=client_id)
        assert a.pk != b.pk
        assert Span.objects.count() == 2

    def test_nested_and_overlapping_spans_are_allowed(self, quote_article, analyst, labels):
        outer = mark(quote_article, analyst, labels["Quote"], QUOTE)
        inner = mark(quote_article, analyst, labels["Source"], "West")
        same_range = mark(quote_article, analyst, labels["Claim"], QUOTE)
        overlapping = mark(quote_article, analyst, labels["Claim"], "pull Armenia away”.\nThe ministry")
        assert outer.start < inner.start < inner.end < outer.end
        assert outer.start < overlapping.start < outer.end < overlapping.end
        assert (same_range.start, same_range.end) == (outer.start, outer.end)
        assert Span.objects.count() == 4

    def test_offsets_count_code_points_in_emoji_with_zwj(self, project, analyst, labels):
        article = ArticleFactory(project=project, text=f"{FAMILY} x")
        assert len(article.text) == 7 and utf16_length(article.text) == 10

        family = create(article, analyst, labels["Source"], 0, 5, FAMILY)
        x = create(article, analyst, labels["Claim"], 6, 7, "x")

        assert Span.objects.get(pk=family.pk).text == FAMILY
        assert Span.objects.get(pk=x.pk).text == "x"
        # The browser's UTF-16 offsets of "x" are [9, 10): the server must not take them.
        assert_refused("out_of_range", lambda: create(article, analyst, labels["Claim"], 9, 10, "x"))
        assert_refused("text_mismatch", lambda: create(article, analyst, labels["Claim"], 0, 2, "👩"))
        assert Span.objects.count() == 2

    def test_offsets_count_code_points_with_combining_marks(self, project, analyst, labels):
        # q + COMBINING DOT ABOVE has no precomposed form, so NFC keeps two code points;
        # Arabic harakat are combining marks too.
        text = "q\u0307 then مُحَمَّد said x"
        article = ArticleFactory(project=project, text=text)
        arabic = "مُحَمَّد"
        start = article.text.index(arabic)
        assert (start, len(arabic)) == (8, 8)

        span = create(article, analyst, labels["Source"], start, start + len(arabic), arabic)
        dotted = create(article, analyst, labels["Claim"], 0, 2, "q\u0307")

        assert Span.objects.get(pk=span.pk).text == arabic
        assert article.text[span.start : span.end] == arabic
        assert Span.objects.get(pk=dotted.pk).text == "q\u0307"


class TestSpanConstraints:
    """The database refuses what the service would refuse, whoever writes."""

    @pytest.fixture
    def annotation(self, quote_article, analyst):
        return Annotation.objects.create(article=quote_article, annotator=analyst)

    def test_length_must_match_text(self, annotation, labels):
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(annotation=annotation, label=labels["Quote"], start=0, end=10, text="Lavrov")
        assert Span.objects.count() == 0

    def test_start_must_be_before_end(self, annotation, labels):
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(annotation=annotation, label=labels["Quote"], start=5, end=5, text="")
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(annotation=annotation, label=labels["Quote"], start=6, end=5, text="")
        assert Span.objects.count() == 0

    def test_client_id_is_unique_per_annotation(self, annotation, labels):
        client_id = uuid.uuid4()
        Span.objects.create(annotation=annotation, label=labels["Quote"], start=0, end=6, text="Lavrov",
                            client_id=client_id)
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(annotation=annotation, label=labels["Quote"], start=7, end=11, text="said",
                                client_id=client_id)
        assert Span.objects.count() == 1

    def test_length_is_counted_in_code_points(self, project, analyst, labels):
        article = ArticleFactory(project=project, text=f"{FAMILY} x")
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        Span.objects.create(annotation=annotation, label=labels["Source"], start=0, end=5, text=FAMILY)
        with pytest.raises(IntegrityError), transaction.atomic():
            # Eight is the UTF-16 length: the database must count code points, as Python does.
            Span.objects.create(annotation=annotation, label=labels["Source"], start=0, end=8, text=FAMILY)
        assert Span.objects.count() == 1

    def test_relation_cannot_link_a_span_to_itself(self, quote_article, analyst, labels, relation_types):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        with pytest.raises(IntegrityError), transaction.atomic():
            Relation.objects.create(annotation=span.annotation, type=relation_types["speaker"], source=span,
                                    target=span)


class TestSpanUpdate:
    def test_attributes_are_cleaned_to_the_labels_own(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Claim"], QUOTE)
        services.span_update(
            span=span,
            label=labels["Claim"],
            attributes={"claimant": "  Lavrov  ", "stance": "critical", "target": "NATO", "speaker": "x",
                        "bogus": "y", "target2": "the West"},
        )
        span.refresh_from_db()
        assert span.attributes == {"claimant": "Lavrov", "stance": "critical", "target": "NATO"}

    def test_blank_attributes_are_dropped(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Claim"], QUOTE)
        services.span_update(span=span, label=labels["Claim"], attributes={"claimant": "   ", "stance": ""})
        span.refresh_from_db()
        assert span.attributes == {}

    def test_stance_must_be_one_of_the_projects_values(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Claim"], QUOTE)
        services.span_update(span=span, label=labels["Claim"], attributes={"stance": "neutral"})
        assert_refused(
            "bad_attribute",
            lambda: services.span_update(span=span, label=labels["Claim"], attributes={"stance": "furious"}),
        )
        assert Span.objects.get(pk=span.pk).attributes == {"stance": "neutral"}

    def test_target_must_be_one_of_the_projects_targets(self, quote_article, analyst, labels):
        other = make_project(name="Other")
        StanceTarget.objects.create(project=other, name="Mars")
        StanceValue.objects.create(project=other, name="ecstatic")
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)

        assert_refused(
            "bad_attribute",
            lambda: services.span_update(span=span, label=labels["Quote"], attributes={"target": "Mars"}),
        )
        assert_refused(
            "bad_attribute",
            lambda: services.span_update(span=span, label=labels["Quote"], attributes={"stance": "ecstatic"}),
        )
        assert Span.objects.get(pk=span.pk).attributes == {}
        services.span_update(span=span, label=labels["Quote"], attributes={"target": "the West"})
        assert Span.objects.get(pk=span.pk).attributes == {"target": "the West"}

    def test_free_text_attribute_accepts_any_text(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.span_update(span=span, label=labels["Quote"], attributes={"speaker": "سيرغي لافروف <b>"})
        assert Span.objects.get(pk=span.pk).attributes == {"speaker": "سيرغي لافروف <b>"}

    def test_label_change_keeps_only_the_new_labels_attributes(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.span_update(
            span=span, label=labels["Claim"], attributes={"speaker": "Lavrov", "claimant": "Lavrov", "stance": "critical"}
        )
        span.refresh_from_db()
        assert span.label == labels["Claim"]
        assert span.attributes == {"claimant": "Lavrov", "stance": "critical"}

    def test_label_of_another_project_is_refused(self, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        foreign = make_project(name="Other").span_labels.get(name="Claim")
        assert_refused("wrong_project", lambda: services.span_update(span=span, label=foreign, attributes={}))
        assert Span.objects.get(pk=span.pk).label == labels["Quote"]

    @pytest.fixture
    def linked(self, quote_article, analyst, labels, relation_types):
        """A quote and a claim, each linked to the same source span."""
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        claim = mark(quote_article, analyst, labels["Claim"], "repeated the claim")
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        speaker = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        said_by = services.relation_create(relation_type=relation_types["source"], source=claim, target=source)
        return quote, claim, source, speaker, said_by

    def test_label_change_removes_outgoing_links_the_new_label_cannot_make(self, linked, labels):
        quote, claim, source, speaker, said_by = linked
        services.span_update(span=quote, label=labels["Claim"], attributes={})
        assert list(Relation.objects.values_list("id", flat=True)) == [said_by.id]

    def test_label_change_removes_incoming_links_the_new_label_cannot_receive(self, linked, labels):
        quote, claim, source, speaker, said_by = linked
        services.span_update(span=source, label=labels["Quote"], attributes={})
        assert Relation.objects.count() == 0
        assert Span.objects.count() == 3

    def test_same_label_keeps_links(self, linked, labels):
        quote, claim, source, speaker, said_by = linked
        services.span_update(span=quote, label=labels["Quote"], attributes={"speaker": "Lavrov"})
        services.span_update(span=source, label=labels["Source"], attributes={})
        assert set(Relation.objects.values_list("id", flat=True)) == {speaker.id, said_by.id}

    def test_links_to_any_label_survive_a_target_label_change(self, project, quote_article, analyst, labels):
        mentions = RelationType.objects.create(project=project, name="mentions", source_label=labels["Claim"])
        claim = mark(quote_article, analyst, labels["Claim"], QUOTE)
        other = mark(quote_article, analyst, labels["Source"], "Lavrov")
        relation = services.relation_create(relation_type=mentions, source=claim, target=other)
        services.span_update(span=other, label=labels["Quote"], attributes={})
        assert list(Relation.objects.values_list("id", flat=True)) == [relation.id]

    def test_refused_update_leaves_links_and_label_alone(self, linked, labels):
        quote, claim, source, speaker, said_by = linked
        assert_refused(
            "bad_attribute",
            lambda: services.span_update(span=quote, label=labels["Claim"], attributes={"stance": "furious"}),
        )
        assert Relation.objects.count() == 2
        assert Span.objects.get(pk=quote.pk).label == labels["Quote"]

    def test_links_a_deleted_span_ends_each_have_their_history_line(self, linked):
        quote, claim, source, speaker, said_by = linked
        annotation = Annotation.objects.get(pk=source.annotation_id)
        version, source_id = annotation.version, source.id
        services.span_delete(span=source)
        assert Relation.objects.count() == 0
        lines = list(Change.objects.filter(annotation=annotation).order_by("-id")[:3].values_list(
            "action", "subject", "subject_id", "before"))[::-1]
        assert lines[2][:3] == ("delete", "span", source_id)
        assert sorted(line[:3] for line in lines[:2]) == sorted(
            [("delete", "relation", speaker.id), ("delete", "relation", said_by.id)])
        assert {(line[3]["type"], line[3]["source_text"], line[3]["target_text"]) for line in lines[:2]} == {
            ("speaker", quote.text, "Lavrov"), ("source", claim.text, "Lavrov")}
        assert Annotation.objects.get(pk=annotation.pk).version == version + 1  # one change, one version

    def test_links_a_new_label_ends_each_have_their_history_line(self, linked, labels):
        quote, claim, source, speaker, said_by = linked
        services.span_update(span=quote, label=labels["Claim"], attributes={})
        removed, updated = Change.objects.filter(annotation_id=quote.annotation_id).order_by("-id")[:2][::-1]
        assert (removed.action, removed.subject, removed.subject_id) == ("delete", "relation", speaker.id)
        assert removed.before["type"] == "speaker"
        assert (updated.action, updated.subject, updated.subject_id) == ("update", "span", quote.id)


class TestSpeakerOnce:
    """A quote's speaker is its `speaker` link when the speaker is named in the text, typed only when not."""

    def test_linking_clears_a_typed_speaker_and_says_so_in_the_history(self, quote_article, analyst, labels,
                                                                         relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.span_update(span=quote, label=labels["Quote"], attributes={"speaker": "Sergei Lavrov",
                                                                             "stance": "critical"})
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        version = Annotation.objects.get(pk=quote.annotation_id).version
        relation = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        quote.refresh_from_db()
        assert quote.attributes == {"stance": "critical"}
        created, cleared = Change.objects.filter(annotation=quote.annotation).order_by("-id")[:2][::-1]
        assert (created.action, created.subject, created.subject_id) == ("create", "relation", relation.id)
        assert (cleared.action, cleared.subject, cleared.subject_id, cleared.actor) == ("update", "span", quote.id, analyst)
        assert cleared.before["attributes"] == {"speaker": "Sergei Lavrov", "stance": "critical"}
        assert cleared.reason == ("The speaker is the linked span “Lavrov”: the free-text speaker “Sergei Lavrov” "
                                  "was removed.")
        assert Annotation.objects.get(pk=quote.annotation_id).version == version + 2

    def test_while_linked_a_typed_speaker_is_not_kept_and_unlinking_allows_it_again(
        self, quote_article, analyst, labels, relation_types
    ):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        relation = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        services.span_update(span=quote, label=labels["Quote"], attributes={"speaker": "Putin", "stance": "critical"})
        assert Span.objects.get(pk=quote.pk).attributes == {"stance": "critical"}
        services.relation_delete(relation=relation)
        services.span_update(span=quote, label=labels["Quote"], attributes={"speaker": "an official"})
        assert Span.objects.get(pk=quote.pk).attributes == {"speaker": "an official"}

    def test_other_links_leave_attributes_alone(self, quote_article, analyst, labels, relation_types):
        claim = mark(quote_article, analyst, labels["Claim"], QUOTE)
        services.span_update(span=claim, label=labels["Claim"], attributes={"claimant": "Lavrov", "stance": "critical"})
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        services.relation_create(relation_type=relation_types["source"], source=claim, target=source)
        assert Span.objects.get(pk=claim.pk).attributes == {"claimant": "Lavrov", "stance": "critical"}


class TestRelations:
    def test_creates_one_relation(self, quote_article, analyst, labels, relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        relation = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        again = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        assert again.pk == relation.pk
        stored = Relation.objects.get()
        assert (stored.source, stored.target, stored.type, stored.annotation) == (
            quote, source, relation_types["speaker"], quote.annotation,
        )

    def test_wrong_source_label_is_refused(self, quote_article, analyst, labels, relation_types):
        claim = mark(quote_article, analyst, labels["Claim"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        assert_refused(
            "wrong_labels",
            lambda: services.relation_create(relation_type=relation_types["speaker"], source=claim, target=source),
        )
        assert Relation.objects.count() == 0

    def test_wrong_target_label_is_refused(self, quote_article, analyst, labels, relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        claim = mark(quote_article, analyst, labels["Claim"], "Lavrov")
        assert_refused(
            "wrong_labels",
            lambda: services.relation_create(relation_type=relation_types["speaker"], source=quote, target=claim),
        )
        assert Relation.objects.count() == 0

    def test_spans_of_two_annotators_are_refused(self, quote_article, analyst, second_analyst, labels,
                                                 relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        theirs = mark(quote_article, second_analyst, labels["Source"], "Lavrov")
        assert_refused(
            "cross_annotation",
            lambda: services.relation_create(relation_type=relation_types["speaker"], source=quote, target=theirs),
        )
        assert Relation.objects.count() == 0

    def test_spans_of_two_articles_are_refused(self, project, quote_article, analyst, labels, relation_types):
        elsewhere = ArticleFactory(project=project, text="Lavrov again.")
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(elsewhere, analyst, labels["Source"], "Lavrov")
        assert_refused(
            "cross_annotation",
            lambda: services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source),
        )
        assert Relation.objects.count() == 0

    def test_self_link_is_refused(self, project, quote_article, analyst, labels):
        anything = RelationType.objects.create(project=project, name="refers", source_label=labels["Quote"])
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        assert_refused(
            "self_relation", lambda: services.relation_create(relation_type=anything, source=quote, target=quote)
        )
        assert Relation.objects.count() == 0

    def test_relation_type_of_another_project_is_refused(self, quote_article, analyst, labels):
        foreign = RelationType.objects.get(project=make_project(name="Other"), name="speaker")
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        assert_refused(
            "wrong_project", lambda: services.relation_create(relation_type=foreign, source=quote, target=source)
        )
        assert Relation.objects.count() == 0

    def test_deleting_a_span_deletes_its_relations(self, quote_article, analyst, labels, relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        claim = mark(quote_article, analyst, labels["Claim"], "repeated the claim")
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        services.relation_create(relation_type=relation_types["source"], source=claim, target=source)

        services.span_delete(span=source)

        assert Relation.objects.count() == 0
        assert set(Span.objects.values_list("id", flat=True)) == {quote.id, claim.id}

    def test_relation_delete(self, quote_article, analyst, labels, relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        relation = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        services.relation_delete(relation=relation)
        assert Relation.objects.count() == 0
        assert Span.objects.count() == 2


class TestDocumentLabels:
    @pytest.fixture
    def annotation(self, article, analyst):
        return services.annotation_get_or_create(article=article, annotator=analyst)

    def topic(self, project, name):
        return Topic.objects.get(project=project, name=name)

    def test_topics_are_set_and_replaced(self, project, annotation):
        armenia, syria, other = (self.topic(project, n) for n in ("Armenia", "Syria", "Other"))
        services.document_labels_set(annotation=annotation, topic_ids=[armenia.id, syria.id], stances={})
        assert set(annotation.topics.values_list("name", flat=True)) == {"Armenia", "Syria"}

        services.document_labels_set(annotation=annotation, topic_ids=[other.id], stances={})
        assert list(annotation.topics.values_list("name", flat=True)) == ["Other"]

        services.document_labels_set(annotation=annotation, topic_ids=[], stances={})
        assert annotation.topics.count() == 0

    def test_stance_is_set_changed_and_cleared(self, project, annotation):
        west = project.stance_targets.get(name="the West")
        nato = project.stance_targets.get(name="NATO")
        critical = project.stance_values.get(name="critical")
        neutral = project.stance_values.get(name="neutral")

        services.document_labels_set(annotation=annotation, topic_ids=[], stances={west.id: critical.id, nato.id: neutral.id})
        assert dict(Stance.objects.values_list("target__name", "value__name")) == {
            "the West": "critical", "NATO": "neutral",
        }

        services.document_labels_set(annotation=annotation, topic_ids=[], stances={west.id: neutral.id})
        assert dict(Stance.objects.values_list("target__name", "value__name")) == {
            "the West": "neutral", "NATO": "neutral",
        }

        services.document_labels_set(annotation=annotation, topic_ids=[], stances={nato.id: None})
        assert dict(Stance.objects.values_list("target__name", "value__name")) == {"the West": "neutral"}
        assert Stance.objects.count() == 1

    def test_topic_of_another_project_is_refused(self, project, annotation):
        armenia = self.topic(project, "Armenia")
        services.document_labels_set(annotation=annotation, topic_ids=[armenia.id], stances={})
        foreign = Topic.objects.get(project=make_project(name="Other"), name="Syria")

        assert_refused(
            "bad_topic",
            lambda: services.document_labels_set(annotation=annotation, topic_ids=[foreign.id], stances={}),
        )
        assert list(annotation.topics.values_list("name", flat=True)) == ["Armenia"]

    def test_unknown_topic_is_refused(self, annotation):
        assert_refused(
            "bad_topic",
            lambda: services.document_labels_set(annotation=annotation, topic_ids=[987654], stances={}),
        )
        assert annotation.topics.count() == 0

    def test_stance_of_another_project_is_refused(self, project, annotation):
        other = make_project(name="Other")
        west = project.stance_targets.get(name="the West")
        critical = project.stance_values.get(name="critical")
        foreign_target = other.stance_targets.get(name="the West")
        foreign_value = other.stance_values.get(name="critical")

        assert_refused(
            "bad_stance",
            lambda: services.document_labels_set(
                annotation=annotation, topic_ids=[], stances={foreign_target.id: critical.id}
            ),
        )
        assert_refused(
            "bad_stance",
            lambda: services.document_labels_set(
                annotation=annotation, topic_ids=[], stances={west.id: foreign_value.id}
            ),
        )
        assert Stance.objects.count() == 0


class TestSubmitAndQueue:
    def test_submit_sets_status_and_time(self, article, analyst):
        annotation = services.annotation_get_or_create(article=article, annotator=analyst)
        assert annotation.submitted_at is None
        before = timezone.now()

        services.annotation_submit(annotation=annotation)

        annotation.refresh_from_db()
        assert annotation.status == Annotation.Status.SUBMITTED
        assert before <= annotation.submitted_at <= timezone.now() + timedelta(seconds=1)

    def test_get_or_create_returns_the_same_annotation(self, article, analyst):
        first = services.annotation_get_or_create(article=article, annotator=analyst)
        again = services.annotation_get_or_create(article=article, annotator=analyst)
        assert first.pk == again.pk
        assert Annotation.objects.count() == 1

    def test_progress_counts_this_users_finished_articles(self, project, analyst, second_analyst):
        articles = [ArticleFactory(project=project) for _ in range(5)]
        other = make_project(name="Other", analyst=analyst)
        elsewhere = ArticleFactory(project=other)
        assert queries.progress_for(project=project, user=analyst) == {"done": 0, "total": 5}

        services.annotation_submit(annotation=services.annotation_get_or_create(article=articles[0], annotator=analyst))
        Annotation.objects.create(article=articles[1], annotator=analyst, status=Annotation.Status.SKIPPED)
        services.annotation_get_or_create(article=articles[2], annotator=analyst)
        services.annotation_submit(
            annotation=services.annotation_get_or_create(article=articles[3], annotator=second_analyst)
        )
        services.annotation_submit(annotation=services.annotation_get_or_create(article=elsewhere, annotator=analyst))

        assert queries.progress_for(project=project, user=analyst) == {"done": 2, "total": 5}
        assert queries.progress_for(project=project, user=second_analyst) == {"done": 1, "total": 5}
        assert queries.progress_for(project=other, user=analyst) == {"done": 1, "total": 1}
        assert queries.progress_for(project=project, user=UserFactory()) == {"done": 0, "total": 5}


def test_attribute_kinds_of_the_default_schema(project):
    # The tests above lean on this schema: check it, so a schema change fails here first.
    kinds = {(a.label.name, a.name): a.kind for a in SpanAttribute.objects.filter(label__project=project)}
    assert kinds == {
        ("Claim", "claimant"): "text", ("Claim", "stance"): "stance", ("Claim", "target"): "target",
        ("Quote", "speaker"): "text", ("Quote", "stance"): "stance", ("Quote", "target"): "target",
    }
