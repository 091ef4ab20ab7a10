"""`/api/v1/projects/{id}/…`: the caller's own annotation of an article (read; spans, topics and
stance written through the labelling services), and for reviewers and admins every analyst's
work, the gold annotation and the review queue.

An analyst's first write to an article takes one of its k slots (the project's overlap), as the
labelling page's does and through the same service: when k analysts already hold it, the write is
refused with 409 and nothing is saved.

Writes take `If-Match` with the annotation's `ETag` (`"v<version>"`): a write made from an older
version is refused with 412 rather than overwriting what changed since. A span is idempotent by
its `client_id`: sending it again returns the first span.
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from ninja.errors import HttpError

from annotator.corpus.models import Article
from annotator.corpus.text import refuse_control_characters
from annotator.labelling import services
from annotator.labelling.models import Annotation, Span
from annotator.projects.access import STAFF_ROLES
from annotator.projects.models import Project
from annotator.review.queries import review_queue
from annotator.review.services import gold_for

from .common import FIRST_VERSION, etag, expected_version, not_found, problems, project_for

router = Router(tags=["annotations"])


class SpanOut(Schema):
    id: int
    client_id: uuid.UUID
    label: str
    start: int
    end: int
    text: str
    attributes: dict
    review: dict | None
    # The suggester a span was accepted from ("rules:quotes", "model:12"), null when made by hand.
    suggested_by: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RelationOut(Schema):
    id: int
    type: str
    source: int
    target: int


class AnnotationOut(Schema):
    id: int | None
    kind: str
    annotator: str | None
    status: str
    version: int
    created_at: datetime.datetime | None
    updated_at: datetime.datetime | None
    submitted_at: datetime.datetime | None
    spans: list[SpanOut]
    relations: list[RelationOut]
    topics: list[str]
    stance: dict[str, str]


def _annotation_out(annotation: Annotation | None) -> dict:
    if annotation is None:  # nothing saved yet: the empty annotation the first write makes
        return {"id": None, "kind": Annotation.Kind.ANALYST, "annotator": None, "status": Annotation.Status.IN_PROGRESS,
                "version": FIRST_VERSION, "created_at": None, "updated_at": None, "submitted_at": None, "spans": [],
                "relations": [], "topics": [], "stance": {}}
    spans = annotation.spans.select_related("label").order_by("start", "end", "id")
    relations = annotation.relations.select_related("type").order_by("id")
    labels = services.labels_state(annotation)
    return {
        "id": annotation.id, "kind": annotation.kind,
        "annotator": annotation.annotator.get_username() if annotation.annotator_id else None,
        "status": annotation.status, "version": annotation.version, "created_at": annotation.created_at,
        "updated_at": annotation.updated_at, "submitted_at": annotation.submitted_at,
        "spans": [_span_out(s) for s in spans],
        "relations": [{"id": r.id, "type": r.type.name, "source": r.source_id, "target": r.target_id} for r in relations],
        "topics": labels["topics"], "stance": labels["stance"],
    }


def _span_out(span: Span) -> dict:
    return {
        "id": span.id, "client_id": span.client_id, "label": span.label.name, "start": span.start, "end": span.end,
        "text": span.text, "attributes": span.attributes, "review": span.review, "suggested_by": span.suggested_by,
        "created_at": span.created_at,
        "updated_at": span.updated_at,
    }


def _article(project: Project, article_id: int) -> Article:
    article = project.articles.filter(pk=article_id).first()
    if article is None:
        raise not_found("article")
    return article


def _own(request: HttpRequest, article: Article) -> Annotation | None:
    return (
        Annotation.objects.select_related("annotator")
        .filter(article=article, annotator=request.user, kind=Annotation.Kind.ANALYST)
        .first()
    )


@router.get("/{project_id}/articles/{article_id}/annotation", response={200: AnnotationOut, **problems(403, 404)},
            summary="Your own annotation of an article")
def annotation_own(request, response: HttpResponse, project_id: int, article_id: int):
    project, _ = project_for(request, project_id)
    annotation = _own(request, _article(project, article_id))
    response["ETag"] = etag(annotation)
    return _annotation_out(annotation)


class SpanIn(Schema):
    label: str
    start: int
    end: int
    text: str
    client_id: uuid.UUID
    attributes: dict[str, str] = {}


def _label(project: Project, name: str):
    refuse_control_characters(name, what="The label")  # PostgreSQL cannot even look a NUL up
    # Its attributes are read only when a span sends values for them (`span_attributes_clean`).
    label = project.span_labels.filter(name=name).first()
    if label is None:
        raise ValidationError(f"“{name}” is not a label of this project.", code="bad_label")
    return label


@router.post("/{project_id}/articles/{article_id}/spans",
             response={200: SpanOut, 201: SpanOut, **problems(400, 403, 404, 409, 412, 422)},
             summary="Add a span to your annotation")
def span_create(request, response: HttpResponse, project_id: int, article_id: int, body: SpanIn):
    """Offsets are Unicode code points of the article's text, `[start, end)`; `text` must be exactly
    that slice (checked, as on the page), and no edge may split a grapheme cluster. Sent again with the
    same `client_id`, the first span is returned (200) and nothing is added."""
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    label = _label(project, body.label)
    version = expected_version(request)
    with services.annotation_claim(article=article, annotator=request.user) as annotation:
        before = annotation.version
        span = services.span_add(
            annotation=annotation, actor=request.user, label=label, start=body.start, end=body.end, text=body.text,
            attributes=body.attributes, client_id=body.client_id, expected_version=version,
        )
    response["ETag"] = etag(annotation)
    return Status(201 if annotation.version != before else 200, _span_out(span))


def _own_span(request: HttpRequest, project: Project, span_id: int) -> Span:
    span = (
        Span.objects.select_related("annotation__article", "label")
        .filter(pk=span_id, annotation__article__project=project, annotation__annotator=request.user,
                annotation__kind=Annotation.Kind.ANALYST)
        .first()
    )
    if span is None:
        raise not_found("span of yours")
    return span


class SpanPatch(Schema):
    label: str | None = None
    attributes: dict[str, str] | None = None


@router.patch("/{project_id}/spans/{span_id}", response={200: SpanOut, **problems(400, 403, 404, 409, 412, 422)},
              summary="Change one of your spans' label or attributes")
def span_update(request, response: HttpResponse, project_id: int, span_id: int, body: SpanPatch):
    project, _ = project_for(request, project_id)
    span = _own_span(request, project, span_id)
    label = _label(project, body.label) if body.label is not None else span.label
    attributes = body.attributes if body.attributes is not None else span.attributes
    span = services.span_update(span=span, label=label, attributes=attributes, actor=request.user,
                                expected_version=expected_version(request))
    response["ETag"] = etag(span.annotation)
    return _span_out(span)


@router.delete("/{project_id}/spans/{span_id}", response={204: None, **problems(400, 403, 404, 409, 412, 422)},
               summary="Delete one of your spans")
def span_delete(request, response: HttpResponse, project_id: int, span_id: int):
    project, _ = project_for(request, project_id)
    span = _own_span(request, project, span_id)
    annotation = span.annotation
    services.span_delete(span=span, actor=request.user, expected_version=expected_version(request))
    annotation.refresh_from_db(fields=["version"])
    response["ETag"] = etag(annotation)
    return Status(204, None)


class LabelsIn(Schema):
    """Every topic the article is about, and the stance toward each target (null: none)."""

    topics: list[str] = []
    stance: dict[str, str | None] = {}


@router.put("/{project_id}/articles/{article_id}/labels",
            response={200: AnnotationOut, **problems(400, 403, 404, 409, 412, 422)},
            summary="Set your topics and stance for an article")
def labels_set(request, response: HttpResponse, project_id: int, article_id: int, body: LabelsIn):
    project, _ = project_for(request, project_id)
    article = _article(project, article_id)
    topics = dict(project.topics.values_list("name", "id"))
    targets = dict(project.stance_targets.values_list("name", "id"))
    values = dict(project.stance_values.values_list("name", "id"))
    unknown = [name for name in body.topics if name not in topics]
    unknown += [name for name in body.stance if name not in targets]
    unknown += [value for value in body.stance.values() if value is not None and value not in values]
    if unknown:
        raise ValidationError(f"Not in this project's schema: {', '.join(sorted(set(unknown)))}.", code="bad_name")
    version = expected_version(request)
    with services.annotation_claim(article=article, annotator=request.user) as annotation:
        annotation = services.document_labels_set(
            annotation=annotation, topic_ids=[topics[n] for n in body.topics],
            stances={targets[t]: (values[v] if v is not None else None) for t, v in body.stance.items()},
            actor=request.user, expected_version=version,
        )
    response["ETag"] = etag(annotation)
    return _annotation_out(annotation)


@router.post("/{project_id}/articles/{article_id}/submit",
             response={200: AnnotationOut, **problems(403, 404, 409, 412, 422)}, summary="Submit your annotation")
def annotation_submit(request, response: HttpResponse, project_id: int, article_id: int):
    project, _ = project_for(request, project_id)
    annotation = _own(request, _article(project, article_id))
    if annotation is None:
        raise HttpError(409, "You have not labelled this article: there is nothing to submit.")
    version = expected_version(request)
    if version is not None and version != annotation.version:
        raise services.StaleVersion(annotation)
    annotation = services.annotation_submit(annotation=annotation, actor=request.user)
    response["ETag"] = etag(annotation)
    return _annotation_out(annotation)


@router.get("/{project_id}/articles/{article_id}/annotations",
            response={200: list[AnnotationOut], **problems(403, 404)}, summary="Every annotation of an article")
def annotation_list(request, project_id: int, article_id: int):
    """Every analyst's annotation and the gold one (reviewers and admins: analysts see only their own)."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    article = _article(project, article_id)
    return [_annotation_out(a) for a in article.annotations.select_related("annotator").order_by("kind", "id")]


@router.get("/{project_id}/articles/{article_id}/gold", response={200: AnnotationOut, **problems(403, 404)},
            summary="The gold annotation of an article")
def gold(request, response: HttpResponse, project_id: int, article_id: int):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    annotation = gold_for(_article(project, article_id))
    if annotation is None:
        raise not_found("gold annotation (the article has not been reviewed)")
    response["ETag"] = etag(annotation)
    return _annotation_out(annotation)


class QueueItem(Schema):
    article: int
    title: str
    submitted: int
    disagreement: list[str]


@router.get("/{project_id}/review-queue", response={200: list[QueueItem], **problems(403, 404)},
            summary="Articles waiting for review")
def queue(request, project_id: int):
    """As the review queue page lists them: disagreements first, then complete articles."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    return [{"article": a.pk, "title": a.title, "submitted": a.submitted, "disagreement": a.disagreement}
            for a in review_queue(project)]
