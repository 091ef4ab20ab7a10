"""Every write to an annotation. Views parse input and call one of these.

Each write locks its annotation, checks the version the caller saw (when it says which), bumps
the version, and records a `Change` with the state before and after, so nothing is ever
overwritten silently or lost without a trace. The same functions serve analysts labelling and
reviewers editing a gold annotation; `actor` is who made the change.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from annotator.corpus.models import Article
from annotator.corpus.text import cluster_around, refuse_control_characters
from annotator.projects.models import Project, RelationType, SpanAttribute, SpanLabel, StanceTarget, StanceValue, Topic

from .models import Annotation, Change, Relation, Span, Stance
from .queries import HOLDING


class StaleVersion(ValidationError):
    """The caller changed an annotation as it was at an older version."""

    def __init__(self, annotation: Annotation):
        super().__init__(
            "Someone else changed this annotation after you opened it (it is now at version "
            f"{annotation.version}). Nothing was overwritten: reload to see their change, then edit again.",
            code="stale",
        )


class ChangedElsewhere(ValidationError):
    """The change was made from a page showing an older state (another tab, another window)."""

    def __init__(self):
        super().__init__(
            "This was changed in another tab or window after this page showed it. Nothing was overwritten: "
            "reload the page to see the change, then edit again.",
            code="stale",
        )


def state_token(state: dict) -> str:
    """A short fingerprint of what a page showed, sent back with an edit to prove it is current."""
    return hashlib.sha256(json.dumps(state, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _check_seen(state: dict, seen: str | None, *, after: dict | None = None) -> None:
    """Refuse a change made from a page that showed another state than `state`. Given the state
    the change leads to (`after`), one that changes nothing is let through: it is a retry whose
    first send arrived (its answer lost), or the same edit made in another tab."""
    if seen is not None and state_token(state) != seen and (after is None or after != state):
        raise ChangedElsewhere()


def annotation_get_or_create(*, article: Article, annotator: AbstractBaseUser, lock: bool = False) -> Annotation:
    """The analyst's own annotation of the article (get_or_create copes with two first saves at once).

    With `lock`, it is locked as it is read, until the caller's transaction ends (as by
    `annotation_lock`, without a second query). This takes no slot check: the labelling page and
    the API make an analyst's first change through `annotation_claim`.
    """
    annotations = Annotation.objects.select_for_update() if lock else Annotation.objects
    annotation, _ = annotations.get_or_create(article=article, annotator=annotator, kind=Annotation.Kind.ANALYST)
    annotation.article = article  # the caller's copy: saves loading the text again
    return annotation


class ArticleFull(ValidationError):
    """The article already has the project's k analysts: a new one cannot start it."""

    def __init__(self, overlap: int):
        super().__init__(
            f"This article already has {overlap} analyst{'s' if overlap != 1 else ''} (as many as the project "
            "asks for), so you cannot start it. Nothing was saved: take the next article from the project page.",
            code="full",
        )


@contextmanager
def annotation_claim(*, article: Article, annotator: AbstractBaseUser) -> Iterator[Annotation]:
    """The analyst's annotation of the article, locked, for a change made inside the `with` block.

    One that does not exist yet is made, and so takes one of the article's k slots: the whole
    change is refused (`ArticleFull`, nothing saved) when the slots are taken. Every first change
    goes through here, the labelling page's and the API's alike, and `assignment_next` counts
    the same way.

    The count that decides is made at the end of the block, under the article's row lock (not the
    project's), and the lock is held only from there to the commit: analysts starting other
    articles never wait for each other, and those starting the same article wait for a count and
    a commit rather than for each other's whole change. It is race-free because a claimer counts
    after taking the lock, so it sees every annotation committed by the claimers before it, and
    its own (see `_claim_check`).
    """
    with transaction.atomic():
        # Read as `annotation_lock` reads it, so the change inside needs no second lock (see there).
        annotation = (
            Annotation.objects.select_for_update()
            .annotate(article_reviewed=_reviewed(OuterRef("article_id")))
            .filter(article=article, annotator=annotator, kind=Annotation.Kind.ANALYST)
            .first()
        )
        made = annotation is None
        if made:
            overlap, held, reviewed = _room(article)
            if held >= overlap:  # refused before doing any work
                raise ArticleFull(overlap)
            annotation = _annotation_make(article, annotator)
            annotation.article_reviewed = reviewed
        annotation.article = article  # the caller's copy: saves loading the text again
        with _holding_lock(annotation):
            yield annotation
        if made:
            _claim_check(article)


