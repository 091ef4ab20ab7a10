"""The labelling page and every action on it.

The page is `labelling/article.html`; its named partials are the fragments htmx swaps. A change
answers with only what it changed, as out-of-band swaps (the `change` partial): the paragraphs
whose drawing changed, the span editor, and the span list's item and count. The answer says
which version of the annotation it starts from and which it brings the page to
(`X-Annotation-Base`, `X-Annotation-Version`); a page that showed another version (another
tab changed the annotation, or answers crossed) loads the whole text and list again, so the
page always shows what the database holds after the change.

However many spans an article has, a page and a change read only what they show (issue #17):
the text's first window with its highlights and the rest as plain text whose windows load their
highlights as they scroll into view (`text_window`), the span list a page at a time
(`span_list_more`), and a change the spans of the lines it redraws.
"""

import uuid
from functools import wraps
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.projects.access import project_view
from annotator.projects.models import RelationType, SpanAttribute
from annotator.suggestions.services import suggestion_match_span, suggestion_topics_chosen, suggestions_pending

from . import services
from .models import Annotation, Relation, Span
from .assignment import assignment_next, assignment_skip
from .queries import list_state, list_state_around, progress_for, spans_around, spans_near, spans_page
from .forms import document_labels_from, new_span_from, undone_links_from
from .rendering import layout, redrawn, text_html, window_html, windows

# Spans the list shows at first, and adds each time it is scrolled to its end.
LIST_PAGE = 200
# A link's target is chosen among at most this many spans of its label on each side of its source.
LINK_TARGETS = 25


def _labels(project, attributes=False) -> dict:
    """The project's span labels by id; with `attributes`, each with its attributes read too (a
    save checks them and its editor shows them)."""
    labels = project.span_labels.prefetch_related("attributes") if attributes else project.span_labels.all()
    return {label.id: label for label in labels}


def _page_context(project, article, annotation):
    labels = _labels(project)
    url = article_url(project, article)
    return _standing(project, article, annotation) | {
        "project": project,
        "article": article,
        "annotation": annotation,
        # A fresh annotation is at version 1 with nothing in it: the same as no annotation.
        "version": annotation.version if annotation else 1,
        "text_html": _text_html(article, annotation, labels, url),
        "span_count": annotation.spans.count() if annotation else 0,
        "labels": list(labels.values()),
        "editing": None,
    } | _list_page(annotation, labels, url)


def _text_html(article, annotation, labels, url):
    """The first window of the text drawn, the others as plain lines that load their drawing when
    they come into view: offsets, selection and labelling work in all of them from the start."""
    first, *rest = windows(article.text)
    plain = layout(article.text, [], within=rest) if rest else []
    out = [_window(article, annotation, labels, first)]
    for start, end in rest:
        lines = [p for p in plain if start <= p.start and p.end <= end]
        out.append(window_html(start, end, text_html(lines), load_url=f"{url}text/?start={start}"))
    return mark_safe("".join(out))


def _window(article, annotation, labels, window):
    spans, _, _ = spans_around(annotation=annotation, labels=labels, text=article.text, start=window[0], end=window[1])
    return window_html(*window, text_html(layout(article.text, spans, within=[window])))


def _list_page(annotation, labels, url, after=None):
    """One page of the span list (`spans`), and where the next one loads from (`more_url`)."""
    spans, more = spans_page(annotation=annotation, labels=labels, after=after, size=LIST_PAGE)
    last = spans[-1] if more else None
    return {
        "spans": spans,
        "more_url": f"{url}spans/more/?start={last.start}&end={last.end}&id={last.id}" if last else None,
    }


def _standing(project, article, annotation) -> dict:
    """Whether the analyst may change their annotation of the article, and what the page says
    about it: `read_only` (why not) or `notice` (a submitted article open for editing). The
    services refuse the same changes; this only keeps the page from offering them."""
    if services.article_reviewed(article.id):
        return {"read_only": "A reviewer has marked this article reviewed, so your annotation of it is read-only: "
                             "the gold annotation was decided from it.", "notice": None}
    if annotation is None and services.article_is_full(article=article, overlap=project.overlap):
        return {"read_only": f"This article already has {project.overlap} analyst{pluralize(project.overlap)} "
                             "(as many as the project asks for), so you cannot start it.", "notice": None}
    if annotation is not None and annotation.status == Annotation.Status.SUBMITTED:
        when = date_format(timezone.localtime(annotation.submitted_at), "j F Y, H:i") if annotation.submitted_at else ""
        return {"read_only": None, "notice": f"You submitted this article{' on ' + when if when else ''}. It is open "
                "for editing: every change is saved at once into your submitted annotation, which stays submitted."}
    return {"read_only": None, "notice": None}


