"""Every adjudication a reviewer makes, each one write to the article's gold annotation.

The gold annotation is `Annotation(kind="gold")`; the database allows one per article. It is
made by the first adjudication and kept for ever after; its `annotator` is set to the reviewer
who last changed it (so it says who to ask), while each change's own reviewer is in its
`Change.actor`.

Each gold span keeps how it got there in `Span.review`: "accepted" from the analysts who had
exactly that span (label, offsets, attributes), "edited" once the reviewer changed it, "added"
when it is the reviewer's own. Relations are adjudicated like spans, between gold spans: an
analyst's link is accepted once gold holds both its ends (the same label and offsets).

Every function takes `expected_version`: the gold version the reviewer's page showed, 0 when
there was no gold yet. A save from a page that is no longer current raises `StaleVersion`
(code "stale") and changes nothing. The writes themselves are the labelling services, called
with the reviewer as `actor`, so each leaves a `Change` with its before and after states.
"""

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from annotator.corpus.models import Article
from annotator.corpus.text import refuse_control_characters
from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Change, Relation, Span
from annotator.labelling.services import StaleVersion
from annotator.projects.models import RelationType, SpanLabel
from annotator.training.services import model_retrain_if_due

# A reviewer's accept of one analyst span always gets the same change id, so that a retried
# accept (after a lost answer) adds the span once.
ACCEPT_NAMESPACE = uuid.UUID("6f1c3b8e-2a55-4a8e-9a57-0c0f3f3a7d21")


def gold_for(article: Article) -> Annotation | None:
    return article.annotations.filter(kind=Annotation.Kind.GOLD).first()


def _gold(*, article: Article, reviewer: AbstractBaseUser, expected_version: int) -> Annotation:
    """The article's gold annotation, locked, at `expected_version`; made now when that is 0."""
    gold = Annotation.objects.select_for_update().filter(article=article, kind=Annotation.Kind.GOLD).first()
    if gold is None:
        if expected_version != 0:
            raise ValidationError(
                "This article's gold annotation is not the one your page showed. Nothing was changed: reload the page.",
                code="stale",
            )
        try:
            with transaction.atomic():
                gold = Annotation.objects.create(article=article, annotator=reviewer, kind=Annotation.Kind.GOLD)
        except IntegrityError:
            # Another reviewer's first adjudication of this article won the race.
            raise StaleVersion(Annotation.objects.get(article=article, kind=Annotation.Kind.GOLD)) from None
        return gold
    if gold.version != expected_version:
        raise StaleVersion(gold)
    return gold


def _claim(gold: Annotation, reviewer: AbstractBaseUser, locked_version: int) -> None:
    """Once a change is recorded (the version moved on), the gold's annotator is its last reviewer."""
    Annotation.objects.filter(pk=gold.pk, version__gt=locked_version).exclude(annotator=reviewer).update(
        annotator=reviewer
    )


def _retried_span(article: Article, client_id: uuid.UUID) -> Span | None:
    """The span a lost answer was about: its retry carries a version that the span itself moved on."""
    return Span.objects.filter(
        annotation__article=article, annotation__kind=Annotation.Kind.GOLD, client_id=client_id
    ).first()


def submitted_analyst_annotations(article: Article):
    return article.annotations.filter(kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED)


def _analyst_span(article: Article, span: Span) -> Span:
    if not submitted_analyst_annotations(article).filter(pk=span.annotation_id).exists():
        raise ValidationError("Only spans of submitted analyst annotations of this article can be adjudicated.",
                              code="not_submitted")
    return span


def _gold_span(gold: Annotation, span: Span) -> Span:
    if span.annotation_id != gold.pk:
        raise ValidationError("That span is not in this article's gold annotation.", code="not_gold")
    return span


@transaction.atomic
def gold_span_accept(
    *, article: Article, reviewer: AbstractBaseUser, span: Span, expected_version: int, reason: str = ""
) -> Span:
    """Copy an analyst's span (label, offsets, text, attributes) into gold."""
    _analyst_span(article, span)
    client_id = uuid.uuid5(ACCEPT_NAMESPACE, str(span.pk))
    retried = _retried_span(article, client_id)
    if retried is not None:
        return retried
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    if gold.spans.filter(label_id=span.label_id, start=span.start, end=span.end).exists():
        raise ValidationError("Gold already has this span with this label.", code="duplicate")
    source = f"From {span.annotation.annotator.get_username()}'s span {span.pk}."
    accepted = labelling.span_add(
        annotation=gold,
        actor=reviewer,
        label=span.label,
        start=span.start,
        end=span.end,
        text=span.text,
        attributes=dict(span.attributes),
        client_id=client_id,
        expected_version=gold.version,
        reason=f"{source} {reason.strip()}".strip(),
        action=Change.Action.ACCEPT,
    )
    accepted.review = {"decision": "accepted", "from": _analysts_with(article, accepted, span)}
    accepted.save(update_fields=["review"])
    _claim(gold, reviewer, expected_version)
    return accepted