@contextmanager
def annotation_locked(*, annotation: Annotation) -> Iterator[Annotation]:
    """The annotation locked (`annotation_lock`) for the changes made inside the `with` block, in
    one transaction: the services called there with this copy do not lock it again."""
    with transaction.atomic():
        annotation_lock(annotation=annotation)
        with _holding_lock(annotation):
            yield annotation


@contextmanager
def _holding_lock(annotation: Annotation) -> Iterator[None]:
    # Read by `annotation_lock`: this copy is locked, and brought up to date, until the block ends.
    annotation.holds_lock = True
    try:
        yield
    finally:
        annotation.holds_lock = False


def _room(article: Article) -> tuple[int, int, bool]:
    """The project's k, how many analysts hold the article, and whether it is reviewed: one query."""
    return (
        Article.objects.filter(pk=article.pk)
        .annotate(
            held=Count("annotations", filter=Q(annotations__kind=Annotation.Kind.ANALYST,
                                               annotations__status__in=HOLDING)),
            reviewed=_reviewed(OuterRef("pk")),
        )
        .values_list("project__overlap", "held", "reviewed")
        .get()
    )


def _annotation_make(article: Article, annotator: AbstractBaseUser) -> Annotation:
    """The analyst's new annotation, known not to exist a moment ago: inserted without looking again.
    If their own other request (another tab) inserted it meanwhile, the insert waits for that one's
    commit and fails; theirs is taken, locked (it holds the place already)."""
    try:
        with transaction.atomic():
            return Annotation.objects.create(article=article, annotator=annotator, kind=Annotation.Kind.ANALYST)
    except IntegrityError:
        return Annotation.objects.select_for_update().get(article=article, annotator=annotator,
                                                          kind=Annotation.Kind.ANALYST)


def _claim_check(article: Article) -> None:
    """Refuse (roll back) the caller's new annotation if it makes more than k on the article.

    Called last in the claiming transaction. On PostgreSQL, the article's row is locked (FOR NO KEY
    UPDATE, which still lets annotations that point at it be inserted), then the holders are
    counted in a new statement, so under READ COMMITTED the count sees every claim committed by
    whoever held the lock before, as well as the caller's own uncommitted annotation. Two claimers
    can therefore never both see room for one. Both statements run in one call of the database
    function `labelling_claim_count` (migration 0008), which takes a new snapshot for each: the
    lock is held for that one round trip and the commit, not for two. SQLite has one writer at a
    time: the caller's insert already made it the only one.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT held, slots FROM labelling_claim_count(%s, %s, %s)",
                           [article.pk, Annotation.Kind.ANALYST.value, [status.value for status in HOLDING]])
            held, overlap = cursor.fetchone()
    else:
        overlap = Project.objects.filter(pk=article.project_id).values_list("overlap", flat=True).get()
        held = Annotation.objects.filter(article=article, kind=Annotation.Kind.ANALYST, status__in=HOLDING).count()
    if held > overlap:
        raise ArticleFull(overlap)


def article_is_full(*, article: Article, overlap: int) -> bool:
    held = Annotation.objects.filter(article=article, kind=Annotation.Kind.ANALYST, status__in=HOLDING)
    return held.count() >= overlap


def _gold_reviewed(article_id):
    """The article's gold annotation if a reviewer marked it reviewed (submitted it)."""
    return Annotation.objects.filter(article_id=article_id, kind=Annotation.Kind.GOLD, status=Annotation.Status.SUBMITTED)


def _reviewed(article_id) -> Exists:
    return Exists(_gold_reviewed(article_id))


def article_reviewed(article_id: int) -> bool:
    return _gold_reviewed(article_id).exists()


def _refuse_if_reviewed(annotation: Annotation) -> None:
    """An analyst's annotation is read-only once a reviewer marked the article reviewed: the gold
    was decided from it, and a later change would make the history disagree with the decision."""
    if annotation.kind != Annotation.Kind.ANALYST:
        return
    reviewed = getattr(annotation, "article_reviewed", None)  # read with the lock, when it was taken
    if reviewed is None:
        reviewed = article_reviewed(annotation.article_id)
    if reviewed:
        raise ValidationError(
            "A reviewer has marked this article reviewed, so your annotation of it is read-only now. "
            "Nothing was changed.",
            code="reviewed",
        )