def _editor_answer_context(project, article, annotation, editing, labels, *, new=False):
    context = {
        "project": project,
        "article": article,
        "labels": list(labels.values()),
        "editing": editing,
        "oob": True,
    }
    if editing:
        context |= _editor_context(project, editing, annotation, new=new)
    return context


def _editor_context(project, span, annotation, *, new=False):
    """The fields and links the span editor offers for one span (`new`: made just now, so it has no links yet)."""
    lists = {SpanAttribute.Kind.STANCE: project.stance_values, SpanAttribute.Kind.TARGET: project.stance_targets}
    attributes = list(span.label.attributes.all())
    choices = {kind: [c.name for c in lists[kind].all()] for kind in {a.kind for a in attributes} & lists.keys()}
    relations = [] if new else list(annotation.relations.filter(source=span).select_related("type", "target"))
    # A link named like an attribute (the speaker) enters it: the field is shown, not typed.
    linked = {r.type.name: r.target.text for r in relations}
    fields = [
        {"name": a.name, "value": span.attributes.get(a.name, ""), "choices": choices.get(a.kind),
         "linked": linked.get(a.name)}
        for a in attributes
    ]
    relation_types = list(
        RelationType.objects.filter(project=project, source_label_id=span.label_id).select_related("target_label")
    )
    # Only spans a link can go to, and only those near it, not all of a huge article's: a choice
    # of thousands is no choice.
    spans = []
    if relation_types:
        candidates = annotation.spans.values_list("id", "start", "end", "label_id", "text", named=True)
        if all(t.target_label_id for t in relation_types):
            candidates = candidates.filter(label_id__in={t.target_label_id for t in relation_types})
        spans = spans_near(candidates, at=span.start, count=LINK_TARGETS)
    return {
        "editing_seen": services.state_token(services.span_state(span)),
        "editing_fields": fields,
        "editing_relations": relations,
        "editing_relation_types": [
            {
                "type": t,
                "targets": [s for s in spans if s.id != span.id and t.target_label_id in (None, s.label_id)],
            }
            for t in relation_types
        ],
    }


def _labels_seen(annotation) -> str:
    state = services.labels_state(annotation) if annotation else {"topics": [], "stance": {}}
    return services.state_token(state)


def _document_labels_context(project, annotation):
    chosen_topics = set(annotation.topics.values_list("id", flat=True)) if annotation else set()
    chosen_stances = dict(annotation.stances.values_list("target_id", "value_id")) if annotation else {}
    topics, targets = list(project.topics.all()), list(project.stance_targets.all())
    values = list(project.stance_values.all())
    value_names = {v.id: v.name for v in values}
    # The same state as services.labels_state, from what this page loads anyway.
    shown = {
        "topics": sorted(t.name for t in topics if t.id in chosen_topics),
        "stance": {t.name: value_names[chosen_stances[t.id]] for t in targets if t.id in chosen_stances},
    }
    return {
        "topics": topics,
        "chosen_topics": chosen_topics,
        "stance_rows": [{"target": t, "chosen": chosen_stances.get(t.id)} for t in targets],
        "stance_values": values,
        "labels_seen": services.state_token(shown),
    }


def _article(project, article_id):
    return get_object_or_404(project.articles, pk=article_id)


def _own_annotation(request, article):
    return Annotation.objects.filter(article=article, annotator=request.user, kind=Annotation.Kind.ANALYST).first()


