"""The review queue, the review page with every adjudication on it, and an article's history.

Only admins and reviewers get here (`project_view(STAFF_ROLES)`). Every adjudication is a POST
carrying `version`, the gold version the page showed; an htmx request is answered with the
page's `review` partial re-rendered (or the error as text: 409 for a stale version, 422 for a
refused change), a plain one with a redirect back (or the page with the error and its status).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from types import SimpleNamespace

from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.labelling.queries import spans_in
from annotator.labelling.rendering import layout, window_html, windows
from annotator.labelling.forms import document_labels_from, new_span_from
from annotator.projects.access import STAFF_ROLES, project_view
from annotator.projects.models import RelationType, SpanAttribute

from . import services
from .compare import relation_rows, span_groups, stance_rows, topic_rows
from .history import SUBJECT_NAMES, state_lines, summary
from .queries import review_queue as queue_articles
from .queries import reviewed_articles, with_disagreements
from .rendering import review_text_html

PER_PAGE = 50
# Rows of "Spans side by side", and gold spans, shown at first and added each time the list is
# scrolled to its end: a huge article's are never all on the page.
GROUP_PAGE = 50
GOLD_PAGE = 50
# Each analyst's spans are drawn with their own underline; past four they repeat (the legend
# and every mark's title still say whose span it is).
ANALYST_STYLES = 4
KIND_NAMES = {
    "boundary": "boundaries differ",
    "label": "labels differ",
    "missing": "missing for some",
    "attributes": "attributes differ",
    "topics": "topics differ",
    "stance": "stance differs",
    "links": "links differ",
}


def _article(project, article_id):
    return get_object_or_404(project.articles, pk=article_id)


@require_GET
@project_view(STAFF_ROLES)
def review_queue(request, project):
    waiting = Paginator(queue_articles(project), PER_PAGE).get_page(request.GET.get("page"))
    reviewed = Paginator(reviewed_articles(project), PER_PAGE).get_page(request.GET.get("reviewed_page"))
    reviewed_rows = with_disagreements(reviewed)
    for article in [*waiting, *reviewed_rows]:
        article.disagreement_names = [KIND_NAMES[kind] for kind in article.disagreement]
    context = {"project": project, "waiting": waiting, "reviewed": reviewed, "reviewed_rows": reviewed_rows}
    template = "review/queue.html#queue" if request.htmx else "review/queue.html"
    return render(request, template, context)


def _annotations(article):
    # Not their spans: a huge article's are read a window or a page at a time (`_drawn`, `_group_page`).
    stances = Prefetch("stances", queryset=Stance.objects.select_related("target", "value"))
    relations = Prefetch(
        "relations", queryset=Relation.objects.select_related("type", "source__label", "target__label")
    )
    return article.annotations.select_related("annotator").prefetch_related(stances, relations, "topics")


def _reviewed(article):
    """The submitted analysts' annotations (in the page's order, each with its `style`) and the gold one."""
    annotations = _annotations(article)
    analysts = list(
        annotations.filter(kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED).order_by(
            "annotator__username", "id"
        )
    )
    for number, analyst in enumerate(analysts):
        analyst.style = number % ANALYST_STYLES
    return analysts, annotations.filter(kind=Annotation.Kind.GOLD).first()


def _shown_spans(article, analysts, gold, rows, labels):
    """Spans (`SHOWN_FIELDS` rows) as the review page draws and lists them: whose they are, and
    for an analyst's, whether gold has it and whether it was rejected."""
    owners = {a.id: (a.annotator.get_username(), f"analyst-{a.style}") for a in analysts}
    if gold:
        owners[gold.id] = ("Gold", "gold")
    # "In gold" means gold has the very span: label, offsets and attributes.
    gold_attributes = {(r[3], r[1], r[2]): (r[6] if len(r) > 6 else {}) for r in rows if gold and r[4] == gold.id}
    spans = []
    for id, start, end, label_id, annotation_id, *rest in rows:
        text, attributes = rest or ("", {})
        owner, style = owners[annotation_id]
        key = (label_id, start, end)
        in_gold = style != "gold" and key in gold_attributes and gold_attributes[key] == attributes
        span = SimpleNamespace(id=id, start=start, end=end, label_id=label_id, label=labels[label_id], text=text,
                               attributes=attributes, annotation_id=annotation_id, owner=owner, style=style,
                               in_gold=in_gold, rejection=None,
                               # Gold has the label and offsets but other attributes: accepting would be
                               # refused as a duplicate, so the page says how gold differs instead.
                               gold_differs=style != "gold" and key in gold_attributes and not in_gold)
        # Looked up as a list: an attribute named "items" must not hide the dict's method.
        span.attribute_pairs = list(attributes.items())
        spans.append(span)
    return spans


