"""The model in the analyst's loop (issue #15, ninth session): stance suggestions, a rejection
that holds across model versions, and the files of versions no longer used deleted."""

import pytest
from django.urls import reverse

from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation
from annotator.suggestions.models import Suggestion, SuggestionDecision
from annotator.suggestions.services import (
    suggestion_accept, suggestion_counts, suggestion_reject, suggestion_topics_chosen, suggestions_accept_all,
    suggestions_pending,
)
from annotator.training import services
from annotator.training.models import ArticleCertainty, ModelVersion
from tests.factories import ArticleFactory

from .conftest import make_gold, reviewed_corpus

pytestmark = pytest.mark.django_db


def train(project, user, capture):
    with capture(execute=True):
        version = services.model_training_start(project=project, user=user)
    version.refresh_from_db()
    assert version.status == "ready", version.error
    return version


@pytest.fixture
def trained(project, reviewer, django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 40)
    return train(project, reviewer, django_capture_on_commit_callbacks)


def stance_of(annotation):
    return dict(annotation.stances.values_list("target__name", "value__name"))


def pending_stance(article, annotation):
    return [s for s in suggestions_pending(article=article, annotation=annotation) if s.kind == "stance"]


class TestStanceSuggestions:
    def test_accepted_it_is_the_analysts_stance_with_the_version_as_provenance(self, project, analyst, trained):
        article = ArticleFactory(project=project, text="Pelmador officials said the council met today.")
        services.model_suggestions_compute(article=article)
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        [suggestion] = pending_stance(article, annotation)
        assert (suggestion.source, suggestion.what) == (trained.source, "the West: critical")
        suggestion_accept(annotation=annotation, suggestion=suggestion, actor=analyst)
        assert stance_of(annotation) == {"the West": "critical"}
        decision = SuggestionDecision.objects.get(annotation=annotation, key=suggestion.key)
        assert (decision.source, decision.decision) == (trained.source, "accepted")
        assert pending_stance(article, annotation) == []
        [counted] = [row for row in suggestion_counts(project=project) if row["source"] == trained.source]
        assert (counted["accepted"], counted["corrected"], counted["rejected"]) == (1, 0, 0)
        # Changed afterwards in the select: counted as corrected; cleared: as rejected.
        west = project.stance_targets.get(name="the West")
        for value, expected in ((project.stance_values.get(name="neutral").id, (0, 1, 0)), (None, (0, 0, 1))):
            labelling.document_labels_set(annotation=annotation, topic_ids=[], stances={west.id: value}, actor=analyst)
            [counted] = [row for row in suggestion_counts(project=project) if row["source"] == trained.source]
            assert (counted["accepted"], counted["corrected"], counted["rejected"]) == expected

    def test_rejected_it_is_not_shown_again_and_counts(self, project, analyst, trained):
        article = ArticleFactory(project=project, text="Pelmador officials said the council met today.")
        services.model_suggestions_compute(article=article)
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        [suggestion] = pending_stance(article, annotation)
        suggestion_reject(annotation=annotation, suggestion=suggestion)
        assert pending_stance(article, annotation) == [] and stance_of(annotation) == {}
        services.model_suggestions_compute(article=article)  # computed again: still decided
        assert pending_stance(article, annotation) == []
        [counted] = [row for row in suggestion_counts(project=project) if row["source"] == trained.source]
        assert (counted["accepted"], counted["rejected"]) == (0, 1)

    def test_chosen_in_the_form_it_is_accepted_or_corrected(self, project, analyst, trained):
        west = project.stance_targets.get(name="the West")
        values = dict(project.stance_values.values_list("name", "id"))
        outcomes = []
        for chosen in ("critical", "supportive"):
            article = ArticleFactory(project=project, text=f"Pelmador officials said the council met ({chosen}).")
            services.model_suggestions_compute(article=article)
            annotation = Annotation.objects.create(article=article, annotator=analyst)
            labelling.document_labels_set(annotation=annotation, topic_ids=[], stances={west.id: values[chosen]},
                                          actor=analyst)
            suggestion_topics_chosen(annotation=annotation)
            outcomes.append(SuggestionDecision.objects.get(annotation=annotation, key__startswith="stance:").decision)
            # An analyst who chose a stance is not asked again about that target.
            assert pending_stance(article, annotation) == []
        assert outcomes == ["accepted", "corrected"]

    def test_accept_all_takes_the_stance_too(self, project, analyst, trained):
        article = ArticleFactory(project=project, text="Pelmador officials said the council met today.")
        services.model_suggestions_compute(article=article)
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        suggestions_accept_all(annotation=annotation, actor=analyst)
        assert stance_of(annotation) == {"the West": "critical"}
        assert list(annotation.topics.values_list("name", flat=True)) == ["Syria"]

    def test_never_on_a_reviewed_article(self, project, analyst, reviewer, trained):
        article = ArticleFactory(project=project, text="Pelmador officials said the council met today.")
        services.model_suggestions_compute(article=article)
        assert Suggestion.objects.filter(article=article, kind="stance").exists()
        make_gold(article, reviewer, [], stance="neutral")
        services.model_suggestions_compute(article=article)
        assert not Suggestion.objects.filter(article=article, source__startswith="model:").exists()
        assert not ArticleCertainty.objects.filter(article=article).exists()

    def test_the_page_pre_marks_it_and_a_click_accepts_it(self, project, analyst, client, trained):
        analyst_client = client
        analyst_client.force_login(analyst)
        article = ArticleFactory(project=project, text="Pelmador officials said the council met today.")
        services.model_suggestions_compute(article=article)
        west = project.stance_targets.get(name="the West")
        page = analyst_client.get(reverse("label_article", args=[project.id, article.id])).text
        assert f'id="stance-suggested-{west.id}">suggested: critical</span>' in page
        assert "critical (suggested)</option>" in page
        assert f'<option value="{project.stance_values.get(name="critical").id}" selected' not in page  # not chosen
        [suggestion] = Suggestion.objects.filter(article=article, kind="stance")
        response = analyst_client.post(reverse("suggestion_accept", args=[project.id, article.id, suggestion.id]),
                                       headers={"HX-Request": "true"})
        assert response.status_code == 200, response.text
        assert "Stance chosen toward the West: critical." in response.text
        value = project.stance_values.get(name="critical").id
        assert f'<option value="{value}" selected>critical</option>' in response.text  # the select, swapped in
        annotation = Annotation.objects.get(article=article, annotator=analyst)
        assert stance_of(annotation) == {"the West": "critical"}