def _locked(annotation, change, labels=None, *, text="", around=None):
    """Make `change()` with the annotation locked from before it until its spans are read.

    `annotation` is the annotation, or a function giving `services.annotation_claim` for the
    analyst's first change to an article (which makes it, taking a slot, or refuses the change);
    `change` is given it. Returns what `change(annotation)` returned, the version
    before and after it, and (given the project's `labels`) the spans after it around the range
    `around(result)` of the article `text` (every span that shares a line or an overlap with it,
    `spans_around`): as they are at that version, since nothing else can change
    the annotation meanwhile. Every service moves the version of the copy it was given on, so
    the version after needs no second look.
    """
    # A claim is a transaction of its own (the lock and count it ends with must come last in it).
    locked = annotation() if callable(annotation) else services.annotation_locked(annotation=annotation)
    with locked as annotation:
        base = annotation.version
        result = change(annotation)
        after = []
        if labels is not None:
            start, end = around(result)
            after, _, _ = spans_around(annotation=annotation, labels=labels, text=text, start=start, end=end)
    return result, base, annotation.version, after


def _change_answer(request, project, article, annotation, *, base, version, labels, spans=(), redraw=(), editing=None,
                   added=None, replaced=None, removed=None, linked=False, notice="", status=200):
    """What a change changed, as out-of-band swaps: the paragraphs that `redraw` ranges reach
    (drawn from `spans`, those around them), the editor (`editing`, a Span), the span list's
    count and changed item, and the line that says what was done (`notice`; after a deletion,
    with its Undo). `linked`: the span `added` came with links (an Undo's), which its editor lists.
    The list's changes go through `#span-changes`: labelling.js puts each where the list has
    loaded that far (the rest arrives with the list's later pages)."""
    # A span added by this change (not one a retry found) has no links yet, but an Undo's.
    new = added is not None and version != base and not linked
    context = _editor_answer_context(project, article, annotation, editing, labels, new=new)
    context["notice"] = notice
    if version != base:
        if redraw:
            context["paragraphs_html"] = text_html(
                layout(article.text, spans, within=list(redraw)), editing.id if editing else None, oob=True
            )
        # The list's item is the change's own span (the drawing's read leaves the text out).
        drawn = {s.id for s in spans}
        context["added"] = added if added is not None and added.id in drawn else None
        if added or removed:
            # Read after the lock is let go, if at all: another tab's change meanwhile makes this page reload anyway.
            others, context["added_before"] = (list_state_around(spans, context["added"])
                                               or list_state(annotation=annotation, span=context["added"]))
            context["count_change"] = 1 if context["added"] else -1
            context["no_others"] = not others
        context["replaced"] = replaced if replaced is not None and replaced.id in drawn else None
        context["removed"] = removed
        # Undo sends the deleted span again as a new one, under a change id of its own.
        context["undo_client_id"] = uuid.uuid4() if removed else None
    response = render(request, "labelling/article.html#change", context, status=status)
    return _versioned(response, base, version)


def _versioned(response, base, version):
    response["X-Annotation-Base"] = str(base)
    response["X-Annotation-Version"] = str(version)
    return response


def _seen(response, token):
    # The state this change left, as a `seen` for an edit the page queued behind it (labelling.js).
    response["X-Seen"] = token
    return response


def _invalid(error: ValidationError) -> HttpResponse:
    # 409: the page is out of date (another tab changed it); 422: the change itself is wrong.
    status = 409 if error.code == "stale" else 422
    return HttpResponse(" ".join(error.messages), status=status, content_type="text/plain; charset=utf-8")


@require_GET
@project_view()
def label_article(request, project, article_id):
    article = _article(project, article_id)
    annotation = _own_annotation(request, article)
    context = _page_context(project, article, annotation)
    context |= _document_labels_context(project, annotation)
    context["progress"] = progress_for(project=project, user=request.user)
    # Read from rows the worker computed from the text: nothing is computed while the page waits.
    suggestions = [] if context["read_only"] else suggestions_pending(article=article, annotation=annotation)
    context["suggestions"] = suggestions
    context["suggested_topics"] = {s.topic_id: s for s in suggestions if s.topic_id}
    mark_suggested_stances(context["stance_rows"], suggestions)
    return render(request, "labelling/article.html", context)


