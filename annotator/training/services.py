"""Training runs started (`model_training_start`, `model_retrain_if_due`), a ready model's
suggestions written (`model_suggestions_compute`), as `Suggestion` rows under "model:<id>" with the
article's `ArticleCertainty`, and the files of versions no longer used deleted (`model_files_prune`)."""

import hashlib
import pickle
from functools import lru_cache, partial

from django.conf import settings as django_settings
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
from .models import ArticleCertainty, ModelVersion, TrainingSettings, model_root



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


def training_settings_update(*, project: Project, retrain_every: int, prefer_uncertain: bool = False) -> TrainingSettings:
    settings, _ = TrainingSettings.objects.update_or_create(
        project=project, defaults={"retrain_every": retrain_every, "prefer_uncertain": prefer_uncertain}
    )
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
    """Replace the article's model suggestions (topics, and stance per target) with what the
    project's current model proposes, and store how sure it is (`ArticleCertainty`).

    Rows of older versions go; a row proposed again is kept. With no ready model or a gold
    annotation on the article, the article has neither suggestions nor certainty; with the model
    suggester off, it has no suggestions but keeps its certainty (the queue may still use it).
    Safe to run twice. Returns how many suggestion rows it has after.
    """
    # Takes turns with the rules' computation of the same article (the same lock).
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk", flat=True).get()
    version = current_version(article.project_id)
    if Annotation.objects.filter(article=article, kind=Annotation.Kind.GOLD).exists():
        # Reviewed (or being reviewed): the model may have learned this very article's gold, which
        # suggestions must never show an analyst (labelling is blind).
        version = None
    wanted: dict[str, Suggestion] = {}
    if version is None:
        ArticleCertainty.objects.filter(article=article).delete()
    else:
        bundle = load_bundle(version)
        prediction = learn.predict(bundle, article.text)
        if prediction.margin is None:
            ArticleCertainty.objects.filter(article=article).delete()
        else:
            ArticleCertainty.objects.update_or_create(
                article=article,
                defaults={"project_id": article.project_id, "version": version, "margin": prediction.margin},
            )
        if model_enabled(article.project_id):
            project = article.project
            topic_ids = set(project.topics.values_list("id", flat=True))  # one may be gone since
            for topic_id, score in prediction.topics:
                if topic_id in topic_ids:
                    key = f"topic:{topic_id}"
                    wanted[key] = Suggestion(article=article, source=version.source, kind=Suggestion.Kind.TOPIC,
                                             topic_id=topic_id, key=key, score=score)
            target_ids = set(project.stance_targets.values_list("id", flat=True))
            value_ids = set(project.stance_values.values_list("id", flat=True))
            for target_id, value_id, score in prediction.stances:
                if target_id in target_ids and value_id in value_ids:
                    # The value is in the key: rejecting "critical" says nothing of "supportive".
                    key = f"stance:{target_id}:{value_id}"
                    wanted[key] = Suggestion(article=article, source=version.source, kind=Suggestion.Kind.STANCE,
                                             target_id=target_id, stance_value_id=value_id, key=key, score=score)
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


# --- model files ---------------------------------------------------------------------------------


def models_keep() -> int:
    """How many of a project's newest ready versions keep their file (`ANNOTATOR_MODEL_KEEP`, 2 by default)."""
    return max(1, int(getattr(django_settings, "ANNOTATOR_MODEL_KEEP", 2)))


def model_files_prune(*, project_id: int) -> list[int]:
    """Delete the files of the project's ready versions that are no longer used, and return their ids.

    The policy: a ready version keeps its file while it is one of the project's `models_keep()`
    newest ready versions, or while suggestion rows of it remain (its articles' suggestions not
    yet computed again by the newer one: a worker may still be reading it). Any other ready
    version's file is deleted and its `artifact` emptied; the row stays, with its scores and
    curve, for the Model page and the agreement page's counts. Queued, running and failed
    versions are left alone (a running one's file is written and renamed before its row turns
    ready). Safe to run twice, and by several workers at once.
    """
    ready = ModelVersion.objects.filter(project_id=project_id, status=ModelVersion.Status.READY).exclude(artifact="")
    newest = list(ModelVersion.objects.filter(project_id=project_id, status=ModelVersion.Status.READY)
                  .order_by("-id").values_list("id", flat=True)[: models_keep()])
    pruned = []
    for version in ready.exclude(pk__in=newest).order_by("id"):
        if Suggestion.objects.filter(source=version.source, article__project_id=project_id).exists():
            continue
        with transaction.atomic():
            # Emptied first, in the database, then the file: a reader that finds the row emptied never opens it.
            if not ModelVersion.objects.filter(pk=version.pk, artifact=version.artifact).update(artifact=""):
                continue
            (model_root() / version.artifact).unlink(missing_ok=True)
        _load.cache_clear()
        pruned.append(version.pk)
    return pruned


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
