"""One annotator's work on one article: spans, relations, topics, stance and status."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from annotator.corpus.models import Article
from annotator.projects.models import RelationType, SpanLabel, StanceTarget, StanceValue, Topic


class Annotation(models.Model):
    """An annotator's labelling of one article; everything they mark hangs off it.

    An article has one `analyst` annotation per analyst and at most one `gold` annotation: the
    reviewer's adjudicated result, whose `annotator` is the reviewer who last changed it.
    `version` goes up with every change, so a save made from a stale page can be refused.
    """

    class Kind(models.TextChoices):
        ANALYST = "analyst", "Analyst"
        GOLD = "gold", "Gold"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"

    # No index of its own: the (article, kind, status) index leads with it.
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="annotations", db_index=False)
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ANALYST)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    skip_reason = models.CharField(max_length=500, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "annotator"], condition=Q(kind="analyst"), name="annotation_unique_annotator"
            ),
            models.UniqueConstraint(fields=["article"], condition=Q(kind="gold"), name="annotation_one_gold"),
            models.CheckConstraint(condition=Q(kind__in=["analyst", "gold"]), name="annotation_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "submitted", "skipped"]), name="annotation_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["article", "kind", "status"])]

    def __str__(self):
        return f"{self.annotator} on {self.article}"


# Longer than this (in code points), a span is "long" and has an index of its own.
LONG_SPAN = 1000


class Span(models.Model):
    """`[start, end)` in code points of the article text; `text` is what those offsets cover."""

    # No index of its own: the (annotation, start) index and the client id's unique one lead with it.
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="spans", db_index=False)
    # RESTRICT: a label in use cannot be deleted (no orphaned spans), yet a whole project can be.
    label = models.ForeignKey(SpanLabel, on_delete=models.RESTRICT, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()
    attributes = models.JSONField(default=dict, blank=True)
    # Chosen by the browser, so that a retried save never creates a second span.
    client_id = models.UUIDField(default=uuid.uuid4)
    # Only on gold spans: how the reviewer's decision made it, {"decision": "accepted" | "edited" |
    # "added", "from": [analysts' usernames]} (see `review.services`); null on analysts' spans,
    # and on gold that was imported from a file, whose decisions nobody recorded.
    review = models.JSONField(null=True, blank=True)
    # The suggester whose suggestion the analyst accepted (or corrected) into this span, e.g.
    # "rules:quotes" (later "model:<version id>"); null for a span made by hand. Which suggestion
    # it was is on its `suggestions.SuggestionDecision`.
    suggested_by = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "-end", "id"]
        constraints = [
            # With the CHECK (start >= 0) each positive field brings: 0 <= start < end.
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="span_start_before_end"),
            # Both databases count characters (code points) in length(): offsets and text agree.
            models.CheckConstraint(condition=Q(end=F("start") + Length("text")), name="span_text_length_matches"),
            models.UniqueConstraint(fields=["annotation", "client_id"], name="span_unique_client_id"),
        ]
        # Both hold every column that drawing a span takes (`labelling.queries.DRAWN`), so the
        # spans around a change or in a window are read from the index alone: those that start
        # in the LONG_SPAN characters before a stretch (a thousand, on a densely labelled
        # article) are dropped by their end there, not fetched one by one from the table. Key
        # columns, not INCLUDE, which SQLite lacks.
        indexes = [
            models.Index(fields=["annotation", "start", "end", "label", "id"], name="span_drawn"),
            # The few long spans, so that the spans reaching into a stretch of a huge article are
            # two short index reads (those that start at most LONG_SPAN before it, and these), not
            # a read of every span that starts before it (`labelling.queries.spans_in`).
            models.Index(
                fields=["annotation", "start", "end", "label", "id"], condition=Q(end__gt=F("start") + LONG_SPAN),
                name="span_long",
            ),
        ]

    def __str__(self):
        return f"{self.label.name} [{self.start}, {self.end})"


class Relation(models.Model):
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="relations")
    type = models.ForeignKey(RelationType, on_delete=models.RESTRICT, related_name="relations")
    source = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="incoming")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("target")), name="relation_not_to_itself"),
            models.UniqueConstraint(fields=["type", "source", "target"], name="relation_unique"),
        ]

    def __str__(self):
        return f"{self.source} -{self.type.name}-> {self.target}"

    def clean(self):
        # The services check this on every save; model forms (the admin) check it here.
        if not (self.annotation_id and self.source_id and self.target_id and self.type_id):
            return
        if not self.source.annotation_id == self.target.annotation_id == self.annotation_id:
            raise ValidationError("Both spans of a relation must belong to its annotation.")
        if self.type.project_id != self.annotation.article.project_id:
            raise ValidationError("That relation type belongs to another project.")


class Stance(models.Model):
    """The article's stance toward one target, as one annotator reads it."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="stances")
    target = models.ForeignKey(StanceTarget, on_delete=models.RESTRICT, related_name="+")
    value = models.ForeignKey(StanceValue, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        ordering = ["target__order", "target_id"]
        constraints = [models.UniqueConstraint(fields=["annotation", "target"], name="stance_unique_target")]

    def __str__(self):
        return f"{self.target}: {self.value}"

    def clean(self):
        if not (self.annotation_id and self.target_id and self.value_id):
            return
        project_id = self.annotation.article.project_id
        if not self.target.project_id == self.value.project_id == project_id:
            raise ValidationError("The stance target and value must be the article's project's own.")


class Change(models.Model):
    """One change to an annotation, kept forever: who, when, what it was before and after.

    Written by the services in `labelling.services` (and review's), never by views, so every
    way of changing an annotation leaves its trace.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Edited"
        DELETE = "delete", "Deleted"
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"
        SUBMIT = "submit", "Submitted"
        SKIP = "skip", "Skipped"
        IMPORT = "import", "Imported"  # a whole annotation, from a file (`datasets.imports`)

    # No index of its own: the (annotation, created_at) index leads with it.
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="changes", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    # What changed: "span", "relation", "labels" (topics and stance) or "annotation".
    subject = models.CharField(max_length=16)
    subject_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["annotation", "created_at"])]

    def __str__(self):
        return f"{self.actor} {self.action} {self.subject} {self.subject_id or ''}".strip()