def mark_suggested_stances(stance_rows, suggestions) -> None:
    """Each stance row's `suggested`: the pending stance suggestion toward its target (pre-marked, not chosen)."""
    suggested = {}
    for s in sorted((s for s in suggestions if s.kind == "stance"), key=lambda s: (-s.score, s.id)):
        suggested.setdefault(s.target_id, s)
    for row in stance_rows:
        row["suggested"] = suggested.get(row["target"].id)


@require_GET
@project_view()
def next_article(request, project):
    article = assignment_next(project=project, user=request.user)
    if article is None:
        return render(request, "labelling/all_done.html", {"project": project})
    return redirect("label_article", project.id, article.id)


def _deciding_suggestions(request, create):
    """`create`, then the suggestion its new span is made over decided by it (accepted at the same
    offsets, corrected at others: `suggestion_match_span`), in the same transaction; noted on the
    request for `_drops_decided_suggestions`."""

    def wrapped(annotation):
        span = create(annotation)
        suggestion = suggestion_match_span(span=span)
        if suggestion is not None:
            request.suggestions_decided.append(suggestion.id)
        return span

    return wrapped


def _drops_decided_suggestions(view):
    """The answer to a change also takes the suggestions it decided off the page's list."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.suggestions_decided = []
        response = view(request, *args, **kwargs)
        if request.htmx and response.status_code == 201:
            for suggestion_id in request.suggestions_decided:
                response.content += f'<li id="suggestion-{suggestion_id}" hx-swap-oob="delete"></li>'.encode()
        return response

    return wrapper


@require_POST
@project_view()
@_drops_decided_suggestions
def span_create(request, project, article_id):
    """A new highlight; or, with `link` fields, the Undo of a deletion, which brings back the links too."""
    article = _article(project, article_id)
    labels = _labels(project, attributes=True)
    try:
        new = new_span_from(request.POST, project, labels)
        links = undone_links_from(request.POST)
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end, label, text and client_id are required.")
    restored = []

    def create(annotation):
        fields = dict(annotation=annotation, actor=request.user, label=new.label, start=new.start, end=new.end,
                      text=new.text, client_id=new.client_id, attributes=_attributes_from(request.POST))
        if not links:
            return services.span_add(**fields)
        # The links whose other span is still there (it may have been deleted since).
        others = annotation.spans.select_related("label").in_bulk([link.other_id for link in links])
        types = RelationType.objects.filter(project=project).select_related("source_label", "target_label")
        types = types.in_bulk([link.type_id for link in links])
        restored[:] = [(types[link.type_id], others[link.other_id], link.outgoing) for link in links
                       if link.type_id in types and link.other_id in others]
        return services.span_restore(**fields, links=restored)

    try:
        # Made in the same transaction: a refused first span leaves no annotation behind.
        own = lambda: services.annotation_claim(article=article, annotator=request.user)  # noqa: E731
        span, base, version, spans = _locked(
            own, _deciding_suggestions(request, create), labels, text=article.text,
            around=lambda span: (span.start, span.end),
        )
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    annotation = span.annotation
    before = [s for s in spans if s.id != span.id]
    lost = len(links) - len(restored)
    notice = format_html(
        "Brought the <bdi>{}</bdi> span back, but {} of its {} link{} could not come back: the span at the other "
        "end was deleted since.", span.label.name, lost, len(links), pluralize(len(links)),
    ) if lost else ""
    return _change_answer(request, project, article, annotation, base=base, version=version, spans=spans,
                          labels=labels, redraw=redrawn(before, spans), editing=span, added=span,
                          linked=bool(restored), notice=notice, status=201)


def _attributes_from(post) -> dict[str, str]:
    # The span editor's fields, and an undone deletion's: `attr-<name>`.
    return {key.removeprefix("attr-"): value for key, value in post.items() if key.startswith("attr-")}


class Gone(Exception):
    """What the page showed is no longer there: deleted, most likely from another tab."""


def _own_span(request, article, span_id) -> Span:
    span = (
        Span.objects.select_related("annotation", "label")
        .filter(pk=span_id, annotation__article=article, annotation__annotator=request.user,
                annotation__kind=Annotation.Kind.ANALYST)
        .first()
    )
    if span is None:
        raise Gone("This span no longer exists: it was deleted, perhaps in another tab. "
                   "The page now shows your spans as they are.")
    span.annotation.article = article  # the same article: saves reading its text again
    return span


def _gone(view):
    """A change to a span or link that was deleted meanwhile is a 404 that says so, as plain text to
    htmx: the labelling page shows it and loads the text again (never an error page over it)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Gone as gone:
            if request.htmx:
                return HttpResponse(str(gone), status=404, content_type="text/plain; charset=utf-8")
            raise Http404(str(gone)) from gone

    return wrapper