SHOWN_FIELDS = ("id", "start", "end", "label_id", "annotation_id", "text", "attributes")
# What drawing a span takes: not its text or attributes, which a window's thousands of spans would read for nothing.
DRAWN_FIELDS = SHOWN_FIELDS[:5]


def _spans_of(analysts, gold):
    return Span.objects.filter(annotation__in=[a.id for a in analysts] + ([gold.id] if gold else []))


def _drawn(article, analysts, gold, labels, window):
    """One window of the text with every reviewed span drawn on it."""
    rows, _, _ = spans_in(_spans_of(analysts, gold), text=article.text, start=window[0], end=window[1],
                          fields=DRAWN_FIELDS)
    spans = _shown_spans(article, analysts, gold, rows, labels)
    return window_html(*window, review_text_html(layout(article.text, spans, within=[window])))


def _review_text_html(project, article, analysts, gold, labels):
    """The first window drawn, the others plain until they come into view (as on the labelling page)."""
    first, *rest = windows(article.text)
    plain = layout(article.text, [], within=rest) if rest else []
    out = [_drawn(article, analysts, gold, labels, first)]
    url = reverse("review_text_window", args=[project.id, article.id])
    for start, end in rest:
        lines = [p for p in plain if start <= p.start and p.end <= end]
        out.append(window_html(start, end, review_text_html(lines), load_url=f"{url}?start={start}"))
    return mark_safe("".join(out))


def _group_page(project, article, analysts, gold, labels, after: int = -1) -> dict:
    """The rows of "Spans side by side" for the first `GROUP_PAGE` or so distinct offsets that
    start after `after`, and where the next rows load from (`groups_more_url`).

    A page ends between two starts, so spans with the same start are on one page. The spans the
    rows compare are read for the page's stretch of text only (with those that overlap it), so a
    page costs the same on an article of 50,000 spans as on one of fifty.
    """
    reviewed = _spans_of(analysts, gold)
    starts = list(
        reviewed.filter(start__gt=after).order_by("start").values_list("start", flat=True)[: GROUP_PAGE * 3]
    )
    more = len(starts) == GROUP_PAGE * 3
    if more and starts[0] != starts[-1]:
        # Whole starts only: the rest of the last start's spans may not have been read.
        last = max(s for s in starts if s < starts[-1])
    else:
        last = starts[-1] if starts else after
    if not starts:
        return {"groups": [], "groups_more_url": None}
    first = starts[0]
    reach = reviewed.filter(start__gte=first, start__lte=last)
    end = max(reach.values_list("end", flat=True))
    # Everything the page's groups might overlap: the analysts' other boundaries, and gold.
    rows, _, _ = spans_in(reviewed, text=article.text, start=first, end=end, fields=SHOWN_FIELDS)
    spans = _shown_spans(article, analysts, gold, rows, labels)
    rejected = gold.changes.filter(action=Change.Action.REJECT, subject="span",
                                   subject_id__in=[s.id for s in spans]).order_by("id") if gold else []
    rejections = {c.subject_id: c for c in rejected}
    for span in spans:
        span.rejection = rejections.get(span.id)
    by_annotation = {}
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.id)):
        by_annotation.setdefault(span.annotation_id, []).append(span)
    groups = span_groups([by_annotation.get(a.id, []) for a in analysts], by_annotation.get(gold.id, []) if gold else [],
                         starting=(first, last))
    for group in groups:
        group.columns = list(zip(analysts, group.cells))
        group.text = article.text[group.start : group.end]
        group.kind_names = [KIND_NAMES[k] for k in group.kind_list]
        group.key = f"{group.start}-{group.end}"
    url = reverse("review_groups_more", args=[project.id, article.id])
    return {"groups": groups, "groups_more_url": f"{url}?after={last}" if more else None}


def _gold_page(project, gold, labels, relation_types, after=None) -> dict:
    """The gold list's first `GOLD_PAGE` spans (after the span `after`), with their fields and links."""
    if gold is None:
        return {"gold_rows": [], "gold_more_url": None}
    spans = gold.spans.select_related("label").prefetch_related(
        Prefetch("outgoing", queryset=Relation.objects.select_related("type", "target"))
    ).order_by("start", "-end", "id")
    if after is not None:
        spans = spans.filter(Q(start__gt=after.start) | Q(start=after.start, end__lt=after.end)
                             | Q(start=after.start, end=after.end, id__gt=after.id))
    spans = list(spans[: GOLD_PAGE + 1])
    more = len(spans) > GOLD_PAGE
    spans = spans[:GOLD_PAGE]
    for span in spans:
        span.attribute_pairs = list(span.attributes.items())
    last = spans[-1] if more else None
    url = reverse("review_gold_more", args=[project.id, gold.article_id])
    return {
        # A link's target is chosen among the gold spans of the same page: all of them on an
        # ordinary article, fifty near it on a huge one.
        "gold_rows": _gold_rows(project, labels, spans, relation_types),
        "gold_more_url": f"{url}?start={last.start}&end={last.end}&id={last.id}" if last else None,
    }


