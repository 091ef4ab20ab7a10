"""`/api/v1/projects/{id}/articles/{id}/suggestions…`: what the suggesters propose for an article
that the calling analyst has not decided yet (the labelling page's list, from the same query:
read from the suggestion rows alone, never from anyone's annotations), and accepting or rejecting
them into the caller's own annotation through the suggestions services.

A decision is a change to the caller's annotation, made as the API's span create makes one: the
annotation is claimed (a first change takes one of the article's k slots, 409 when they are
taken), `If-Match` with the annotation's `ETag` refuses a change made from an older version
(412), and the answer carries the new `ETag`.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from annotator.corpus.models import Article
from annotator.labelling import services as labelling
from annotator.suggestions import services
from annotator.suggestions.models import Suggestion

from .annotations import SpanOut, _article, _own, _span_out
from .common import etag, expected_version, not_found, problems, project_for

router = Router(tags=["suggestions"])


class SuggestionOut(Schema):
    """A span suggestion has `label`, `start`, `end` and `text` (and `speaker`: the id of the speaker
    suggestion it is linked to, if any); a topic suggestion has `topic`; a stance suggestion (a
    trained model's) has `target` and `stance`, the value it proposes toward that target."""

    id: int
    source: str
    kind: str
    label: str | None
    start: int | None
    end: int | None
    text: str
    topic: str | None
    target: str | None = None
    stance: str | None = None
    speaker: int | None
    score: float


class DecisionOut(Schema):
    suggestion: int
    decision: str
    span: SpanOut | None
    version: int


class AcceptedAllOut(Schema):
    accepted: int
    version: int


def _suggestion_out(suggestion: Suggestion) -> dict:
    return {
        "id": suggestion.id, "source": suggestion.source, "kind": suggestion.kind,
        "label": suggestion.label.name if suggestion.label_id else None, "start": suggestion.start,
        "end": suggestion.end, "text": suggestion.text, "topic": suggestion.topic.name if suggestion.topic_id else None,
        "target": suggestion.target.name if suggestion.target_id else None,
        "stance": suggestion.stance_value.name if suggestion.stance_value_id else None,
        "speaker": suggestion.speaker.id if getattr(suggestion, "speaker", None) else None, "score": suggestion.score,
    }


def _suggestion(article: Article, suggestion_id: int) -> Suggestion:
    suggestion = (Suggestion.objects.select_related("label", "topic", "target", "stance_value")
                  .filter(article=article, pk=suggestion_id).first())
    if suggestion is None:
        raise not_found("suggestion on this article")
    return suggestion


@router.get("/{project_id}/articles/{article_id}/suggestions", response={200: list[SuggestionOut], **problems(403, 404)},
            summary="Suggestions for an article you have not decided")
def suggestion_list(request, response: HttpResponse, project_id: int, article_id: int):
    """As the labelling page lists them: none once the article is reviewed or when its k slots are
    taken by others (you could not accept them)."""
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    annotation = _own(request, article)
    response["ETag"] = etag(annotation)
    if labelling.article_reviewed(article.id) or (
        annotation is None and labelling.article_is_full(article=article, overlap=project.overlap)
    ):
        return []
    return [_suggestion_out(s) for s in services.suggestions_pending(article=article, annotation=annotation)]


def _decided(request: HttpRequest, article: Article, decide):
    """`decide(annotation)` on the caller's annotation, claimed and locked, refused as stale when
    `If-Match` names an older version. Returns what it returned and the annotation."""
    version = expected_version(request)
    with labelling.annotation_claim(article=article, annotator=request.user) as annotation:
        if version is not None and version != annotation.version:
            raise labelling.StaleVersion(annotation)
        result = decide(annotation)
    annotation.refresh_from_db(fields=["version"])
    return result, annotation


@router.post("/{project_id}/articles/{article_id}/suggestions/{suggestion_id}/accept",
             response={200: DecisionOut, **problems(400, 403, 404, 409, 412, 422)},
             summary="Accept a suggestion into your annotation")
def suggestion_accept(request, response: HttpResponse, project_id: int, article_id: int, suggestion_id: int):
    """A span suggestion becomes your span (checked as any span is, keeping `suggested_by`) and its
    quote → speaker link once you hold both spans; a topic suggestion becomes one of your topics."""
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    suggestion = _suggestion(article, suggestion_id)
    span, annotation = _decided(request, article, lambda annotation: services.suggestion_accept(
        annotation=annotation, suggestion=suggestion, actor=request.user))
    response["ETag"] = etag(annotation)
    return {"suggestion": suggestion.id, "decision": "accepted", "span": _span_out(span) if span else None,
            "version": annotation.version}


@router.post("/{project_id}/articles/{article_id}/suggestions/{suggestion_id}/reject",
             response={200: DecisionOut, **problems(400, 403, 404, 409, 412, 422)},
             summary="Reject a suggestion: it is no longer offered to you")
def suggestion_reject(request, response: HttpResponse, project_id: int, article_id: int, suggestion_id: int):
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    suggestion = _suggestion(article, suggestion_id)
    _, annotation = _decided(request, article, lambda annotation: services.suggestion_reject(
        annotation=annotation, suggestion=suggestion))
    response["ETag"] = etag(annotation)
    return {"suggestion": suggestion.id, "decision": "rejected", "span": None, "version": annotation.version}


@router.post("/{project_id}/articles/{article_id}/suggestions/accept-all",
             response={200: AcceptedAllOut, **problems(400, 403, 404, 409, 412, 422)},
             summary="Accept every suggestion you have not decided")
def suggestions_accept_all(request, response: HttpResponse, project_id: int, article_id: int):
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    accepted, annotation = _decided(request, article, lambda annotation: services.suggestions_accept_all(
        annotation=annotation, actor=request.user))
    response["ETag"] = etag(annotation)
    return {"accepted": accepted, "version": annotation.version}