ANNOTATION_COLUMNS = [field.attname for field in Annotation._meta.concrete_fields]


def annotation_lock(*, annotation: Annotation) -> Annotation:
    """Lock the annotation until the caller's transaction ends; the caller's copy is brought up to date.

    Between the lock and the end of the transaction nothing but the caller changes the
    annotation, and every change through these functions moves the same copy's version on, so
    a page known to show the version at the lock can be brought to the version after by what
    the caller did. The copy keeps what it had loaded with it (its article's long text).
    """
    if getattr(annotation, "holds_lock", False):
        # Inside `annotation_claim`'s or `annotation_locked`'s block: locked there, read with the
        # same columns, and changed since only through these functions, which keep this copy up to date.
        return annotation
    # Whether the article is reviewed comes with it: every change asks (`_refuse_if_reviewed`).
    row = (
        Annotation.objects.select_for_update()
        .annotate(reviewed=_reviewed(OuterRef("article_id")))
        .values(*ANNOTATION_COLUMNS, "reviewed")
        .get(pk=annotation.pk)
    )
    annotation.article_reviewed = row.pop("reviewed")
    for column, value in row.items():
        setattr(annotation, column, value)
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
    span_check_clusters(text=article.text, start=start, end=end)


def span_check_clusters(*, text: str, start: int, end: int) -> None:
    """Neither edge of `[start, end)` may fall inside a grapheme cluster (what a reader sees as one
    character: an emoji ZWJ sequence, a flag, a letter and its combining marks): half of one is
    not text, and token formats would get lone joiners and marks."""
    for offset in (start, end):
        cluster = cluster_around(text, offset)
        if cluster is not None:
            first, last = cluster
            raise ValidationError(
                f"The span [{start}, {end}) {'starts' if offset == start else 'ends'} at offset {offset}, inside the "
                f"character “{text[first:last]}” "
                f"(offsets {first} to {last}), which would split it. Select whole characters.",
                code="splits_cluster",
            )


def span_state(span: Span) -> dict:
    return {
        "label": span.label.name,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "attributes": span.attributes,
    }


def _locked(annotation: Annotation, expected_version: int | None) -> Annotation:
    """The annotation, locked for this transaction, if it is still at the version the caller saw."""
    annotation_lock(annotation=annotation)
    _check_version(annotation, expected_version)
    return annotation


def _check_version(annotation: Annotation, expected_version: int | None) -> None:
    if expected_version is not None and annotation.version != expected_version:
        raise StaleVersion(annotation)


def _record(annotation, actor, action, subject, subject_id=None, before=None, after=None, reason="") -> None:
    Change.objects.create(
        annotation=annotation,
        actor=actor,
        action=action,
        subject=subject,
        subject_id=subject_id,
        before=before,
        after=after,
        reason=reason,
    )
    Annotation.objects.filter(pk=annotation.pk).update(version=F("version") + 1, updated_at=timezone.now())
    annotation.version += 1


@transaction.atomic
def span_add(
    *,
    annotation: Annotation,
    actor: AbstractBaseUser,
    label: SpanLabel,
    start: int,
    end: int,
    text: str,
    attributes: dict | None = None,
    client_id: uuid.UUID | None = None,
    expected_version: int | None = None,
    reason: str = "",
    action: str = Change.Action.CREATE,
    suggested_by: str | None = None,
) -> Span:
    """Save a span once: a retried request with the same `client_id` returns the first span.

    `suggested_by`: the suggester whose suggestion this span accepts (its provenance)."""
    refuse_control_characters(reason, what="The reason")
    article = annotation.article
    if label.project_id != article.project_id:
        raise ValidationError("That label belongs to another project.", code="wrong_project")
    span_check_offsets(article=article, start=start, end=end, text=text)
    client_id = client_id or uuid.uuid4()
    annotation_lock(annotation=annotation)
    # Looked for once locked, so a retry that arrived while the first request held the lock finds
    # its span; and before the version check, so a retry is answered with its span at any version.
    # In the same query, for an analyst: the same span already there under another change id (a
    # label key pressed twice on one selection, the same highlight from two tabs) is answered with
    # that span. Gold is left to the review services, which say which decision made each span.
    same = Q(client_id=client_id)
    if annotation.kind == Annotation.Kind.ANALYST:
        same |= Q(label=label, start=start, end=end)
    found = list(annotation.spans.filter(same)[:2])
    existing = next((s for s in found if s.client_id == client_id), None)
    if existing is not None:
        return _same_span_or_conflict(existing, label=label, start=start, end=end)
    _refuse_if_reviewed(annotation)
    if found:
        return found[0]
    _check_version(annotation, expected_version)
    span = Span.objects.create(
        annotation=annotation,
        label=label,
        start=start,
        end=end,
        text=text,
        attributes=span_attributes_clean(label=label, attributes=attributes or {}),
        client_id=client_id,
        suggested_by=suggested_by,
    )
    _record(annotation, actor, action, "span", span.id, after=span_state(span), reason=reason)
    return span


