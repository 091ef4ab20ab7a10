"""An analyst's decisions on the labelling page: accept or reject one suggestion, or accept all.

Each is a change to the analyst's annotation made as the labelling page's own changes are
(`labelling.views`): the annotation claimed and locked, the same services, the same answer of
out-of-band swaps and versions, so the page's pending-change queue and version checks apply.
"""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from annotator.labelling import services as labelling
from annotator.labelling import views as page
from annotator.labelling.rendering import redrawn
from annotator.projects.access import project_view

from . import services
from .models import Suggestion


def _suggestion(article, suggestion_id) -> Suggestion:
    suggestion = Suggestion.objects.select_related("label", "topic", "target", "stance_value").filter(article=article, pk=suggestion_id).first()
    if suggestion is None:
        raise page.Gone("This suggestion is no longer there: the article's suggestions were computed again. "
                        "Reload the page to see them as they are.")
    return suggestion


def _claimed(request, article):
    return lambda: labelling.annotation_claim(article=article, annotator=request.user)


def _removed(suggestion_ids) -> str:
    return "".join(f'<li id="suggestion-{i}" hx-swap-oob="delete"></li>' for i in suggestion_ids)


def _topics_answer(request, project, annotation) -> str:
    """The topics fieldset and the state the topics form stands on, as out-of-band swaps."""
    context = page._document_labels_context(project, annotation) | {"oob": True, "project": project}
    pending = services.suggestions_pending(article=annotation.article, annotation=annotation)
    context["suggested_topics"] = {s.topic_id: s for s in pending if s.topic_id}
    page.mark_suggested_stances(context["stance_rows"], pending)
    return "".join(render_to_string(f"labelling/article.html#{name}", context, request)
                   for name in ("topics_fieldset", "stance_fieldset", "labels_seen"))


def _notice(text) -> str:
    return format_html('<div id="span-notice" class="span-notice" role="status" hx-swap-oob="innerHTML"><p>{}</p></div>',
                       text)


@require_POST
@project_view()
@page._gone
def suggestion_accept(request, project, article_id, suggestion_id):
    article = page._article(project, article_id)
    suggestion = _suggestion(article, suggestion_id)
    if suggestion.kind in (Suggestion.Kind.TOPIC, Suggestion.Kind.STANCE):
        try:
            _, base, version, _ = page._locked(_claimed(request, article), lambda annotation: services.suggestion_accept(
                annotation=annotation, suggestion=suggestion, actor=request.user))
        except ValidationError as error:
            return page._invalid(error)
        if not request.htmx:
            return redirect("label_article", project.id, article.id)
        annotation = page._own_annotation(request, article)
        chosen = (f"Topic chosen: {suggestion.topic.name}." if suggestion.topic_id else
                  f"Stance chosen toward {suggestion.target.name}: {suggestion.stance_value.name}.")
        body = _topics_answer(request, project, annotation) + _removed([suggestion.id]) + _notice(chosen)
        return page._seen(page._versioned(HttpResponse(body), base, version), page._labels_seen(annotation))
    labels = page._labels(project, attributes=True)
    try:
        span, base, version, spans = page._locked(
            _claimed(request, article),
            lambda annotation: services.suggestion_accept(annotation=annotation, suggestion=suggestion, actor=request.user),
            labels, text=article.text, around=lambda span: (span.start, span.end),
        )
    except ValidationError as error:
        return page._invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    before = [s for s in spans if s.id != span.id]
    response = page._change_answer(
        request, project, article, span.annotation, base=base, version=version, spans=spans, labels=labels,
        redraw=redrawn(before, spans), editing=span, added=span, status=201,
        notice=format_html("Accepted the suggested {} “<bdi>{}</bdi>”.", span.label.name, Truncator(span.text).chars(60)),
    )
    response.content += _removed([suggestion.id]).encode()
    return response


@require_POST
@project_view()
@page._gone
def suggestion_reject(request, project, article_id, suggestion_id):
    article = page._article(project, article_id)
    suggestion = _suggestion(article, suggestion_id)
    try:
        _, base, version, _ = page._locked(_claimed(request, article), lambda annotation: services.suggestion_reject(
            annotation=annotation, suggestion=suggestion))
    except ValidationError as error:
        return page._invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    if suggestion.kind == Suggestion.Kind.STANCE:
        what = f"{suggestion.target.name}: {suggestion.stance_value.name}"
    else:
        what = suggestion.topic.name if suggestion.topic_id else suggestion.text
    body = _removed([suggestion.id]) + _notice(f"Rejected the suggestion “{Truncator(what).chars(60)}”.")
    if suggestion.kind != Suggestion.Kind.SPAN:  # no longer marked as suggested in the topics or stance
        body = _topics_answer(request, project, page._own_annotation(request, article)) + body
    return page._versioned(HttpResponse(body), base, version)


# No page shows this version: the answer makes the page load its text and span list again
# (labelling.js), as after a change made in another tab: accepting all may add many spans.
RELOAD = "reload"


@require_POST
@project_view()
def suggestions_accept_all(request, project, article_id):
    article = page._article(project, article_id)
    try:
        accepted, _, version, _ = page._locked(_claimed(request, article), lambda annotation: services.suggestions_accept_all(
            annotation=annotation, actor=request.user))
    except ValidationError as error:
        return page._invalid(error)
    if not request.htmx:
        return redirect("label_article", project.id, article.id)
    annotation = page._own_annotation(request, article)
    context = {"project": project, "article": article, "oob": True,
               "suggestions": services.suggestions_pending(article=article, annotation=annotation)}
    body = (render_to_string("labelling/article.html#suggestions", context, request)
            + _topics_answer(request, project, annotation)
            + _notice(f"Accepted {accepted} suggestion{'s' if accepted != 1 else ''}."))
    return page._versioned(HttpResponse(body), RELOAD, version)