class TestAcrossModelVersions:
    def test_a_rejected_topic_does_not_come_back_from_a_newer_model(self, project, analyst, reviewer, trained,
                                                                     django_capture_on_commit_callbacks):
        from tests.factories import UserFactory
        from annotator.projects.models import Membership

        article = ArticleFactory(project=project, text="Quillane officials said the council met today.")
        services.model_suggestions_compute(article=article)
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        [topic] = [s for s in suggestions_pending(article=article, annotation=annotation) if s.kind == "topic"]
        assert topic.topic.name == "Ukraine"
        suggestion_reject(annotation=annotation, suggestion=topic)

        newer = train(project, reviewer, django_capture_on_commit_callbacks)
        assert newer.id != trained.id
        rows = Suggestion.objects.filter(article=article, source=newer.source, kind="topic")
        assert [r.topic.name for r in rows] == ["Ukraine"]  # proposed again by the newer version...
        kinds = [s.kind for s in suggestions_pending(article=article, annotation=annotation)]
        assert "topic" not in kinds  # ...but not to the analyst who rejected it
        # Another analyst, who has not decided it, still sees it.
        other = UserFactory(username="other")
        Membership.objects.create(project=project, user=other, role="analyst")
        theirs = Annotation.objects.create(article=article, annotator=other)
        assert [s.topic.name for s in suggestions_pending(article=article, annotation=theirs) if s.kind == "topic"] == [
            "Ukraine"]


class TestModelFiles:
    def test_old_versions_files_are_deleted_keeping_the_newest_k(self, project, reviewer, settings, model_root,
                                                                 django_capture_on_commit_callbacks):
        settings.ANNOTATOR_MODEL_KEEP = 2
        reviewed_corpus(project, reviewer, 30)
        ArticleFactory(project=project, text="Vostrak officials said the council met.")
        versions = [train(project, reviewer, django_capture_on_commit_callbacks) for _ in range(3)]
        files = [model_root / f"{project.id}" / f"{v.id}.pkl" for v in versions]
        for version in versions:
            version.refresh_from_db()
        # The oldest is outside the two newest, and its suggestions were replaced: file gone, row kept.
        assert [f.is_file() for f in files] == [False, True, True]
        assert [v.artifact for v in versions] == ["", f"{project.id}/{versions[1].id}.pkl",
                                                  f"{project.id}/{versions[2].id}.pkl"]
        assert versions[0].status == "ready" and versions[0].scores["topics"]
        assert services.model_files_prune(project_id=project.id) == []  # run twice: nothing more

    def test_a_version_whose_suggestions_remain_keeps_its_file(self, project, reviewer, settings, model_root,
                                                               django_capture_on_commit_callbacks):
        settings.ANNOTATOR_MODEL_KEEP = 1
        reviewed_corpus(project, reviewer, 30)
        waiting = ArticleFactory(project=project, text="Vostrak officials said the council met.")
        first = train(project, reviewer, django_capture_on_commit_callbacks)
        # The second becomes ready, but the worker has not yet replaced the first's suggestions.
        with django_capture_on_commit_callbacks(execute=False):
            second = services.model_training_start(project=project, user=reviewer)
        from annotator.training.tasks import model_train

        with django_capture_on_commit_callbacks(execute=False):
            model_train.call(str(second.id))
        first.refresh_from_db()
        assert Suggestion.objects.filter(source=first.source, article=waiting).exists()
        assert (model_root / first.artifact).is_file()
        # Once they are replaced, the first is no longer used and goes.
        services.model_suggestions_compute(article=waiting)
        assert services.model_files_prune(project_id=project.id) == [first.id]
        first.refresh_from_db()
        assert first.artifact == "" and not (model_root / f"{project.id}" / f"{first.id}.pkl").exists()
        assert ModelVersion.objects.filter(pk=first.pk, status="ready").exists()


def test_the_certainty_is_the_least_sure_decisions_margin(project, trained):
    sure = ArticleFactory(project=project, text="Pelmador pelmador officials said the council met today.")
    unsure = ArticleFactory(project=project, text="Officials met.")
    for article in (sure, unsure):
        services.model_suggestions_compute(article=article)
    margins = dict(ArticleCertainty.objects.values_list("article_id", "margin"))
    assert 0 <= margins[unsure.id] < margins[sure.id] <= 1
    assert ArticleCertainty.objects.get(article=sure).version == trained
