"""Making labelled articles and snapshots for the dataset tests."""

import copy
import uuid
from pathlib import Path

from django.conf import settings

from annotator.datasets.models import Snapshot
from annotator.datasets.services import snapshot_build
from annotator.labelling import services
from annotator.labelling.models import Annotation
from annotator.projects.models import RelationType
from tests.factories import ArticleFactory

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"

DEFAULT_PARAMETERS = {
    "scope": "gold",
    "analyst": None,
    "analyst_username": None,
    "filters": {"topics": [], "published_from": None, "published_to": None, "sources": []},
    "formats": ["jsonl", "csv", "spacy", "conll", "parquet", "label-studio"],
    "split": {"train": 80, "validation": 10, "test": 10, "seed": 13, "near_duplicate_threshold": 0.8},
}


def parameters(**changes) -> dict:
    result = copy.deepcopy(DEFAULT_PARAMETERS)
    for key, value in changes.items():
        if key in result["filters"]:
            result["filters"][key] = value
        elif key in result["split"]:
            result["split"][key] = value
        else:
            result[key] = value
    return result


def add_span(annotation, actor, label_name, phrase, attributes=None, occurrence=0):
    article = annotation.article
    label = article.project.span_labels.get(name=label_name)
    start = -1
    for _ in range(occurrence + 1):
        start = article.text.index(phrase, start + 1)
    span = services.span_add(
        annotation=annotation, actor=actor, label=label, start=start, end=start + len(phrase), text=phrase,
        client_id=uuid.uuid4(),
    )
    if attributes:
        services.span_update(span=span, label=label, attributes=attributes, actor=actor)
        span.refresh_from_db()
    return span


def link(project, name, source, target, actor=None):
    return services.relation_create(
        relation_type=RelationType.objects.get(project=project, name=name), source=source, target=target, actor=actor
    )


def set_labels(annotation, actor, topics=(), stances=None):
    project = annotation.article.project
    services.document_labels_set(
        annotation=annotation,
        actor=actor,
        topic_ids=[project.topics.get(name=t).id for t in topics],
        stances={
            project.stance_targets.get(name=t).id: project.stance_values.get(name=v).id
            for t, v in (stances or {}).items()
        },
    )


def annotate(article, user, spans=(), topics=(), stances=None, *, gold=False, submit=True):
    """An annotation with `spans` [(label, phrase)], topics and stance; submitted unless told otherwise."""
    if gold:
        annotation = Annotation.objects.create(article=article, annotator=user, kind=Annotation.Kind.GOLD)
    else:
        annotation = services.annotation_get_or_create(article=article, annotator=user)
    made = [add_span(annotation, user, *span) for span in spans]
    if topics or stances:
        set_labels(annotation, user, topics, stances)
    if submit:
        services.annotation_submit(annotation=annotation, actor=user)
    annotation.made_spans = made
    return annotation


def article(project, text, **fields):
    return ArticleFactory(project=project, text=text, **fields)


def build(project, user, **changes) -> Snapshot:
    """A snapshot built right here (the task's own function, without a backend)."""
    snapshot = Snapshot.objects.create(project=project, created_by=user, parameters=parameters(**changes))
    snapshot_build.call(str(snapshot.id))
    snapshot.refresh_from_db()
    return snapshot


def file_path(snapshot, name) -> Path:
    return Path(settings.ANNOTATOR_SNAPSHOT_ROOT) / snapshot.files.get(name=name).path


def split_files(snapshot, extension) -> dict:
    """{split: path} of the splits that have a file of this extension (an empty split has none)."""
    names = set(snapshot.files.values_list("name", flat=True))
    return {s: file_path(snapshot, f"{s}.{extension}") for s in ("train", "validation", "test") if f"{s}.{extension}" in names}