@transaction.atomic
def span_create(
    *, article: Article, annotator: AbstractBaseUser, label: SpanLabel, start: int, end: int, text: str,
    client_id: uuid.UUID,
) -> Span:
    """An analyst highlights text in their own annotation of the article (made with the first span)."""
    annotation = annotation_get_or_create(article=article, annotator=annotator)
    return span_add(
        annotation=annotation, actor=annotator, label=label, start=start, end=end, text=text, client_id=client_id
    )


@transaction.atomic
def span_restore(
    *,
    annotation: Annotation,
    actor: AbstractBaseUser,
    label: SpanLabel,
    start: int,
    end: int,
    text: str,
    attributes: dict | None,
    client_id: uuid.UUID,
    links: list[tuple[RelationType, Span, bool]],
) -> Span:
    """Undo a span's deletion: the span again (`span_add`: sent twice, saved once) with its links,
    in one transaction. `links` are (type, the other span, whether the restored span is the
    source): the links the span had whose other span is still there."""
    span = span_add(annotation=annotation, actor=actor, label=label, start=start, end=end, text=text,
                    attributes=attributes, client_id=client_id)
    for relation_type, other, outgoing in links:
        # The caller's locked copy, whose version each change moves on (as the page's answer reads it).
        span.annotation = other.annotation = annotation
        source, target = (span, other) if outgoing else (other, span)
        relation_create(relation_type=relation_type, source=source, target=target, actor=actor)
    return span


def _same_span_or_conflict(span: Span, *, label: SpanLabel, start: int, end: int) -> Span:
    if (span.label_id, span.start, span.end) != (label.id, start, end):
        raise ValidationError("This change id was already used for a different span.", code="client_id_reused")
    return span


@transaction.atomic
def span_update(
    *,
    span: Span,
    label: SpanLabel,
    attributes: dict[str, str],
    actor: AbstractBaseUser | None = None,
    expected_version: int | None = None,
    reason: str = "",
    seen: str | None = None,
) -> Span:
    """Change a span's label and attributes; with `seen`, only if it is as the caller's page showed it."""
    refuse_control_characters(reason, what="The reason")
    annotation = _locked(span.annotation, expected_version)
    _refuse_if_reviewed(annotation)
    if label.project_id != annotation.article.project_id:
        raise ValidationError("That label belongs to another project.", code="wrong_project")
    _refreshed(span)
    before = span_state(span)
    attributes = span_attributes_clean(label=label, attributes=attributes)
    if attributes:
        # An attribute that a link of the span gives (a quote's `speaker` link, its `speaker`) is not typed again.
        linked = Relation.objects.filter(source=span, type__name__in=list(attributes))
        for name in set(linked.values_list("type__name", flat=True)):
            del attributes[name]
    after = before | {"label": label.name, "attributes": attributes}
    _check_seen(before, seen, after=after)
    if label.id != span.label_id:
        # Links that the new label cannot take part in would be invalid: drop them with the change.
        _links_remove(
            annotation,
            Relation.objects.filter(source=span).exclude(type__source_label=label)
            | Relation.objects.filter(target=span, type__target_label__isnull=False).exclude(type__target_label=label),
            actor=actor or annotation.annotator, reason=reason,
        )
    span.label = label
    span.attributes = attributes
    span.save(update_fields=["label", "attributes", "updated_at"])
    if after != before:
        _record(annotation, actor or annotation.annotator, Change.Action.UPDATE, "span", span.id, before, after, reason)
    return span


def _refreshed(span: Span) -> None:
    """The span as it is now, with its label (which a plain refresh would drop, to read again)."""
    span.refresh_from_db(from_queryset=Span.objects.select_related("label"))