def _analysts_with(article: Article, span: Span, accepted_from: Span) -> list[str]:
    """The analyst it was accepted from, and every other whose submitted annotation has exactly
    this span: label, offsets and attributes."""
    same = Span.objects.filter(
        annotation__in=submitted_analyst_annotations(article), label_id=span.label_id, start=span.start, end=span.end
    ).select_related("annotation__annotator")
    names = {s.annotation.annotator.get_username() for s in same if s.attributes == span.attributes}
    return sorted(names | {accepted_from.annotation.annotator.get_username()})


@transaction.atomic
def gold_span_reject(
    *, article: Article, reviewer: AbstractBaseUser, span: Span, expected_version: int, reason: str
) -> Change:
    """Record that an analyst's span stays out of gold, and why (a reject overrules an analyst)."""
    _analyst_span(article, span)
    return _reject(
        article=article, reviewer=reviewer, expected_version=expected_version, reason=reason, subject="span",
        subject_id=span.pk, before=labelling.span_state(span), annotation=span.annotation,
    )


def _reject(
    *, article: Article, reviewer: AbstractBaseUser, expected_version: int, reason: str, subject: str,
    subject_id: int, before: dict, annotation: Annotation,
) -> Change:
    """Record in gold's history that an analyst's span or link stays out of gold, and why."""
    reason = reason.strip()
    if not reason:
        name = {"span": "span", "relation": "link"}[subject]
        raise ValidationError(f"Say why you reject this {name}: it overrules the analyst.", code="reason_required")
    refuse_control_characters(reason, what="The reason")
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    change = Change.objects.create(
        annotation=gold,
        actor=reviewer,
        action=Change.Action.REJECT,
        subject=subject,
        subject_id=subject_id,
        before=before | {"annotator": annotation.annotator.get_username()},
        reason=reason,
    )
    Annotation.objects.filter(pk=gold.pk).update(version=F("version") + 1, updated_at=timezone.now())
    _claim(gold, reviewer, expected_version)
    return change


@transaction.atomic
def gold_span_add(
    *,
    article: Article,
    reviewer: AbstractBaseUser,
    label: SpanLabel,
    start: int,
    end: int,
    text: str,
    client_id: uuid.UUID,
    expected_version: int,
    reason: str = "",
) -> Span:
    """The reviewer's own span, from a selection on the review page."""
    retried = _retried_span(article, client_id)
    if retried is not None:
        # The same span again (or a refusal if this change id was used for another one).
        return labelling.span_add(annotation=retried.annotation, actor=reviewer, label=label, start=start, end=end,
                                  text=text, client_id=client_id)
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    span = labelling.span_add(
        annotation=gold, actor=reviewer, label=label, start=start, end=end, text=text, client_id=client_id,
        expected_version=gold.version, reason=reason.strip(),
    )
    span.review = {"decision": "added", "from": []}
    span.save(update_fields=["review"])
    _claim(gold, reviewer, expected_version)
    return span


@transaction.atomic
def gold_span_update(
    *, article: Article, reviewer: AbstractBaseUser, span: Span, label: SpanLabel, attributes: dict[str, str],
    expected_version: int, reason: str = "",
) -> Span:
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    _gold_span(gold, span)
    labelling.span_update(
        span=span, label=label, attributes=attributes, actor=reviewer, expected_version=gold.version,
        reason=reason.strip(),
    )
    changed = Annotation.objects.filter(pk=gold.pk, version__gt=gold.version).exists()
    if changed and (span.review or {}).get("decision") == "accepted":
        # Still from those analysts, but no longer as they marked it.
        span.review = {**span.review, "decision": "edited"}
        span.save(update_fields=["review"])
    _claim(gold, reviewer, expected_version)
    return span


@transaction.atomic
def gold_span_delete(
    *, article: Article, reviewer: AbstractBaseUser, span: Span, expected_version: int, reason: str = ""
) -> None:
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    _gold_span(gold, span)
    labelling.span_delete(span=span, actor=reviewer, expected_version=gold.version, reason=reason.strip())
    _claim(gold, reviewer, expected_version)


def _analyst_relation(article: Article, relation: Relation) -> Relation:
    if not submitted_analyst_annotations(article).filter(pk=relation.annotation_id).exists():
        raise ValidationError("Only links of submitted analyst annotations of this article can be adjudicated.",
                              code="not_submitted")
    return relation


