"""Suggestions computed from the text alone, replaced idempotently, and decided by an analyst
through the labelling services (offsets checked, provenance kept, the k-claim and read-only rules)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Change, Relation
from annotator.projects.models import SpanLabel, Topic
from annotator.suggestions import services
from annotator.suggestions.models import Suggestion, SuggesterSettings, SuggestionDecision
from annotator.suggestions.services import suggestions_compute, suggestions_pending
from tests.factories import ArticleFactory, UserFactory, make_project

from .conftest import TEXT

pytestmark = pytest.mark.django_db


def rows(article, **filters):
    return sorted(
        (s.source, s.label.name if s.label_id else None, s.text or (s.topic.name if s.topic_id else s.key))
        for s in Suggestion.objects.filter(article=article, **filters).select_related("label", "topic")
    )


def own(article, user):
    return labelling.annotation_get_or_create(article=article, annotator=user, lock=True)


class TestCompute:
    def test_quotes_speakers_links_and_topics_from_the_text(self, suggested):
        assert rows(suggested, kind="span") == [
            ("rules:quotes", "Quote", "Nobody listens to us anymore."),
            ("rules:quotes", "Quote", "We are ready to talk with the West"),
            ("rules:quotes", "Quote", "روسيا مستعدة للحوار مع الغرب"),
            ("rules:speakers", "Source", "Foreign Minister Sergei Lavrov"),
            ("rules:speakers", "Source", "Lavrov"),
            ("rules:speakers", "Source", "TASS"),
            ("rules:speakers", "Source", "لافروف"),
        ]
        assert [s.topic.name for s in Suggestion.objects.filter(article=suggested, kind="topic")] == ["Armenia"]
        links = Suggestion.objects.filter(article=suggested, kind="relation").select_related("from_span", "to_span")
        assert sorted((r.from_span.text, r.to_span.text, r.relation_type.name) for r in links) == [
            ("Nobody listens to us anymore.", "Lavrov", "speaker"),
            ("We are ready to talk with the West", "Foreign Minister Sergei Lavrov", "speaker"),
            ("روسيا مستعدة للحوار مع الغرب", "لافروف", "speaker"),
        ]
        for s in Suggestion.objects.filter(article=suggested, kind="span"):
            assert suggested.text[s.start:s.end] == s.text

    def test_a_speaker_named_for_several_quotes_is_linked_to_each(self, project):
        article = ArticleFactory(project=project, text="Peskov said the talks had been “very useful” and “quite constructive”.")
        suggestions_compute(article=article)
        links = Suggestion.objects.filter(article=article, kind="relation").select_related("from_span", "to_span")
        assert sorted((r.from_span.text, r.to_span.text) for r in links) == [
            ("quite constructive", "Peskov"), ("very useful", "Peskov")]

    def test_computing_again_keeps_the_rows_and_changes_nothing(self, suggested):
        before = {(s.id, s.key) for s in Suggestion.objects.filter(article=suggested)}
        assert suggestions_compute(article=suggested) == len(before)
        assert {(s.id, s.key) for s in Suggestion.objects.filter(article=suggested)} == before

    def test_a_keyword_change_replaces_only_that_source_s_rows(self, suggested):
        quotes = set(Suggestion.objects.filter(article=suggested, source="rules:quotes").values_list("id", flat=True))
        Topic.objects.filter(project=suggested.project, name="Armenia").update(keywords="")
        Topic.objects.filter(project=suggested.project, name="Other").update(keywords="talks")
        suggestions_compute(article=suggested)
        assert [s.topic.name for s in Suggestion.objects.filter(article=suggested, kind="topic")] == ["Other"]
        assert set(Suggestion.objects.filter(article=suggested, source="rules:quotes").values_list("id", flat=True)) == quotes

    def test_a_suggester_turned_off_has_its_rows_removed(self, suggested):
        SuggesterSettings.objects.create(project=suggested.project, speakers=False, topics=False)
        suggestions_compute(article=suggested)
        assert {s.source for s in Suggestion.objects.filter(article=suggested)} == {"rules:quotes"}

    def test_a_project_without_the_labels_gets_no_span_suggestions(self, project):
        SpanLabel.objects.filter(project=project, name="Quote").update(name="Citation")
        SpanLabel.objects.filter(project=project, name="Source").update(name="Person")
        article = ArticleFactory(project=project, text=TEXT)
        suggestions_compute(article=article)
        assert set(Suggestion.objects.filter(article=article).values_list("kind", flat=True)) == {"topic"}

    def test_a_speaker_label_named_speaker_is_used(self, project):
        SpanLabel.objects.filter(project=project, name="Source").update(name="Speaker")
        article = ArticleFactory(project=project, text=TEXT)
        suggestions_compute(article=article)
        assert Suggestion.objects.filter(article=article, source="rules:speakers", label__name="Speaker").count() == 4

    def test_a_proposal_that_would_split_a_cluster_is_dropped(self, project):
        # The opening mark carries a combining mark: the quote would start inside that cluster.
        article = ArticleFactory(project=project, text="He said “\u0301we are ready to talk” today.")
        suggestions_compute(article=article)
        assert not Suggestion.objects.filter(article=article, kind="span").exists()

    def test_the_database_refuses_offsets_that_do_not_select_the_text(self, suggested):
        quote = SpanLabel.objects.get(project=suggested.project, name="Quote")
        for start, end, text in [(5, 5, ""), (5, 9, "abc"), (9, 5, "x")]:
            with pytest.raises(IntegrityError), transaction.atomic():
                Suggestion.objects.create(article=suggested, source="rules:quotes", kind="span", key=f"k{start}{end}",
                                          label=quote, start=start, end=end, text=text)
        with pytest.raises(IntegrityError), transaction.atomic():
            Suggestion.objects.create(article=suggested, source="rules:topics", kind="topic", key="t")

    def test_an_import_enqueues_the_computation_after_commit(self, project, django_capture_on_commit_callbacks):
        from annotator.corpus.services import article_import

        with django_capture_on_commit_callbacks(execute=True):
            report = article_import(project=project, files=[("a.txt", TEXT.encode())])
        [article] = report.created
        assert Suggestion.objects.filter(article=article, kind="span").count() == 7


class TestDecisions:
    def test_accepting_makes_an_ordinary_span_with_provenance(self, suggested, analyst):
        quote = Suggestion.objects.get(article=suggested, text="Nobody listens to us anymore.")
        annotation = own(suggested, analyst)
        span = services.suggestion_accept(annotation=annotation, suggestion=quote, actor=analyst)
        assert (span.label.name, span.text, span.suggested_by) == ("Quote", quote.text, "rules:quotes")
        assert Change.objects.filter(annotation=annotation, subject="span", subject_id=span.id).exists()
        decision = SuggestionDecision.objects.get(annotation=annotation)
        assert (decision.decision, decision.span, decision.suggestion) == ("accepted", span, quote)
        # Accepted again (a retried request): still one span.
        assert services.suggestion_accept(annotation=annotation, suggestion=quote, actor=analyst) == span
        assert annotation.spans.count() == 1

    def test_accepting_both_ends_makes_the_link(self, suggested, analyst):
        annotation = own(suggested, analyst)
        quote = Suggestion.objects.get(article=suggested, text="We are ready to talk with the West")
        speaker = Suggestion.objects.get(article=suggested, text="Foreign Minister Sergei Lavrov")
        services.suggestion_accept(annotation=annotation, suggestion=speaker, actor=analyst)
        assert not Relation.objects.exists()
        services.suggestion_accept(annotation=annotation, suggestion=quote, actor=analyst)
        [relation] = Relation.objects.filter(annotation=annotation)
        assert (relation.source.text, relation.target.text, relation.type.name) == (quote.text, speaker.text, "speaker")

    def test_a_rejected_suggestion_does_not_come_back(self, suggested, analyst):
        annotation = own(suggested, analyst)
        tass = Suggestion.objects.get(article=suggested, text="TASS")
        services.suggestion_reject(annotation=annotation, suggestion=tass)
        assert tass not in suggestions_pending(article=suggested, annotation=annotation)
        suggestions_compute(article=suggested)  # computed again: the decision still holds
        pending = suggestions_pending(article=suggested, annotation=annotation)
        assert "TASS" not in [s.text for s in pending] and len(pending) == 7
        assert SuggestionDecision.objects.get(annotation=annotation).decision == "rejected"

    def test_pending_leaves_out_what_the_analyst_has_and_what_is_off(self, suggested, analyst):
        annotation = own(suggested, analyst)
        quote = Suggestion.objects.get(article=suggested, text="Nobody listens to us anymore.")
        labelling.span_add(annotation=annotation, actor=analyst, label=quote.label, start=quote.start, end=quote.end,
                           text=quote.text)
        armenia = Topic.objects.get(project=suggested.project, name="Armenia")
        labelling.document_labels_set(annotation=annotation, topic_ids=[armenia.id], stances={})
        texts = [s.text or s.topic.name for s in suggestions_pending(article=suggested, annotation=annotation)]
        assert "Nobody listens to us anymore." not in texts and "Armenia" not in texts and len(texts) == 6
        SuggesterSettings.objects.create(project=suggested.project, quotes=False)
        assert {s.source for s in suggestions_pending(article=suggested, annotation=annotation)} == {"rules:speakers"}

    def test_another_analyst_s_decisions_are_not_seen(self, suggested, analyst, project):
        other = UserFactory()
        project.overlap = 2
        project.save()
        services.suggestion_reject(annotation=own(suggested, other),
                                   suggestion=Suggestion.objects.get(article=suggested, text="TASS"))
        assert len(suggestions_pending(article=suggested, annotation=own(suggested, analyst))) == 8

    def test_accepting_a_topic_chooses_it(self, suggested, analyst):
        annotation = own(suggested, analyst)
        topic = Suggestion.objects.get(article=suggested, kind="topic")
        assert services.suggestion_accept(annotation=annotation, suggestion=topic, actor=analyst) is None
        assert list(annotation.topics.values_list("name", flat=True)) == ["Armenia"]

    def test_accept_all(self, suggested, analyst):
        annotation = own(suggested, analyst)
        assert services.suggestions_accept_all(annotation=annotation, actor=analyst) == 8
        assert annotation.spans.count() == 7 and annotation.relations.count() == 3
        assert set(annotation.spans.values_list("suggested_by", flat=True)) == {"rules:quotes", "rules:speakers"}
        assert suggestions_pending(article=suggested, annotation=annotation) == []

    def test_a_hand_made_overlapping_span_corrects_the_suggestion(self, suggested, analyst):
        annotation = own(suggested, analyst)
        speaker = Suggestion.objects.get(article=suggested, text="Foreign Minister Sergei Lavrov")
        start = speaker.start + len("Foreign Minister ")
        span = labelling.span_add(annotation=annotation, actor=analyst, label=speaker.label, start=start,
                                  end=speaker.end, text=suggested.text[start:speaker.end])
        assert services.suggestion_match_span(span=span) == speaker
        span.refresh_from_db()
        assert span.suggested_by == "rules:speakers"
        assert SuggestionDecision.objects.get(annotation=annotation).decision == "corrected"
        # The quote accepted next links to the corrected speaker.
        quote = Suggestion.objects.get(article=suggested, text="We are ready to talk with the West")
        services.suggestion_accept(annotation=annotation, suggestion=quote, actor=analyst)
        assert annotation.relations.get().target == span

    def test_a_reviewed_article_refuses_decisions(self, suggested, analyst, admin_user):
        annotation = own(suggested, analyst)
        Annotation.objects.create(article=suggested, annotator=admin_user, kind="gold", status="submitted")
        for decide in (
            lambda s: services.suggestion_accept(annotation=annotation, suggestion=s, actor=analyst),
            lambda s: services.suggestion_reject(annotation=annotation, suggestion=s),
        ):
            with pytest.raises(ValidationError, match="reviewed"):
                decide(Suggestion.objects.get(article=suggested, text="TASS"))

    def test_a_suggester_turned_off_cannot_be_accepted(self, suggested, analyst):
        SuggesterSettings.objects.create(project=suggested.project, speakers=False)
        with pytest.raises(ValidationError, match="turned this suggester off"):
            services.suggestion_accept(annotation=own(suggested, analyst), actor=analyst,
                                       suggestion=Suggestion.objects.get(article=suggested, text="TASS"))

    def test_counts_per_suggester(self, suggested, analyst):
        annotation = own(suggested, analyst)
        get = lambda text: Suggestion.objects.get(article=suggested, text=text)  # noqa: E731
        services.suggestion_accept(annotation=annotation, suggestion=get("Lavrov"), actor=analyst)
        services.suggestion_accept(annotation=annotation, suggestion=get("Nobody listens to us anymore."), actor=analyst)
        services.suggestion_reject(annotation=annotation, suggestion=get("TASS"))
        counts = {row["source"]: row for row in services.suggestion_counts(project=suggested.project)}
        assert {k: counts["rules:speakers"][k] for k in ("accepted", "corrected", "rejected", "total")} == {
            "accepted": 1, "corrected": 0, "rejected": 1, "total": 2}
        assert counts["rules:quotes"]["accepted"] == 1

    def test_counts_follow_what_became_of_an_accepted_span(self, suggested, analyst, project):
        annotation = own(suggested, analyst)
        get = lambda text: Suggestion.objects.get(article=suggested, text=text)  # noqa: E731
        moved = services.suggestion_accept(annotation=annotation, suggestion=get("Lavrov"), actor=analyst)
        gone = services.suggestion_accept(annotation=annotation, suggestion=get("TASS"), actor=analyst)
        labelling.span_update(span=moved, label=project.span_labels.get(name="Claim"), attributes={})
        labelling.span_delete(span=gone)
        [row] = services.suggestion_counts(project=project)
        assert (row["accepted"], row["corrected"], row["rejected"]) == (0, 1, 1)

    def test_other_project_s_suggestion_is_refused(self, suggested, analyst):
        other = ArticleFactory(project=make_project(name="Other"), text=TEXT)
        suggestions_compute(article=other)
        with pytest.raises(ValidationError, match="another article"):
            services.suggestion_accept(annotation=own(suggested, analyst), actor=analyst,
                                       suggestion=Suggestion.objects.filter(article=other).first())