def span_attributes_clean(*, label: SpanLabel, attributes: dict[str, str]) -> dict[str, str]:
    """Keep the label's own attributes, with stance and target values from the project's lists."""
    lists = {SpanAttribute.Kind.STANCE: StanceValue, SpanAttribute.Kind.TARGET: StanceTarget}
    allowed: dict[str, set[str]] = {}  # read only for a kind that has a value to check
    cleaned = {}
    if not any(isinstance(value, str) and value.strip() for value in attributes.values()):
        return cleaned  # nothing to keep: the label's attributes need not be read
    for attribute in label.attributes.all():
        value = (attributes.get(attribute.name) or "").strip()
        if not value:
            continue
        refuse_control_characters(value, what=f"The {attribute.name}")
        if attribute.kind in lists and attribute.kind not in allowed:
            names = lists[attribute.kind].objects.filter(project_id=label.project_id).values_list("name", flat=True)
            allowed[attribute.kind] = set(names)
        if attribute.kind in allowed and value not in allowed[attribute.kind]:
            raise ValidationError(f"“{value}” is not a valid {attribute.name}.", code="bad_attribute")
        cleaned[attribute.name] = value[:500]
    return cleaned


@transaction.atomic
def span_delete(
    *,
    span: Span,
    actor: AbstractBaseUser | None = None,
    expected_version: int | None = None,
    reason: str = "",
    action: str = Change.Action.DELETE,
    seen: str | None = None,
) -> None:
    refuse_control_characters(reason, what="The reason")
    annotation = _locked(span.annotation, expected_version)
    _refuse_if_reviewed(annotation)
    _refreshed(span)
    before = span_state(span)
    _check_seen(before, seen)
    span_id = span.id
    _links_remove(annotation, Relation.objects.filter(Q(source=span) | Q(target=span)),
                  actor=actor or annotation.annotator, reason=reason)
    span.delete()
    _record(annotation, actor or annotation.annotator, action, "span", span_id, before=before, reason=reason)


def _links_remove(annotation: Annotation, relations, *, actor: AbstractBaseUser, reason: str) -> None:
    """Delete `relations` (links a span's deletion or new label ends), each with its own line in the
    history, as a link deleted by itself has. The span's change that ends them moves the version."""
    removed = list(relations.select_related("type", "source", "target"))
    if not removed:
        return
    Change.objects.bulk_create(
        Change(annotation=annotation, actor=actor, action=Change.Action.DELETE, subject="relation",
               subject_id=relation.id, before=relation_state(relation), reason=reason)
        for relation in removed
    )
    Relation.objects.filter(pk__in=[relation.id for relation in removed]).delete()


@transaction.atomic
def relation_create(
    *,
    relation_type: RelationType,
    source: Span,
    target: Span,
    actor: AbstractBaseUser | None = None,
    expected_version: int | None = None,
    reason: str = "",
    action: str = Change.Action.CREATE,
) -> Relation:
    """Link two spans of one annotation; a link that enters an attribute of the source (a
    `speaker` link, a `speaker` attribute) clears that attribute, so it is said once."""
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
    annotation = _locked(source.annotation, expected_version)
    _refuse_if_reviewed(annotation)
    relation, created = Relation.objects.get_or_create(
        annotation=annotation, type=relation_type, source=source, target=target
    )
    if created:
        actor = actor or annotation.annotator
        _record(annotation, actor, action, "relation", relation.id, after=relation_state(relation), reason=reason)
        _clear_linked_attribute(annotation, actor, source, relation)
    return relation


def _clear_linked_attribute(annotation: Annotation, actor: AbstractBaseUser, span: Span, relation: Relation) -> None:
    _refreshed(span)
    name = relation.type.name
    if name not in span.attributes:
        return
    before = span_state(span)
    span.attributes = {key: value for key, value in span.attributes.items() if key != name}
    span.save(update_fields=["attributes", "updated_at"])
    _record(
        annotation, actor, Change.Action.UPDATE, "span", span.id, before, span_state(span),
        f"The {name} is the linked span “{relation.target.text[:80]}”: the free-text {name} "
        f"“{before['attributes'][name][:80]}” was removed.",
    )


def relation_state(relation: Relation) -> dict:
    # The spans' text too, so the history can say what was linked after the spans are gone.
    return {
        "type": relation.type.name,
        "source": relation.source_id,
        "target": relation.target_id,
        "source_text": relation.source.text,
        "target_text": relation.target.text,
    }