def _review_context(project, article):
    analysts, gold = _reviewed(article)
    labels = list(project.span_labels.prefetch_related("attributes"))
    by_id = {label.id: label for label in labels}
    rejected = gold.changes.filter(action=Change.Action.REJECT, subject="relation").order_by("id") if gold else []
    relation_rejections = {c.subject_id: c for c in rejected}

    gold_relations = list(gold.relations.all()) if gold else []
    analyst_relations = [list(a.relations.all()) for a in analysts]
    # Links are few; their ends' gold spans are looked up only when there are some.
    ends = {(s.label_id, s.start, s.end) for rs in analyst_relations for r in rs for s in (r.source, r.target)}
    gold_ends = []
    if gold and ends:
        gold_ends = [s for s in gold.spans.only("id", "label_id", "start", "end")
                     .filter(start__in={e[1] for e in ends}) if (s.label_id, s.start, s.end) in ends]
    links = relation_rows(analyst_relations, gold_relations, gold_ends)
    for row in links:
        row.columns = list(zip(analysts, row.cells))
        for analyst, cell in row.columns:
            for relation in cell:
                relation.style = f"analyst-{analyst.style}"
                relation.rejection = relation_rejections.get(relation.id)
        # One action accepts an offered link: the first analyst's that was not rejected.
        unrejected = [r for cell in row.cells for r in cell if r.rejection is None]
        row.offer = unrejected[0] if row.offered and unrejected else None
    relation_types = list(project.relation_types.select_related("source_label", "target_label"))

    values = {v.id: v for v in project.stance_values.all()}
    topics = topic_rows(
        project.topics.all(),
        [{t.id for t in a.topics.all()} for a in analysts],
        {t.id for t in gold.topics.all()} if gold else set(),
    )
    stances = stance_rows(
        project.stance_targets.all(),
        [{s.target_id: s.value_id for s in a.stances.all()} for a in analysts],
        {s.target_id: s.value_id for s in gold.stances.all()} if gold else {},
    )
    for row in stances:
        row.names = [values[v].name if v else None for v in row.values]
    return {
        "project": project,
        "article": article,
        "analysts": analysts,
        "gold": gold,
        "version": gold.version if gold else 0,
        "text_html": _review_text_html(project, article, analysts, gold, by_id),
        "gold_count": gold.spans.count() if gold else 0,
        "links": links,
        "offered": [row for row in links if row.offer],
        "labels": labels,
        "topic_rows": topics,
        "stance_rows": stances,
        "stance_values": list(values.values()),
        "unsubmitted": article.annotations.filter(kind=Annotation.Kind.ANALYST).exclude(
            status=Annotation.Status.SUBMITTED
        ).count(),
    } | _decisions(project, article, analysts, gold, by_id) | _gold_page(project, gold, labels, relation_types)


def _decisions(project, article, analysts, gold, labels) -> dict:
    """The side panel's first page of span groups, and the one it opens on: the first disagreement
    (or the first group when all agree). Later pages join the picker as the reviewer steps past
    the last group loaded (review.js), so a huge article's panel costs one page."""
    page = _group_page(project, article, analysts, gold, labels)
    groups = page["groups"]
    selected = next((g for g in groups if g.kinds), groups[0] if groups else None)
    return page | {
        "selected_group": selected.key if selected else None,
        "disagreements": sum(1 for g in groups if g.kinds),
    }


def _gold_rows(project, labels, gold_spans, relation_types):
    """Each gold span with its label's attribute fields, as the labelling page's span editor offers them,
    its links, and the links it could make (each type it can start, with the gold spans it can reach)."""
    choices = {
        SpanAttribute.Kind.STANCE: [v.name for v in project.stance_values.all()],
        SpanAttribute.Kind.TARGET: [t.name for t in project.stance_targets.all()],
    }
    attributes = {label.id: list(label.attributes.all()) for label in labels}
    return [
        {
            "span": span,
            "fields": [
                {"name": a.name, "value": span.attributes.get(a.name, ""), "choices": choices.get(a.kind),
                 "linked": next((r.target.text for r in span.outgoing.all() if r.type.name == a.name), None)}
                for a in attributes[span.label_id]
            ],
            "relations": list(span.outgoing.all()),
            "link_choices": [
                {
                    "type": t,
                    "targets": [s for s in gold_spans if s.id != span.id and t.target_label_id in (None, s.label_id)],
                }
                for t in relation_types if t.source_label_id == span.label_id
            ],
        }
        for span in gold_spans
    ]


