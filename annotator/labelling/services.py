"""Every write an analyst makes while labelling. Views parse input and call one of these."""

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.corpus.models import Article
from annotator.projects.models import RelationType, SpanAttribute, SpanLabel, StanceTarget, StanceValue, Topic

from .models import Annotation, Relation, Span, Stance


def annotation_get_or_create(*, article: Article, annotator: AbstractBaseUser) -> Annotation:
    try:
        annotation, _ = Annotation.objects.get_or_create(article=article, annotator=annotator)
    except IntegrityError:  # two first saves at once: the other request made it
        annotation = Annotation.objects.get(article=article, annotator=annotator)
    return annotation


def span_check_offsets(*, article: Article, start: int, end: int, text: str) -> None:
    """The one check every way into the database goes through: offsets select exactly `text`."""
    length = len(article.text)
    if not 0 <= start < end <= length:
        raise ValidationError(
            f"The span [{start}, {end}) is not inside the article (which has {length} characters).",
            code="out_of_range",
        )
    actual = article.text[start:end]
    if actual != text:
        raise ValidationError(
            f"The selected text does not match the article at [{start}, {end}): "
            f"the article has “{actual[:60]}”, the browser sent “{text[:60]}”. Nothing was saved; reload the page.",
            code="text_mismatch",
        )


@transaction.atomic
def span_create(
    *,
    article: Article,
    annotator: AbstractBaseUser,
    label: SpanLabel,
    start: int,
    end: int,
    text: str,
    client_id: uuid.UUID,
) -> Span:
    """Save a span once: a retried request with the same `client_id` returns the first span."""
    if label.project_id != article.project_id:
        raise ValidationError("That label belongs to another project.", code="wrong_project")
    span_check_offsets(article=article, start=start, end=end, text=text)
    annotation = annotation_get_or_create(article=article, annotator=annotator)
    existing = annotation.spans.filter(client_id=client_id).first()
    if existing is not None:
        return _same_span_or_conflict(existing, label=label, start=start, end=end)
    try:
        with transaction.atomic():
            span = Span.objects.create(
                annotation=annotation, label=label, start=start, end=end, text=text, client_id=client_id
            )
    except IntegrityError:  # the same retry arrived twice at once
        return _same_span_or_conflict(annotation.spans.get(client_id=client_id), label=label, start=start, end=end)
    _touch(annotation)
    return span


def _same_span_or_conflict(span: Span, *, label: SpanLabel, start: int, end: int) -> Span:
    if (span.label_id, span.start, span.end) != (label.id, start, end):
        raise ValidationError("This change id was already used for a different span.", code="client_id_reused")
    return span


@transaction.atomic
def span_update(*, span: Span, label: SpanLabel, attributes: dict[str, str]) -> Span:
    project = span.annotation.article.project
    if label.project_id != project.id:
        raise ValidationError("That label belongs to another project.", code="wrong_project")
    if label.id != span.label_id:
        # Links that the new label cannot take part in would be invalid: drop them with the change.
        Relation.objects.filter(source=span).exclude(type__source_label=label).delete()
        Relation.objects.filter(target=span, type__target_label__isnull=False).exclude(type__target_label=label).delete()
    span.label = label
    span.attributes = _clean_attributes(label=label, attributes=attributes)
    span.save(update_fields=["label", "attributes", "updated_at"])
    _touch(span.annotation)
    return span


def _clean_attributes(*, label: SpanLabel, attributes: dict[str, str]) -> dict[str, str]:
    """Keep the label's own attributes, with stance and target values from the project's lists."""
    project = label.project
    allowed = {
        SpanAttribute.Kind.STANCE: set(StanceValue.objects.filter(project=project).values_list("name", flat=True)),
        SpanAttribute.Kind.TARGET: set(StanceTarget.objects.filter(project=project).values_list("name", flat=True)),
    }
    cleaned = {}
    for attribute in label.attributes.all():
        value = (attributes.get(attribute.name) or "").strip()
        if not value:
            continue
        if attribute.kind in allowed and value not in allowed[attribute.kind]:
            raise ValidationError(f"“{value}” is not a valid {attribute.name}.", code="bad_attribute")
        cleaned[attribute.name] = value[:500]
    return cleaned


@transaction.atomic
def span_delete(*, span: Span) -> None:
    annotation = span.annotation
    span.delete()
    _touch(annotation)


@transaction.atomic
def relation_create(*, relation_type: RelationType, source: Span, target: Span) -> Relation:
    if source.annotation_id != target.annotation_id:
        raise ValidationError("Both spans must be from the same annotation.", code="cross_annotation")
    if source.id == target.id:
        raise ValidationError("A span cannot be linked to itself.", code="self_relation")
    if relation_type.project_id != source.annotation.article.project_id:
        raise ValidationError("That relation type belongs to another project.", code="wrong_project")
    if source.label_id != relation_type.source_label_id or (
        relation_type.target_label_id and target.label_id != relation_type.target_label_id
    ):
        raise ValidationError(
            f"A “{relation_type.name}” link goes from a {relation_type.source_label.name} span"
            + (f" to a {relation_type.target_label.name} span." if relation_type.target_label_id else "."),
            code="wrong_labels",
        )
    relation, _ = Relation.objects.get_or_create(
        annotation=source.annotation, type=relation_type, source=source, target=target
    )
    _touch(source.annotation)
    return relation


@transaction.atomic
def relation_delete(*, relation: Relation) -> None:
    annotation = relation.annotation
    relation.delete()
    _touch(annotation)


@transaction.atomic
def document_labels_set(
    *, annotation: Annotation, topic_ids: list[int], stances: dict[int, int | None]
) -> Annotation:
    """Replace the annotator's topics and their stance toward each target."""
    project_id = annotation.article.project_id
    topics = list(Topic.objects.filter(project_id=project_id, id__in=topic_ids))
    if len(topics) != len(set(topic_ids)):
        raise ValidationError("Unknown topic.", code="bad_topic")
    targets = {t.id: t for t in StanceTarget.objects.filter(project_id=project_id, id__in=stances.keys())}
    values = {v.id: v for v in StanceValue.objects.filter(project_id=project_id)}
    if len(targets) != len(stances) or any(v is not None and v not in values for v in stances.values()):
        raise ValidationError("Unknown stance target or value.", code="bad_stance")
    annotation.topics.set(topics)
    for target_id, value_id in stances.items():
        if value_id is None:
            annotation.stances.filter(target_id=target_id).delete()
        else:
            Stance.objects.update_or_create(
                annotation=annotation, target=targets[target_id], defaults={"value": values[value_id]}
            )
    _touch(annotation)
    return annotation


@transaction.atomic
def annotation_submit(*, annotation: Annotation) -> Annotation:
    annotation.status = Annotation.Status.SUBMITTED
    annotation.submitted_at = timezone.now()
    annotation.save(update_fields=["status", "submitted_at", "updated_at"])
    return annotation


def _touch(annotation: Annotation) -> None:
    annotation.save(update_fields=["updated_at"])
