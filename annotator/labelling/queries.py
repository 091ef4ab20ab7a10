"""Reads about who labelled what: an analyst's own progress and the project's dashboard.

Every count is an aggregate in the database, so the number of queries stays the same however
many analysts and articles a project has.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from annotator.projects.models import Membership, Project, SpanLabel

from .models import LONG_SPAN, Annotation, Span

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


@dataclass(slots=True)
class DrawnSpan:
    """What drawing a span in the text takes: not its text, which the thousands of spans around a
    change or in a window would read for nothing (and which keeps the read to the index, `Span.Meta`)."""

    id: int
    start: int
    end: int
    label_id: int
    label: SpanLabel
    track: int = 0


def spans_shown(*, annotation: Annotation | None, labels: dict[int, SpanLabel]) -> list[ShownSpan]:
    """The annotation's spans in the list's order, with `labels` (the project's, by id) attached.

    Plain rows, not model instances: every save reads all of an article's spans (to draw its
    tracks), and building hundreds of instances was most of a save's time.
    """
    if annotation is None:
        return []
    return _shown(list(annotation.spans.values_list(*SHOWN)), labels)


SHOWN = ("id", "start", "end", "label_id", "text")
DRAWN = ("id", "start", "end", "label_id")


def _with_labels(rows, labels: dict[int, SpanLabel]) -> dict[int, SpanLabel]:
    missing = {row[3] for row in rows} - labels.keys()  # the database does not forbid another project's label
    return labels | SpanLabel.objects.in_bulk(missing) if missing else labels


def _shown(rows, labels: dict[int, SpanLabel]) -> list[ShownSpan]:
    labels = _with_labels(rows, labels)
    return [ShownSpan(i, start, end, label_id, text, labels[label_id]) for i, start, end, label_id, text in rows]


def _line_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` widened to whole lines of the text."""
    return text.rfind("\n", 0, start) + 1, (len(text) if (n := text.find("\n", end)) == -1 else n)


def spans_in(spans, *, text: str, start: int, end: int, fields=SHOWN, margin: int = 500) -> tuple[list[tuple], int, int]:
    """The rows (`fields`, id, start and end first) of the `spans` (a queryset) that reach into
    `[start, end)`, and of every span they overlap, and so on; with the range, widened to whole
    lines, that holds them all.

    No span outside that range overlaps it, so tracks assigned to these spans alone are the
    tracks all the spans give them (see `rendering`), and every line in the range can be drawn
    from them. One query reads the spans that reach into the range's lines, which is nearly
    always all of them (most spans stay inside a paragraph); only when one reaches over a line's
    edge does another follow, for the stretch it reaches and `margin` characters beyond, where
    such a chain nearly always ends. A huge annotation is never read whole for a window or a save.
    """
    lo, hi = _line_edges(text, start, end)
    # First the lines alone: reading further would read, on a densely labelled article (a span
    # a character), hundreds of spans for each hundred characters only to drop them.
    fetched = {row[0]: row for row in _reaching(spans, [(lo, hi)], fields)}
    read_lo, read_hi = lo, hi
    while True:
        # Widen [lo, hi) over every span read that reaches into it, to whole lines, until none does.
        ordered = sorted(fetched.values(), key=lambda row: row[1])
        while True:
            new_lo, new_hi = lo, hi
            for row in ordered:
                if row[1] >= new_hi:
                    break
                if row[2] > new_lo:
                    new_lo, new_hi = min(new_lo, row[1]), max(new_hi, row[2])
            new_lo, new_hi = _line_edges(text, new_lo, new_hi)
            if (new_lo, new_hi) == (lo, hi):
                break
            lo, hi = new_lo, new_hi
        # A span not read that overlapped [lo, hi) would overlap what was read: done once that holds it.
        if read_lo <= lo and hi <= read_hi:
            return [row for row in fetched.values() if row[1] < hi and row[2] > lo], lo, hi
        want_lo, want_hi = max(0, lo - margin), min(len(text), hi + margin)
        stretches = [(a, b) for a, b in ((want_lo, read_lo), (read_hi, want_hi)) if a < b]
        for row in _reaching(spans, stretches, fields):
            fetched[row[0]] = row
        read_lo, read_hi = min(want_lo, read_lo), max(want_hi, read_hi)


