"""Training from the project's gold and the model's suggestions, on a small synthetic corpus."""

import pytest
from django.core.exceptions import ValidationError

from annotator.review.services import gold_mark_reviewed
from annotator.suggestions.models import SuggesterSettings, Suggestion
from annotator.labelling.models import Annotation
from annotator.suggestions.services import suggestion_accept, suggestion_counts, suggestions_pending
from annotator.training import services
from annotator.training.models import ModelVersion, TrainingSettings
from tests.factories import ArticleFactory

from .conftest import KEYWORDS, reviewed_corpus

pytestmark = pytest.mark.django_db


def west_id(project):
    return project.stance_targets.get(name="the West").id


def value_id(project, name):
    return project.stance_values.get(name=name).id


def train(project, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        version = services.model_training_start(project=project, user=user)
    version.refresh_from_db()
    return version


def test_a_model_learns_which_word_means_which_topic(project, reviewer, model_root,
                                                      django_capture_on_commit_callbacks):
    articles = reviewed_corpus(project, reviewer, 80)
    waiting = ArticleFactory(project=project, text="Pelmador officials said the council met.")
    version = train(project, reviewer, django_capture_on_commit_callbacks)

    assert version.status == "ready", version.error
    assert (version.gold_count, version.train_count, version.test_count) == (80, 64, 16)
    assert version.gold_hash == services.gold_hash(a.id for a in articles)
    assert (model_root / version.artifact).is_file()
    scores = {row["label"]: row for row in version.scores["topics"]}
    assert all(scores[topic]["trained"] for topic in KEYWORDS)
    # The split is drawn anew for each version: a topic may have no held-out article this time.
    held_out = [scores[topic] for topic in KEYWORDS if scores[topic]["support"]]
    assert len(held_out) >= 2 and all(row["f1"] == 1.0 for row in held_out), scores
    assert version.scores["topics_micro_f1"] == 1.0
    assert not scores["Other"]["trained"]  # never in gold: nothing to learn
    [west] = [t for t in version.scores["stance"] if t["target"] == "the West"]
    assert {row["label"] for row in west["labels"]} == {"critical", "neutral"}
    sizes = [point["size"] for point in version.curve]
    assert sizes == sorted(sizes) and sizes[0] == 10 and sizes[-1] == 64
    assert all(0 <= point["f1"] <= 1 for point in version.curve)

    # The project's articles got the model's suggestions when it became ready; not the reviewed
    # ones, whose gold the model may have learned (labelling is blind).
    assert list(Suggestion.objects.filter(source=version.source, kind="topic").values_list("article", "topic__name")) == [
        (waiting.id, "Syria")]
    # And its stance: the articles naming Syria's keyword were critical of the West.
    assert list(Suggestion.objects.filter(source=version.source, kind="stance").values_list(
        "article", "key", "target__name", "stance_value__name")) == [
        (waiting.id, f"stance:{west_id(project)}:{value_id(project, 'critical')}", "the West", "critical")]
    new = ArticleFactory(project=project, text="The vostrak minister said the talks went on all week.")
    assert services.model_suggestions_compute(article=new) == 2
    topic = Suggestion.objects.get(article=new, source=f"model:{version.id}", kind="topic")
    assert topic.topic.name == "Armenia" and topic.score >= 0.5
    stance = Suggestion.objects.get(article=new, source=f"model:{version.id}", kind="stance")
    assert stance.stance_value.name == "neutral" and stance.score >= 0.5
    plain = ArticleFactory(project=project, text="The minister said the talks went on all week.")
    assert services.model_suggestions_compute(article=plain) == 1  # neutral, and no topic
    assert Suggestion.objects.get(article=plain, source=version.source).kind == "stance"


def test_an_analyst_accepts_a_model_topic(project, reviewer, analyst, django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 40)
    version = train(project, reviewer, django_capture_on_commit_callbacks)
    new = ArticleFactory(project=project, text="Reports from quillane say the council met today.")
    services.model_suggestions_compute(article=new)
    annotation = Annotation.objects.create(article=new, annotator=analyst)
    [pending] = [s for s in suggestions_pending(article=new, annotation=annotation)
                 if s.source == version.source and s.kind == "topic"]
    suggestion_accept(annotation=annotation, suggestion=pending, actor=analyst)
    assert list(annotation.topics.values_list("name", flat=True)) == ["Ukraine"]
    # The agreement page counts it under its model version.
    [counted] = [row for row in suggestion_counts(project=project) if row["source"] == version.source]
    assert (counted["accepted"], counted["rejected"], counted["total"]) == (1, 0, 1)

    # Turned off, like the rules: no longer shown, and computing again removes the rows.
    SuggesterSettings.objects.create(project=project, model=False)
    other = ArticleFactory(project=project, text="Quillane officials said so.")
    Suggestion.objects.create(article=other, source=version.source, kind="topic", key="topic:x",
                              topic=project.topics.get(name="Ukraine"))
    assert suggestions_pending(article=other, annotation=None) == []
    assert services.model_suggestions_compute(article=other) == 0
    assert not Suggestion.objects.filter(article=other).exists()


def test_a_newer_model_replaces_the_older_ones_rows(project, reviewer, django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 40)
    waiting = ArticleFactory(project=project, text="Quillane officials said the council met.")
    first = train(project, reviewer, django_capture_on_commit_callbacks)
    assert Suggestion.objects.filter(source=first.source, article=waiting).count() == 2  # a topic, a stance
    second = train(project, reviewer, django_capture_on_commit_callbacks)
    assert services.current_version(project.id) == second
    assert not Suggestion.objects.filter(source=first.source).exists()
    assert Suggestion.objects.filter(source=second.source, article=waiting).count() == 2


def test_too_few_reviewed_articles_are_refused(project, reviewer):
    reviewed_corpus(project, reviewer, 9)
    with pytest.raises(ValidationError, match="at least 10 reviewed articles to learn from and be scored on; this project has 9"):
        services.model_training_start(project=project, user=reviewer)
    assert not ModelVersion.objects.exists()


def test_one_training_at_a_time(project, reviewer):
    reviewed_corpus(project, reviewer, 12)
    services.model_training_start(project=project, user=reviewer)  # its task waits for the commit
    with pytest.raises(ValidationError, match="already being trained"):
        services.model_training_start(project=project, user=reviewer)
    assert ModelVersion.objects.count() == 1


def test_retrains_after_every_n_newly_reviewed_articles(project, reviewer, django_capture_on_commit_callbacks):
    reviewed_corpus(project, reviewer, 12)
    first = train(project, reviewer, django_capture_on_commit_callbacks)
    TrainingSettings.objects.create(project=project, retrain_every=2)
    pending = [ArticleFactory(project=project, text=f"Vostrak talks, day {i}.") for i in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        gold_mark_reviewed(article=pending[0], reviewer=reviewer, expected_version=0)
    assert ModelVersion.objects.count() == 1  # one newly reviewed article: not yet
    with django_capture_on_commit_callbacks(execute=True):
        gold_mark_reviewed(article=pending[1], reviewer=reviewer, expected_version=0)
    latest = ModelVersion.objects.exclude(pk=first.pk).get()
    assert (latest.status, latest.created_by, latest.gold_count) == ("ready", None, 14)