@require_GET
@project_view()
@_gone
def span_edit(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _own_span(request, article, span_id)
    if not request.htmx:
        return redirect(f"{article_url(project, article)}#span-{span.id}")
    # Nothing changes: the editor opens, and the page marks the span it edits.
    annotation = span.annotation
    labels = _labels(project)
    context = _editor_answer_context(project, article, annotation, span, labels)
    context |= _standing(project, article, annotation)
    return render(request, "labelling/article.html#opened", context)


def article_url(project, article):
    return reverse("label_article", args=[project.id, article.id])


def _int(request, name) -> int:
    return int(request.GET[name])


@require_GET
@project_view()
def text_window(request, project, article_id):
    """One window of the text with the analyst's highlights, for the plain window it replaces. It
    says the version it shows, like a change's answer: a page that showed another loads again."""
    article = _article(project, article_id)
    try:
        start = _int(request, "start")
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start (where a window of the text starts) is required.")
    window = next((w for w in windows(article.text) if w[0] == start), None)
    if window is None:
        raise Http404("No window of the text starts there.")
    annotation = _own_annotation(request, article)
    version = annotation.version if annotation else 1
    return _versioned(HttpResponse(_window(article, annotation, _labels(project), window)), version, version)


@require_GET
@project_view()
def span_list_more(request, project, article_id):
    """The span list's next page: the spans after the one at `start`, `end`, `id` in its order."""
    article = _article(project, article_id)
    try:
        after = SimpleNamespace(start=_int(request, "start"), end=_int(request, "end"), id=_int(request, "id"))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end and id of the last span shown are required.")
    annotation = _own_annotation(request, article)
    url = article_url(project, article)
    context = {"more_page": True} | _list_page(annotation, _labels(project), url, after)
    return render(request, "labelling/article.html#span_page", context)


@require_POST
@project_view()
@_gone
def span_update(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _own_span(request, article, span_id)
    labels = _labels(project, attributes=True)
    try:
        label = labels.get(int(request.POST.get("label", span.label_id)))
    except ValueError:
        return HttpResponseBadRequest("label must be a label id.")
    if label is None:
        raise Http404("No such label in this project.")
    attributes = _attributes_from(request.POST)
    annotation = span.annotation
    try:
        _, base, version, spans = _locked(annotation, lambda _: services.span_update(
            span=span, label=label, attributes=attributes, actor=request.user, seen=request.POST.get("seen")
        ), labels, text=article.text, around=lambda _: (span.start, span.end))
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    # Offsets never change and tracks do not depend on labels: only the span's own paragraphs.
    response = _change_answer(request, project, article, annotation, base=base, version=version, spans=spans,
                              labels=labels, redraw=[(span.start, span.end)], editing=span, replaced=span,
                              notice=f"Saved the {span.label.name} span at {timezone.localtime():%H:%M:%S}.")
    return _seen(response, services.state_token(services.span_state(span)))


@require_POST
@project_view()
@_gone
def span_delete(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _own_span(request, article, span_id)
    # Its links go with it; its Undo sends them back (`span_create`): `source:<type>:<other span>`
    # where the span was the link's source, `target:…` where it was the target.
    links = [
        f"source:{type_id}:{target}" if source == span.id else f"target:{type_id}:{source}"
        for type_id, source, target in Relation.objects.filter(Q(source=span) | Q(target=span))
        .values_list("type_id", "source_id", "target_id")
    ]
    gone = SimpleNamespace(id=span.id, start=span.start, end=span.end, label_id=span.label_id, text=span.text,
                           label=span.label, attributes=span.attributes, links=links)
    annotation = span.annotation
    labels = _labels(project)
    try:
        _, base, version, spans = _locked(
            annotation, lambda _: services.span_delete(span=span, actor=request.user, seen=request.POST.get("seen")),
            labels, text=article.text, around=lambda _: (gone.start, gone.end),
        )
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    return _change_answer(request, project, article, annotation, base=base, version=version, spans=spans,
                          labels=labels, redraw=redrawn([*spans, gone], spans), removed=gone)


@require_POST
@project_view()
@_gone
def relation_create(request, project, article_id):
    article = _article(project, article_id)
    try:
        relation_type = get_object_or_404(RelationType, project=project, pk=int(request.POST["type"]))
        source = _own_span(request, article, int(request.POST["source"]))
        target = _own_span(request, article, int(request.POST["target"]))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("type, source and target are required.")
    annotation = source.annotation
    labels = _labels(project)
    try:
        _, base, version, _ = _locked(annotation, lambda _: services.relation_create(
            relation_type=relation_type, source=source, target=target, actor=request.user
        ))
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    linked = format_html("Linked: {} → “<bdi>{}</bdi>”.", relation_type.name, Truncator(target.text).chars(60))
    return _change_answer(request, project, article, annotation, base=base, version=version, labels=labels,
                          editing=source, notice=linked)


@require_POST
@project_view()
@_gone
def relation_delete(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = (
        Relation.objects.select_related("annotation", "source__label")
        .filter(pk=relation_id, annotation__article=article, annotation__annotator=request.user,
                annotation__kind=Annotation.Kind.ANALYST)
        .first()
    )
    if relation is None:
        raise Gone("This link no longer exists: it was removed, perhaps in another tab. "
                   "The page now shows your spans as they are.")
    source = relation.source
    annotation = relation.annotation
    labels = _labels(project)
    try:
        _, base, version, _ = _locked(
            annotation, lambda _: services.relation_delete(relation=relation, actor=request.user)
        )
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    return _change_answer(request, project, article, annotation, base=base, version=version, labels=labels,
                          editing=source, notice=f"Removed the {relation.type.name} link.")


@require_POST
@project_view()
def document_labels(request, project, article_id):
    article = _article(project, article_id)
    try:
        topic_ids, stances = document_labels_from(request.POST)
    except ValueError:
        return HttpResponseBadRequest("Topics and stances are ids.")
    try:
        # Made in the same transaction: refused labels on a fresh article leave no annotation behind.
        own = lambda: services.annotation_claim(article=article, annotator=request.user)  # noqa: E731

        def choose(annotation):
            annotation = services.document_labels_set(
                annotation=annotation, topic_ids=topic_ids, stances=stances, actor=request.user,
                seen=request.POST.get("seen"),
            )
            suggestion_topics_chosen(annotation=annotation)  # a suggested topic ticked: accepted
            return annotation

        annotation, base, version, _ = _locked(own, choose)
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    # The form stays as the analyst left it; only its status line and the state it stands on change.
    token = _labels_seen(annotation)
    saved = render_to_string("labelling/article.html#labels_saved", {"saved": True}, request)
    seen = render_to_string("labelling/article.html#labels_seen", {"labels_seen": token, "oob": True}, request)
    return _seen(_versioned(HttpResponse(saved + seen), base, version), token)


@require_POST
@project_view()
def article_submit(request, project, article_id):
    article = _article(project, article_id)
    try:
        with services.annotation_claim(article=article, annotator=request.user) as annotation:
            services.annotation_submit(annotation=annotation)
    except ValidationError as error:
        if request.htmx:
            return _invalid(error)
        messages.error(request, " ".join(error.messages))
        return redirect("label_article", project.id, article.id)
    return _to_next_article(request, project)


@require_POST
@project_view()
def article_skip(request, project, article_id):
    article = _article(project, article_id)
    try:
        assignment_skip(article=article, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        if request.htmx:
            return _invalid(error)
        messages.error(request, " ".join(error.messages))
        return redirect("label_article", project.id, article.id)
    return _to_next_article(request, project)


def _to_next_article(request, project):
    """Claim the analyst's next article and send the browser there (or to "all done")."""
    following = assignment_next(project=project, user=request.user)
    target = article_url(project, following) if following else reverse("next_article", args=[project.id])
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return redirect(target)
