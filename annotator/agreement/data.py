"""Load what agreement is computed from: a project's submitted analyst annotations.

A fixed number of queries whatever the project's size: the annotations, then their topics,
stances and spans each in one query filtered by the same subquery (not a list of ids, which
would grow with the project and hit SQLite's limit on query parameters).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from annotator.labelling.models import Annotation, Span, Stance
from annotator.projects.models import Project

from .metrics import Agreement, Coding, SpanMark, agreement


@dataclass(frozen=True)
class DateRange:
    """Days, both ends included, in the site's time zone; either end may be open."""

    since: datetime.date | None = None
    until: datetime.date | None = None


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def submitted_annotations(project: Project, dates: DateRange = DateRange()):
    annotations = Annotation.objects.filter(
        article__project=project, kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED
    )
    if dates.since:
        annotations = annotations.filter(submitted_at__gte=_start_of(dates.since))
    if dates.until:
        annotations = annotations.filter(submitted_at__lt=_start_of(dates.until + datetime.timedelta(days=1)))
    return annotations


def submitted_codings(project: Project, dates: DateRange = DateRange()) -> list[Coding]:
    return codings_of(submitted_annotations(project, dates))


def codings_of(annotations: QuerySet) -> list[Coding]:
    """One Coding per annotation, from four flat queries."""
    ids = annotations.values("id")
    rows = list(annotations.order_by("id").values_list("id", "article_id", "annotator__username"))
    topics = defaultdict(set)
    for annotation_id, name in Annotation.topics.through.objects.filter(annotation__in=ids).values_list(
        "annotation_id", "topic__name"
    ):
        topics[annotation_id].add(name)
    stances = defaultdict(dict)
    for annotation_id, target, value in Stance.objects.filter(annotation__in=ids).order_by().values_list(
        "annotation_id", "target__name", "value__name"
    ):
        stances[annotation_id][target] = value
    spans = defaultdict(list)
    for annotation_id, label, start, end in (
        Span.objects.filter(annotation__in=ids).order_by().values_list("annotation_id", "label__name", "start", "end")
    ):
        spans[annotation_id].append(SpanMark(label, start, end))
    # An annotation submitted between these queries shows up only in the later ones; its rows
    # are dropped, since `rows` (the first query) decides which annotations are counted.
    return [
        Coding(
            article=article_id,
            analyst=username,
            topics=frozenset(topics[annotation_id]),
            stances=stances[annotation_id],
            # In text order whatever order the rows came in (read unsorted: no sort on the server).
            spans=tuple(sorted(spans[annotation_id], key=lambda mark: (mark.start, mark.end, mark.label))),
        )
        for annotation_id, article_id, username in rows
    ]


def project_agreement(project: Project, dates: DateRange = DateRange()) -> Agreement:
    return agreement(
        submitted_codings(project, dates),
        topics=list(project.topics.values_list("name", flat=True)),
        targets=list(project.stance_targets.values_list("name", flat=True)),
        labels=list(project.span_labels.values_list("name", flat=True)),
    )
