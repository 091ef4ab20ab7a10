"""Reads about who labelled what: an analyst's own progress and the project's dashboard.

Every count is an aggregate in the database, so the number of queries stays the same however
many analysts and articles a project has.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from annotator.projects.models import Membership, Project, SpanLabel

from .models import Annotation

@dataclass(slots=True)
class ShownSpan:
    """What the labelling page shows of a span: its highlight and its line in the span list."""

    id: int
    start: int
    end: int
    label_id: int
    text: str
    label: SpanLabel
    track: int = 0


def spans_shown(*, annotation: Annotation | None, labels: dict[int, SpanLabel]) -> list[ShownSpan]:
    """The annotation's spans in the list's order, with `labels` (the project's, by id) attached.

    Plain rows, not model instances: every save reads all of an article's spans (to draw its
    tracks), and building hundreds of instances was most of a save's time.
    """
    if annotation is None:
        return []
    rows = list(annotation.spans.values_list("id", "start", "end", "label_id", "text"))
    missing = {row[3] for row in rows} - labels.keys()  # the database does not forbid another project's label
    if missing:
        labels = labels | SpanLabel.objects.in_bulk(missing)
    return [ShownSpan(i, start, end, label_id, text, labels[label_id]) for i, start, end, label_id, text in rows]


DONE = (Annotation.Status.SUBMITTED, Annotation.Status.SKIPPED)
# An analyst holds one of an article's k slots while labelling it and after submitting it.
HOLDING = (Annotation.Status.IN_PROGRESS, Annotation.Status.SUBMITTED)


def progress_for(*, project: Project, user) -> dict[str, int]:
    total = project.articles.count()
    done = Annotation.objects.filter(annotator=user, article__project=project, status__in=DONE).count()
    return {"done": done, "total": total}


def analysts_on_article(*statuses: str):
    """The number of analyst annotations in `statuses` on the outer query's article."""
    annotations = (
        Annotation.objects.filter(article=OuterRef("pk"), kind=Annotation.Kind.ANALYST, status__in=statuses)
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(annotations), 0)


@dataclass
class AnalystProgress:
    user: AbstractBaseUser
    role: str | None  # None: no longer a member, but their work is still counted
    submitted: int = 0
    in_progress: int = 0
    skipped: int = 0
    # Articles the analyst has not opened that still need an analyst: what "Label next
    # article" can still give them.
    available: int = 0
    last_24h: int = 0
    first_submitted: datetime | None = None
    last_submitted: datetime | None = None

    @property
    def per_hour(self) -> float | None:
        """Submissions after the first, per hour between the first and the last submission."""
        if self.submitted < 2 or not self.first_submitted or not self.last_submitted:
            return None
        hours = (self.last_submitted - self.first_submitted).total_seconds() / 3600
        if hours <= 0:
            return None
        return (self.submitted - 1) / hours


@dataclass
class ProjectProgress:
    overlap: int
    total: int
    complete: int  # at least k analysts submitted
    partly: int  # someone is labelling it or submitted it, fewer than k submitted
    untouched: int  # no analyst is labelling it or has submitted it (skips don't count)
    open: int  # fewer than k analysts hold it: it can still be assigned
    analysts: list[AnalystProgress]


def project_progress(*, project: Project, now: datetime) -> ProjectProgress:
    k = project.overlap
    work = Annotation.objects.filter(article__project=project, kind=Annotation.Kind.ANALYST).order_by()
    submitted = Q(status=Annotation.Status.SUBMITTED)

    articles = project.articles.order_by().alias(
        taken=analysts_on_article(*HOLDING), done=analysts_on_article(Annotation.Status.SUBMITTED)
    )
    overall = articles.aggregate(
        total=Count("pk"),
        complete=Count("pk", filter=Q(done__gte=k)),
        untouched=Count("pk", filter=Q(taken=0)),
        open=Count("pk", filter=Q(taken__lt=k)),
    )

    membership = Membership.objects.filter(project=project, user=OuterRef("pk"))
    people = (
        get_user_model()
        .objects.filter(
            Exists(membership.filter(role=Membership.Role.ANALYST)) | Exists(work.filter(annotator=OuterRef("pk")))
        )
        .annotate(role=Subquery(membership.values("role")[:1]))
        .order_by(get_user_model().USERNAME_FIELD)
    )
    stats = work.values("annotator").annotate(
        submitted=Count("pk", filter=submitted),
        in_progress=Count("pk", filter=Q(status=Annotation.Status.IN_PROGRESS)),
        skipped=Count("pk", filter=Q(status=Annotation.Status.SKIPPED)),
        last_24h=Count("pk", filter=submitted & Q(submitted_at__gt=now - timedelta(hours=24))),
        first_submitted=Min("submitted_at", filter=submitted),
        last_submitted=Max("submitted_at", filter=submitted),
    )
    stats = {row.pop("annotator"): row for row in stats}
    opened_open = dict(
        work.filter(article__in=articles.filter(taken__lt=k).values("pk"))
        .values("annotator")
        .annotate(n=Count("pk"))
        .values_list("annotator", "n")
    )

    analysts = [
        AnalystProgress(
            user=person,
            role=person.role,
            available=overall["open"] - opened_open.get(person.pk, 0),
            **stats.get(person.pk, {}),
        )
        for person in people
    ]
    return ProjectProgress(
        overlap=k,
        total=overall["total"],
        complete=overall["complete"],
        partly=overall["total"] - overall["complete"] - overall["untouched"],
        untouched=overall["untouched"],
        open=overall["open"],
        analysts=analysts,
    )
