"""Submitted (and not submitted) annotations made straight in the database for agreement tests."""

import datetime

from django.utils import timezone

from annotator.labelling.models import Annotation, Span, Stance


def at(day: str, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour)))


def annotate(
    article,
    user,
    *,
    topics=(),
    stances=None,
    spans=(),
    status=Annotation.Status.SUBMITTED,
    kind=Annotation.Kind.ANALYST,
    submitted=None,
):
    """An annotation with topics and stances by name and spans as (label name, start, end)."""
    project = article.project
    annotation = Annotation.objects.create(
        article=article,
        annotator=user,
        kind=kind,
        status=status,
        submitted_at=submitted or (timezone.now() if status == Annotation.Status.SUBMITTED else None),
    )
    annotation.topics.set(project.topics.filter(name__in=topics))
    for target, value in (stances or {}).items():
        Stance.objects.create(
            annotation=annotation,
            target=project.stance_targets.get(name=target),
            value=project.stance_values.get(name=value),
        )
    for label, start, end in spans:
        Span.objects.create(
            annotation=annotation,
            label=project.span_labels.get(name=label),
            start=start,
            end=end,
            text=article.text[start:end],
        )
    return annotation
