"""The labelling page and every action on it.

The page is `labelling/article.html`; its named partials are the fragments htmx swaps. Every
change answers with the same `workspace` partial (text, span list, span editor as out-of-band
swaps), so the page always shows what the database holds after the change.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.projects.access import project_view
from annotator.projects.models import RelationType, SpanAttribute

from . import services
from .models import Annotation, Relation, Span
from .assignment import assignment_next, assignment_skip
from .queries import progress_for
from .forms import document_labels_from, new_span_from
from .rendering import layout, text_html


def _workspace_context(request, project, article, annotation, editing=None):
    spans = list(annotation.spans.select_related("label")) if annotation else []
    editing = next((s for s in spans if editing and s.id == editing.id), None)
    context = {
        "project": project,
        "article": article,
        "article_url": article_url(project, article),
        "annotation": annotation,
        "text_html": text_html(layout(article.text, spans), editing.id if editing else None),
        "spans": spans,
        "labels": list(project.span_labels.all()),
        "editing": editing,
    }
    if editing:
        context |= _editor_context(project, editing, spans, annotation)
    return context


def _editor_context(project, span, spans, annotation):
    """The fields and links the span editor offers for one span."""
    choices = {
        SpanAttribute.Kind.STANCE: [v.name for v in project.stance_values.all()],
        SpanAttribute.Kind.TARGET: [t.name for t in project.stance_targets.all()],
    }
    fields = [
        {"name": a.name, "value": span.attributes.get(a.name, ""), "choices": choices.get(a.kind)}
        for a in span.label.attributes.all()
    ]
    relations = annotation.relations.filter(source=span).select_related("type", "target")
    relation_types = RelationType.objects.filter(project=project, source_label_id=span.label_id).select_related(
        "target_label"
    )
    return {
        "editing_seen": services.state_token(services.span_state(span)),
        "editing_fields": fields,
        "editing_relations": list(relations),
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


def _workspace(request, project, article, editing=None, status=200):
    annotation = _own_annotation(request, article)
    context = _workspace_context(request, project, article, annotation, editing=editing) | {"oob": True}
    return render(request, "labelling/article.html#workspace", context, status=status)


def _invalid(error: ValidationError) -> HttpResponse:
    # 409: the page is out of date (another tab changed it); 422: the change itself is wrong.
    status = 409 if error.code == "stale" else 422
    return HttpResponse(" ".join(error.messages), status=status, content_type="text/plain; charset=utf-8")


@require_GET
@project_view()
def label_article(request, project, article_id):
    article = _article(project, article_id)
    annotation = _own_annotation(request, article)
    context = _workspace_context(request, project, article, annotation)
    context |= _document_labels_context(project, annotation)
    context["progress"] = progress_for(project=project, user=request.user)
    return render(request, "labelling/article.html", context)


@require_GET
@project_view()
def next_article(request, project):
    article = assignment_next(project=project, user=request.user)
    if article is None:
        return render(request, "labelling/all_done.html", {"project": project})
    return redirect("label_article", project.id, article.id)


@require_POST
@project_view()
def span_create(request, project, article_id):
    article = _article(project, article_id)
    try:
        new = new_span_from(request.POST, project)
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end, label, text and client_id are required.")
    try:
        span = services.span_create(
            article=article, annotator=request.user, label=new.label, start=new.start, end=new.end, text=new.text,
            client_id=new.client_id,
        )
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    return _workspace(request, project, article, editing=span, status=201)


def _own_span(request, article, span_id) -> Span:
    return get_object_or_404(Span.objects.select_related("annotation__article"),
                             pk=span_id, annotation__article=article, annotation__annotator=request.user,
                             annotation__kind=Annotation.Kind.ANALYST)


@require_GET
@project_view()
def span_edit(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _own_span(request, article, span_id)
    if not request.htmx:
        return redirect(f"{article_url(project, article)}#span-{span.id}")
    return _workspace(request, project, article, editing=span)


def article_url(project, article):
    return reverse("label_article", args=[project.id, article.id])


@require_POST
@project_view()
def span_update(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _own_span(request, article, span_id)
    try:
        label = get_object_or_404(project.span_labels, pk=int(request.POST.get("label", span.label_id)))
    except ValueError:
        return HttpResponseBadRequest("label must be a label id.")
    attributes = {key.removeprefix("attr-"): value for key, value in request.POST.items() if key.startswith("attr-")}
    try:
        services.span_update(span=span, label=label, attributes=attributes, seen=request.POST.get("seen"))
    except ValidationError as error:
        return _invalid(error)
    return _after_change(request, project, article, editing=span)


@require_POST
@project_view()
def span_delete(request, project, article_id, span_id):
    article = _article(project, article_id)
    try:
        services.span_delete(span=_own_span(request, article, span_id), seen=request.POST.get("seen"))
    except ValidationError as error:
        return _invalid(error)
    return _after_change(request, project, article)


@require_POST
@project_view()
def relation_create(request, project, article_id):
    article = _article(project, article_id)
    try:
        relation_type = get_object_or_404(RelationType, project=project, pk=int(request.POST["type"]))
        source = _own_span(request, article, int(request.POST["source"]))
        target = _own_span(request, article, int(request.POST["target"]))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("type, source and target are required.")
    try:
        services.relation_create(relation_type=relation_type, source=source, target=target)
    except ValidationError as error:
        return _invalid(error)
    return _after_change(request, project, article, editing=source)


@require_POST
@project_view()
def relation_delete(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = get_object_or_404(
        Relation.objects.select_related("annotation", "source"),
        pk=relation_id, annotation__article=article, annotation__annotator=request.user,
        annotation__kind=Annotation.Kind.ANALYST,
    )
    source = relation.source
    services.relation_delete(relation=relation)
    return _after_change(request, project, article, editing=source)


@require_POST
@project_view()
def document_labels(request, project, article_id):
    article = _article(project, article_id)
    try:
        topic_ids, stances = document_labels_from(request.POST)
    except ValueError:
        return HttpResponseBadRequest("Topics and stances are ids.")
    try:
        annotation = services.analyst_labels_set(
            article=article, annotator=request.user, topic_ids=topic_ids, stances=stances, seen=request.POST.get("seen")
        )
    except ValidationError as error:
        return _invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    # The form stays as the analyst left it; only its status line and the state it stands on change.
    saved = render_to_string("labelling/article.html#labels_saved", {"saved": True}, request)
    seen = render_to_string(
        "labelling/article.html#labels_seen", {"labels_seen": _labels_seen(annotation), "oob": True}, request
    )
    return HttpResponse(saved + seen)


@require_POST
@project_view()
def article_submit(request, project, article_id):
    article = _article(project, article_id)
    annotation = services.annotation_get_or_create(article=article, annotator=request.user)
    services.annotation_submit(annotation=annotation)
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


def _after_change(request, project, article, editing=None):
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    return _workspace(request, project, article, editing=editing)
