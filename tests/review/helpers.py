"""Analysts' work, made through the labelling services as the labelling page would."""

import uuid

from annotator.labelling import services
from annotator.labelling.models import Annotation


def mark(article, user, label, phrase, *, occurrence=0, attributes=None):
    start = -1
    for _ in range(occurrence + 1):
        start = article.text.index(phrase, start + 1)
    span = services.span_create(
        article=article, annotator=user, label=label, start=start, end=start + len(phrase), text=phrase,
        client_id=uuid.uuid4(),
    )
    if attributes:
        services.span_update(span=span, label=label, attributes=attributes)
    return span


def choose(article, user, *, topics=(), stances=None):
    """Set an analyst's topics (names) and stance ({target name: value name})."""
    project = article.project
    topic_ids = [project.topics.get(name=name).id for name in topics]
    stance_ids = {
        project.stance_targets.get(name=target).id: project.stance_values.get(name=value).id
        for target, value in (stances or {}).items()
    }
    return services.analyst_labels_set(article=article, annotator=user, topic_ids=topic_ids, stances=stance_ids)


def submit(article, user) -> Annotation:
    annotation = services.annotation_get_or_create(article=article, annotator=user)
    return services.annotation_submit(annotation=annotation)


def gold_of(article) -> Annotation | None:
    return Annotation.objects.filter(article=article, kind=Annotation.Kind.GOLD).first()