@require_GET
@project_view(STAFF_ROLES)
def review_article(request, project, article_id):
    article = _article(project, article_id)
    template = "review/article.html#review" if request.htmx else "review/article.html"
    return render(request, template, _review_context(project, article))


def _get_int(request, name) -> int:
    return int(request.GET[name])


@require_GET
@project_view(STAFF_ROLES)
def review_text_window(request, project, article_id):
    """One window of the text with every reviewed span drawn, for the plain window it replaces."""
    article = _article(project, article_id)
    try:
        start = _get_int(request, "start")
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start (where a window of the text starts) is required.")
    window = next((w for w in windows(article.text) if w[0] == start), None)
    if window is None:
        raise Http404("No window of the text starts there.")
    analysts, gold = _reviewed(article)
    labels = {label.id: label for label in project.span_labels.all()}
    return HttpResponse(_drawn(article, analysts, gold, labels, window))


@require_GET
@project_view(STAFF_ROLES)
def review_groups_more(request, project, article_id):
    """More rows of "Spans side by side": those whose spans start after `after`."""
    article = _article(project, article_id)
    try:
        after = _get_int(request, "after")
    except (KeyError, ValueError):
        return HttpResponseBadRequest("after (the last start shown) is required.")
    analysts, gold = _reviewed(article)
    labels = {label.id: label for label in project.span_labels.all()}
    context = {"project": project, "article": article, "analysts": analysts, "gold": gold,
               "version": gold.version if gold else 0} | _group_page(project, article, analysts, gold, labels, after)
    return render(request, "review/article.html#group_rows", context)


@require_GET
@project_view(STAFF_ROLES)
def review_gold_more(request, project, article_id):
    """More of the gold list: the gold spans after the one at `start`, `end`, `id`."""
    article = _article(project, article_id)
    try:
        after = SimpleNamespace(start=_get_int(request, "start"), end=_get_int(request, "end"), id=_get_int(request, "id"))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end and id of the last gold span shown are required.")
    _, gold = _reviewed(article)
    labels = list(project.span_labels.prefetch_related("attributes"))
    relation_types = list(project.relation_types.select_related("source_label", "target_label"))
    context = {"project": project, "article": article, "gold": gold, "version": gold.version if gold else 0,
               "labels": labels, "more_page": True} | _gold_page(project, gold, labels, relation_types, after)
    return render(request, "review/article.html#gold_page", context)


def _review(request, project, article):
    """After a change: the re-rendered review for htmx, a redirect back for a plain POST."""
    if not request.htmx:
        return redirect("review_article", project.id, article.id)
    return render(request, "review/article.html#review", _review_context(project, article))


def _refused(request, project, article, error: ValidationError):
    """Why nothing was changed: 409 when the page was stale, 422 when the change was refused."""
    status = 409 if getattr(error, "code", None) == "stale" else 422
    message = " ".join(error.messages)
    if request.htmx:
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return render(request, "review/article.html", _review_context(project, article) | {"error": message}, status=status)


def _adjudicate(request, project, article, service, **arguments):
    """Call one review service with the version the page showed; None when it succeeded."""
    version = _version(request)
    if version is None:
        return HttpResponseBadRequest(
            "version (the gold version your page showed, 0 when there was none) is required."
        )
    try:
        service(article=article, reviewer=request.user, expected_version=version, **arguments)
    except ValidationError as error:
        return _refused(request, project, article, error)
    return None


def _version(request) -> int | None:
    try:
        version = int(request.POST["version"])
    except (KeyError, ValueError):
        return None
    return version if version >= 0 else None


def _analyst_span(article, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label", "annotation__annotator"),
        pk=span_id, annotation__article=article, annotation__kind=Annotation.Kind.ANALYST,
        annotation__status=Annotation.Status.SUBMITTED,
    )


def _gold_span(article, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label", "annotation__article"),
        pk=span_id, annotation__article=article, annotation__kind=Annotation.Kind.GOLD,
    )