def _reaching(spans, stretches: list[tuple[int, int]], fields):
    """The rows of the `spans` that reach into any of the `[start, end)` `stretches`, in one query:
    for each, those that start at most LONG_SPAN before it, and the long ones (each read has an
    index of its own, see `Span.Meta`)."""
    spans = spans.order_by()  # a union's parts may not be ordered on SQLite
    parts = []
    for start, end in stretches:
        reach = Q(start__lt=end, end__gt=start)
        parts.append(spans.filter(reach, start__gte=max(0, start - LONG_SPAN)).values_list(*fields))
        parts.append(spans.filter(reach, start__lt=max(0, start - LONG_SPAN), end__gt=F("start") + LONG_SPAN)
                     .values_list(*fields))
    first, *rest = parts
    return first.union(*rest, all=True)


def spans_around(*, annotation: Annotation | None, labels: dict[int, SpanLabel], text: str, start: int,
                 end: int) -> tuple[list[DrawnSpan], int, int]:
    """`spans_in` for the labelling page: the annotation's spans as its text draws them."""
    if annotation is None:
        return [], *_line_edges(text, start, end)
    rows, start, end = spans_in(annotation.spans.all(), text=text, start=start, end=end, fields=DRAWN)
    labels = _with_labels(rows, labels)
    return [DrawnSpan(i, a, b, label_id, labels[label_id]) for i, a, b, label_id in rows], start, end


def _after(span) -> Q:
    """Spans after `span` in the list's order (start, longest first, id)."""
    return (Q(start__gt=span.start) | Q(start=span.start, end__lt=span.end)
            | Q(start=span.start, end=span.end, id__gt=span.id))


def spans_page(*, annotation: Annotation | None, labels: dict[int, SpanLabel], after=None,
               size: int) -> tuple[list[ShownSpan], bool]:
    """Up to `size` spans in the list's order, after the span `after` (or from the first); and
    whether more follow. Keyed on the last span shown, not an offset, so spans added or deleted
    before it meanwhile neither repeat nor skip one."""
    if annotation is None:
        return [], False
    spans = annotation.spans.order_by("start", "-end", "id")
    if after is not None:
        spans = spans.filter(_after(after))
    rows = list(spans.values_list(*SHOWN)[: size + 1])
    return _shown(rows[:size], labels), len(rows) > size


def list_state(*, annotation: Annotation, span=None) -> tuple[bool, int | None]:
    """Whether the annotation has spans (other than `span`), and the id of the span after `span`
    in the list's order (None: none, or no `span`), in one query of a few index reads.

    Not a count: counting 50,000 spans takes tens of milliseconds, and the page counts up and down
    from the count it showed (a change it missed makes it load the list again)."""
    spans = Span.objects.filter(annotation=annotation)
    following = Value(None, output_field=IntegerField())
    if span is not None:
        # Two reads along the (annotation, start) index: one OR of the three cases would read them all.
        same_start = spans.filter(Q(start=span.start) & (Q(end__lt=span.end) | Q(end=span.end, id__gt=span.id)))
        later = spans.filter(start__gt=span.start)
        following = Coalesce(
            Subquery(same_start.order_by("-end", "id").values("id")[:1]),
            Subquery(later.order_by("start", "-end", "id").values("id")[:1]),
        )
        spans = spans.exclude(pk=span.id)
    return Annotation.objects.filter(pk=annotation.pk).values_list(Exists(spans), following).get()


def list_state_around(spans, span=None) -> tuple[bool, int | None] | None:
    """`list_state` told by the spans around a change after it (`spans_around`'s, which the
    answer draws anyway), or None when they cannot tell it.

    They hold every span that starts between `span` and the end of their stretch (each one
    reaches into it), so the first of them after `span` in the list's order is the span after it
    in the whole list; only when none follows it there (or, with no `span`, there are none) is the
    database asked."""
    others = [s for s in spans if span is None or s.id != span.id]
    if span is None:
        return (True, None) if others else None
    key = (span.start, -span.end, span.id)
    following = [s for s in others if (s.start, -s.end, s.id) > key]
    if not following:
        return None
    return True, min(following, key=lambda s: (s.start, -s.end, s.id)).id


def spans_near(spans, *, at: int, count: int) -> list:
    """Up to `count` of the `spans` (a queryset, of instances or named rows) on each side of offset
    `at`, nearest first, then in the list's order: all of them on an article of ordinary size, and
    a bounded choice (for a link's target) on a huge one. Two index range reads (not one union:
    SQLite refuses a LIMIT inside one)."""
    before = spans.filter(start__lt=at).order_by("-start", "end", "-id")[:count]
    after = spans.filter(start__gte=at).order_by("start", "-end", "id")[:count]
    return sorted([*before, *after], key=lambda s: (s.start, -s.end, s.id))


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