@transaction.atomic
def relation_delete(
    *, relation: Relation, actor: AbstractBaseUser | None = None, expected_version: int | None = None,
    reason: str = "",
) -> None:
    annotation = _locked(relation.annotation, expected_version)
    _refuse_if_reviewed(annotation)
    before = relation_state(relation)
    relation_id = relation.id
    relation.delete()
    _record(annotation, actor or annotation.annotator, Change.Action.DELETE, "relation", relation_id, before=before,
            reason=reason)


def labels_state(annotation: Annotation) -> dict:
    return {
        "topics": sorted(annotation.topics.values_list("name", flat=True)),
        "stance": dict(annotation.stances.values_list("target__name", "value__name")),
    }


@transaction.atomic
def document_labels_set(
    *,
    annotation: Annotation,
    topic_ids: list[int],
    stances: dict[int, int | None],
    actor: AbstractBaseUser | None = None,
    expected_version: int | None = None,
    reason: str = "",
    seen: str | None = None,
) -> Annotation:
    """Replace the annotator's topics and their stance toward each target."""
    refuse_control_characters(reason, what="The reason")
    locked = _locked(annotation, expected_version)
    _refuse_if_reviewed(locked)
    project_id = annotation.article.project_id
    topics = list(Topic.objects.filter(project_id=project_id, id__in=topic_ids))
    if len(topics) != len(set(topic_ids)):
        raise ValidationError("Unknown topic.", code="bad_topic")
    targets = {t.id: t for t in StanceTarget.objects.filter(project_id=project_id, id__in=stances.keys())}
    values = {v.id: v for v in StanceValue.objects.filter(project_id=project_id)}
    if len(targets) != len(stances) or any(v is not None and v not in values for v in stances.values()):
        raise ValidationError("Unknown stance target or value.", code="bad_stance")
    before = labels_state(locked)
    locked.topics.set(topics)
    for target_id, value_id in stances.items():
        if value_id is None:
            locked.stances.filter(target_id=target_id).delete()
        else:
            Stance.objects.update_or_create(
                annotation=locked, target=targets[target_id], defaults={"value": values[value_id]}
            )
    after = labels_state(locked)
    # Checked once the result is known: raising here undoes the writes above with the transaction.
    _check_seen(before, seen, after=after)
    if after != before:
        _record(locked, actor or locked.annotator, Change.Action.UPDATE, "labels", None, before, after, reason)
    return locked


@transaction.atomic
def analyst_labels_set(
    *, article: Article, annotator: AbstractBaseUser, topic_ids: list[int], stances: dict[int, int | None],
    seen: str | None = None,
) -> Annotation:
    """An analyst sets topics and stance on their own annotation (made with the first change)."""
    annotation = annotation_get_or_create(article=article, annotator=annotator)
    return document_labels_set(annotation=annotation, topic_ids=topic_ids, stances=stances, actor=annotator, seen=seen)


@transaction.atomic
def annotation_submit(*, annotation: Annotation, actor: AbstractBaseUser | None = None) -> Annotation:
    return _set_status(annotation, Annotation.Status.SUBMITTED, actor=actor)


@transaction.atomic
def annotation_skip(*, annotation: Annotation, reason: str, actor: AbstractBaseUser | None = None) -> Annotation:
    if not reason.strip():
        raise ValidationError("Say why you skip this article.", code="reason_required")
    refuse_control_characters(reason, what="The reason")
    return _set_status(annotation, Annotation.Status.SKIPPED, actor=actor, reason=reason.strip()[:500])


def _set_status(annotation: Annotation, status: str, *, actor=None, reason: str = "") -> Annotation:
    locked = _locked(annotation, None)
    _refuse_if_reviewed(locked)
    before = {"status": locked.status}
    locked.status = status
    locked.skip_reason = reason if status == Annotation.Status.SKIPPED else ""
    locked.submitted_at = timezone.now() if status == Annotation.Status.SUBMITTED else locked.submitted_at
    locked.save(update_fields=["status", "skip_reason", "submitted_at", "updated_at"])
    action = Change.Action.SUBMIT if status == Annotation.Status.SUBMITTED else Change.Action.SKIP
    _record(locked, actor or locked.annotator, action, "annotation", locked.id, before, {"status": status}, reason)
    return locked
