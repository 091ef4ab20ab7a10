"""Training runs started (`model_training_start`, `model_retrain_if_due`) and a ready model's
suggestions written (`model_suggestions_compute`), as `Suggestion` rows under "model:<id>"."""

import hashlib
import pickle
from functools import lru_cache, partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotator.corpus.models import Article
from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Span, Stance
from annotator.projects.models import Project
from annotator.suggestions.models import MODEL_PREFIX, SuggesterSettings, Suggestion
from annotator.suggestions.services import span_key

from . import learn
from .models import ModelVersion, TrainingSettings, model_root



def gold_annotations(project: Project):
    """The project's reviewed articles' gold annotations: what a model learns from."""
    return Annotation.objects.filter(
        article__project=project, kind=Annotation.Kind.GOLD, status=Annotation.Status.SUBMITTED
    )


def gold_examples(project: Project, limit: int | None = None) -> list[learn.Example]:
    """What the model learns from, one example a reviewed article (the first `limit` by article id)."""
    gold = gold_annotations(project).order_by("article_id")
    if limit is not None:
        gold = gold.filter(pk__in=gold.values("pk")[:limit])
    examples = {
        annotation_id: learn.Example(article_id=article_id, text=text, language=language)
        for annotation_id, article_id, text, language in gold.values_list(
            "id", "article_id", "article__text", "article__language").iterator()
    }
    topics = Annotation.topics.through.objects.filter(annotation__in=gold).values_list("annotation_id", "topic_id")
    for annotation_id, topic_id in topics.iterator():
        examples[annotation_id].topics.add(topic_id)
    stances = Stance.objects.filter(annotation__in=gold).values_list("annotation_id", "target_id", "value_id")
    for annotation_id, target_id, value_id in stances.iterator():
        examples[annotation_id].stances[target_id] = value_id
    spans = Span.objects.filter(annotation__in=gold).order_by().values_list("annotation_id", "label_id", "start", "end")
    for annotation_id, label_id, start, end in spans.iterator(chunk_size=10_000):
        examples[annotation_id].spans.append((label_id, start, end))
    return list(examples.values())


def gold_hash(article_ids) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(article_ids)).encode()).hexdigest()


# --- starting a run ------------------------------------------------------------------------------


def _create(project: Project, user: AbstractBaseUser | None) -> ModelVersion:
    from .tasks import model_train

    version = ModelVersion.objects.create(
        project=project, created_by=user, gold_count=gold_annotations(project).count()
    )
    transaction.on_commit(partial(model_train.enqueue, str(version.id)))
    return version


def model_training_start(*, project: Project, user: AbstractBaseUser | None) -> ModelVersion:
    """A queued training run of the project's model; its task starts once this commits."""
    reviewed = gold_annotations(project).count()
    if reviewed < learn.MIN_ARTICLES:
        raise ValidationError(
            f"A model needs at least {learn.MIN_ARTICLES} reviewed articles to learn from and be scored on; "
            f"this project has {reviewed}.", code="too_few",
        )
    try:
        with transaction.atomic():
            return _create(project, user)
    except IntegrityError:
        raise ValidationError("A model of this project is already being trained.", code="running") from None


def model_retrain_if_due(*, project: Project) -> ModelVersion | None:
    """After a review completes: train again once the project's N more articles are reviewed."""
    settings = TrainingSettings.objects.filter(project=project).first()
    if settings is None or not settings.retrain_every:
        return None
    last = project.model_versions.exclude(status=ModelVersion.Status.FAILED).first()
    if last is not None and not last.finished:
        return None
    reviewed = gold_annotations(project).count()
    if reviewed < learn.MIN_ARTICLES or reviewed - (last.gold_count if last else 0) < settings.retrain_every:
        return None
    try:
        with transaction.atomic():
            return _create(project, None)
    except IntegrityError:
        return None  # another review started it meanwhile


def training_settings_update(*, project: Project, retrain_every: int) -> TrainingSettings:
    settings, _ = TrainingSettings.objects.update_or_create(project=project, defaults={"retrain_every": retrain_every})
    return settings


# --- a ready model's suggestions ----------------------------------------------------------------


def current_version(project_id: int) -> ModelVersion | None:
    """The project's newest ready model: the one whose suggestions the articles get."""
    return ModelVersion.objects.filter(project_id=project_id, status=ModelVersion.Status.READY).first()


def model_enabled(project_id: int) -> bool:
    settings = SuggesterSettings.objects.filter(project_id=project_id).first()
    return settings is None or settings.model


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    # Written by this server's worker only (never uploaded): safe to unpickle.
    with open(path, "rb") as file:
        return pickle.load(file)  # noqa: S301


def load_bundle(version: ModelVersion) -> dict:
    return _load(str(model_root() / version.artifact))


@transaction.atomic
def model_suggestions_compute(*, article: Article) -> int:
    """Replace the article's model suggestions with what the project's current model proposes.

    Rows of older versions go; a row proposed again is kept. With no ready model, the model
    suggester off, or a gold annotation on the article, the article has none. Safe to run twice. Returns how many rows it has after.
    """
    # Takes turns with the rules' computation of the same article (the same lock).
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk", flat=True).get()
    version = current_version(article.project_id) if model_enabled(article.project_id) else None
    if Annotation.objects.filter(article=article, kind=Annotation.Kind.GOLD).exists():
        # Reviewed (or being reviewed): the model may have learned this very article's gold, which
        # suggestions must never show an analyst (labelling is blind).
        version = None
    wanted: dict[str, Suggestion] = {}
    if version is not None:
        bundle = load_bundle(version)
        topic_ids = set(article.project.topics.values_list("id", flat=True))  # one may be gone since
        for topic_id, score in learn.predict_topics(bundle, article.text):
            if topic_id not in topic_ids:
                continue
            key = f"topic:{topic_id}"
            wanted[key] = Suggestion(article=article, source=version.source, kind=Suggestion.Kind.TOPIC,
                                     topic_id=topic_id, key=key, score=score)
        wanted.update(_span_suggestions(article, version, bundle))
    existing = Suggestion.objects.filter(article=article, source__startswith=MODEL_PREFIX)
    kept = {}
    for row in existing:
        if version is not None and row.source == version.source and row.key in wanted:
            kept[row.key] = row
    existing.exclude(pk__in=[row.pk for row in kept.values()]).delete()
    for key, row in wanted.items():
        old = kept.get(key)
        if old is None:
            row.save()
        elif old.score != row.score:
            Suggestion.objects.filter(pk=old.pk).update(score=row.score)
    return len(wanted)


def _span_suggestions(article: Article, version: ModelVersion, bundle: dict) -> dict[str, Suggestion]:
    """The model's spans as rows keyed as the rules' are, each checked as an analyst's span is
    (its edges on grapheme cluster boundaries); a label removed since training is left out."""
    found = learn.predict_spans(bundle, article.text, article.language)
    if not found:
        return {}
    labels = {label.id: label for label in article.project.span_labels.all()}
    rows = {}
    for label_id, start, end, score in found:
        label = labels.get(label_id)
        if label is None:
            continue
        try:
            labelling.span_check_clusters(text=article.text, start=start, end=end)
        except ValidationError:
            continue
        key = span_key(label, start, end)
        rows[key] = Suggestion(article=article, source=version.source, kind=Suggestion.Kind.SPAN, label=label,
                               key=key, start=start, end=end, text=article.text[start:end], score=score)
    return rows