@require_POST
@project_view(STAFF_ROLES)
def review_accept(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _analyst_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_accept, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_reject(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _analyst_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_reject, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_add(request, project, article_id):
    article = _article(project, article_id)
    try:
        new = new_span_from(request.POST, project)
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end, label, text and client_id are required.")
    refused = _adjudicate(
        request, project, article, services.gold_span_add, label=new.label, start=new.start, end=new.end,
        text=new.text, client_id=new.client_id, reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_update(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _gold_span(article, span_id)
    try:
        label = get_object_or_404(project.span_labels, pk=int(request.POST.get("label", span.label_id)))
    except ValueError:
        return HttpResponseBadRequest("label must be a label id.")
    attributes = {key.removeprefix("attr-"): value for key, value in request.POST.items() if key.startswith("attr-")}
    refused = _adjudicate(
        request, project, article, services.gold_span_update, span=span, label=label, attributes=attributes,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_delete(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _gold_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_delete, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


def _analyst_relation(article, relation_id) -> Relation:
    return get_object_or_404(
        Relation.objects.select_related("type", "source__label", "target__label", "annotation__annotator"),
        pk=relation_id, annotation__article=article, annotation__kind=Annotation.Kind.ANALYST,
        annotation__status=Annotation.Status.SUBMITTED,
    )


@require_POST
@project_view(STAFF_ROLES)
def review_relation_accept(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = _analyst_relation(article, relation_id)
    refused = _adjudicate(
        request, project, article, services.gold_relation_accept, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_reject(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = _analyst_relation(article, relation_id)
    refused = _adjudicate(
        request, project, article, services.gold_relation_reject, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_add(request, project, article_id):
    article = _article(project, article_id)
    try:
        relation_type = get_object_or_404(RelationType, project=project, pk=int(request.POST["type"]))
        source = _gold_span(article, int(request.POST["source"]))
        target = _gold_span(article, int(request.POST["target"]))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("type, source and target (gold span ids) are required.")
    refused = _adjudicate(
        request, project, article, services.gold_relation_add, relation_type=relation_type, source=source,
        target=target, reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_delete(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = get_object_or_404(
        Relation.objects.select_related("type", "source", "target"),
        pk=relation_id, annotation__article=article, annotation__kind=Annotation.Kind.GOLD,
    )
    refused = _adjudicate(
        request, project, article, services.gold_relation_delete, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_labels(request, project, article_id):
    article = _article(project, article_id)
    try:
        topic_ids, stances = document_labels_from(request.POST)
    except ValueError:
        return HttpResponseBadRequest("Topics and stances are ids.")
    refused = _adjudicate(
        request, project, article, services.gold_labels_set, topic_ids=topic_ids, stances=stances,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_done(request, project, article_id):
    """Mark the gold annotation reviewed, and go back to the queue for the next article."""
    article = _article(project, article_id)
    refused = _adjudicate(request, project, article, services.gold_mark_reviewed)
    if refused:
        return refused
    # The title isolated for bidi: an Arabic title must not reorder the sentence around it.
    messages.success(request, format_html("Marked “<bdi>{}</bdi>” reviewed.", article.title or article.pk))
    target = reverse("review_queue", args=[project.id])
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


HISTORY_PER_PAGE = 100


@require_GET
@project_view(STAFF_ROLES)
def article_history(request, project, article_id):
    """Every change to the article's annotations, newest first; filtered by person and kind."""
    article = _article(project, article_id)
    changes = Change.objects.filter(annotation__article=article)
    people = get_user_model().objects.filter(pk__in=changes.values("actor_id")).order_by(
        get_user_model().USERNAME_FIELD
    )
    person = request.GET.get("person", "")
    kind = request.GET.get("kind", "")
    subject = request.GET.get("subject", "")
    if person.isdigit():
        changes = changes.filter(actor_id=int(person))
    if kind in Change.Action.values:
        changes = changes.filter(action=kind)
    if subject in SUBJECT_NAMES:
        changes = changes.filter(subject=subject)
    changes = changes.select_related("actor", "annotation__annotator").order_by("-created_at", "-id")
    page = Paginator(changes, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    for change in page:
        change.before_lines, change.after_lines = state_lines(change.before, change.after, change.subject)
        change.subject_name = SUBJECT_NAMES.get(change.subject, change.subject)
        change.summary = summary(change)
    chosen = {"person": person, "kind": kind, "subject": subject}
    context = {
        "project": project, "article": article, "page": page, "people": people, "chosen": chosen,
        "kinds": Change.Action.choices, "subjects": list(SUBJECT_NAMES.items()),
        # The pager keeps the filters.
        "filter_query": urlencode({key: value for key, value in chosen.items() if value}),
    }
    template = "review/history.html#changes" if request.htmx else "review/history.html"
    return render(request, template, context)