def gold_twin(gold: Annotation | None, span: Span) -> Span | None:
    """Gold's span with the same label and offsets as an analyst's span, if gold has accepted (or made) one."""
    if gold is None:
        return None
    return gold.spans.filter(label_id=span.label_id, start=span.start, end=span.end).order_by("id").first()


@transaction.atomic
def gold_relation_accept(
    *, article: Article, reviewer: AbstractBaseUser, relation: Relation, expected_version: int, reason: str = ""
) -> Relation:
    """Copy an analyst's link into gold, between gold's spans at the same label and offsets as its ends."""
    _analyst_relation(article, relation)
    existing = gold_for(article)
    source, target = gold_twin(existing, relation.source), gold_twin(existing, relation.target)
    if source is not None and target is not None:
        same = Relation.objects.filter(type_id=relation.type_id, source=source, target=target).first()
        if same is not None:
            # Accepted already: by this request before its answer was lost, or from another analyst.
            return same
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    if source is None or target is None:
        missing = " and ".join(
            f"“{span.text[:60]}” ({span.label.name})"
            for span, twin in ((relation.source, source), (relation.target, target)) if twin is None
        )
        raise ValidationError(f"Accept {missing} into gold first: a link joins two gold spans.", code="missing_span")
    who = relation.annotation.annotator.get_username()
    accepted = labelling.relation_create(
        relation_type=relation.type, source=source, target=target, actor=reviewer, expected_version=gold.version,
        reason=f"From {who}'s link {relation.pk}. {reason.strip()}".strip(), action=Change.Action.ACCEPT,
    )
    _claim(gold, reviewer, expected_version)
    return accepted


@transaction.atomic
def gold_relation_reject(
    *, article: Article, reviewer: AbstractBaseUser, relation: Relation, expected_version: int, reason: str
) -> Change:
    """Record that an analyst's link stays out of gold, and why."""
    _analyst_relation(article, relation)
    return _reject(
        article=article, reviewer=reviewer, expected_version=expected_version, reason=reason, subject="relation",
        subject_id=relation.pk, before=labelling.relation_state(relation), annotation=relation.annotation,
    )


@transaction.atomic
def gold_relation_add(
    *, article: Article, reviewer: AbstractBaseUser, relation_type: RelationType, source: Span, target: Span,
    expected_version: int, reason: str = "",
) -> Relation:
    """The reviewer's own link between two gold spans."""
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    _gold_span(gold, source)
    _gold_span(gold, target)
    if Relation.objects.filter(type=relation_type, source=source, target=target).exists():
        raise ValidationError("Gold already has this link.", code="duplicate")
    relation = labelling.relation_create(
        relation_type=relation_type, source=source, target=target, actor=reviewer, expected_version=gold.version,
        reason=reason.strip(),
    )
    _claim(gold, reviewer, expected_version)
    return relation


@transaction.atomic
def gold_relation_delete(
    *, article: Article, reviewer: AbstractBaseUser, relation: Relation, expected_version: int, reason: str = ""
) -> None:
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    if relation.annotation_id != gold.pk:
        raise ValidationError("That link is not in this article's gold annotation.", code="not_gold")
    labelling.relation_delete(relation=relation, actor=reviewer, expected_version=gold.version, reason=reason.strip())
    _claim(gold, reviewer, expected_version)


@transaction.atomic
def gold_labels_set(
    *,
    article: Article,
    reviewer: AbstractBaseUser,
    topic_ids: list[int],
    stances: dict[int, int | None],
    expected_version: int,
    reason: str = "",
) -> Annotation:
    """Set gold topics and stance; choosing otherwise than any analyst did needs a reason."""
    reason = reason.strip()
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    before = labelling.labels_state(gold)
    labelling.document_labels_set(
        annotation=gold, topic_ids=topic_ids, stances=stances, actor=reviewer, expected_version=gold.version,
        reason=reason,
    )
    after = labelling.labels_state(gold)
    if after != before and not reason:
        overruled = [
            a.annotator.get_username()
            for a in submitted_analyst_annotations(article).select_related("annotator").order_by("id")
            if labelling.labels_state(a) != after
        ]
        if overruled:
            # Raising undoes the change (and a gold made for it) with the transaction.
            raise ValidationError(
                f"These topics and stances overrule {', '.join(overruled)}: say why in the reason.",
                code="reason_required",
            )
    _claim(gold, reviewer, expected_version)
    return gold


@transaction.atomic
def gold_mark_reviewed(*, article: Article, reviewer: AbstractBaseUser, expected_version: int) -> Annotation:
    gold = _gold(article=article, reviewer=reviewer, expected_version=expected_version)
    gold = labelling.annotation_submit(annotation=gold, actor=reviewer)
    _claim(gold, reviewer, expected_version)
    # The project may retrain its model after every N reviewed articles (its task starts on commit).
    model_retrain_if_due(project=article.project)
    return gold
