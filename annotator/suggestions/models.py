"""What the suggesters propose for an article, and what each analyst decided about it.

A suggester reads an article's text (never anyone's annotations: labelling stays blind) and
writes `Suggestion` rows under its `source` name: the built-in rules are "rules:quotes",
"rules:speakers" and "rules:topics"; a trained model will write the same rows as
"model:<version id>". A suggestion is a span (a label and `[start, end)` in code points, checked
as an analyst's span is), a topic, the article's stance toward a target (a model's only), or a
relation between two span suggestions (a quote and its speaker). Its `key` says what it proposes, so that computing an article's suggestions again
keeps the rows that did not change and an analyst's decision still finds the suggestion it was
about: a rejected suggestion never comes back.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from annotator.corpus.models import Article
from annotator.projects.models import Project, RelationType, SpanLabel, StanceTarget, StanceValue, Topic

QUOTES = "rules:quotes"
SPEAKERS = "rules:speakers"
TOPICS = "rules:topics"
RULES = (QUOTES, SPEAKERS, TOPICS)


class Suggestion(models.Model):
    class Kind(models.TextChoices):
        SPAN = "span", "Span"
        TOPIC = "topic", "Topic"
        RELATION = "relation", "Relation"
        # The article's stance toward a target (a trained model's): `target` and `stance_value`.
        STANCE = "stance", "Stance"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="suggestions", db_index=False)
    source = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # What is proposed, the same whenever the same thing is proposed again ("span:Quote:12:40").
    key = models.CharField(max_length=200)
    label = models.ForeignKey(SpanLabel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target = models.ForeignKey(StanceTarget, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    stance_value = models.ForeignKey(StanceValue, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    relation_type = models.ForeignKey(RelationType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # A relation's two span suggestions: from the quote (`from_span`) to its speaker (`to_span`).
    from_span = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    to_span = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # How sure the suggester is, from 0 to 1.
    score = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "-end", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "source", "key"], name="suggestion_unique_key"),
            models.CheckConstraint(condition=Q(kind__in=["span", "topic", "relation", "stance"]), name="suggestion_kind_valid"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="suggestion_score_range"),
            # A span suggestion has a label and offsets that select its text, as a span has.
            models.CheckConstraint(
                condition=~Q(kind="span")
                | (
                    Q(label__isnull=False, start__isnull=False, end__isnull=False, start__lt=F("end"))
                    & Q(end=F("start") + Length("text"))
                ),
                name="suggestion_span_offsets",
            ),
            models.CheckConstraint(condition=~Q(kind="topic") | Q(topic__isnull=False), name="suggestion_topic_set"),
            models.CheckConstraint(
                condition=~Q(kind="stance") | Q(target__isnull=False, stance_value__isnull=False),
                name="suggestion_stance_set",
            ),
            models.CheckConstraint(
                condition=~Q(kind="relation")
                | Q(relation_type__isnull=False, from_span__isnull=False, to_span__isnull=False),
                name="suggestion_relation_set",
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.key}"


class SuggestionDecision(models.Model):
    """What one analyst did with one suggestion on their annotation of the article.

    Keyed by the suggestion's `source` and `key`, not only its row: the row may be computed
    again (a keyword list changed), and the decision must still hold.
    """

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        # The analyst made a span of the suggested label over part of the same text, other offsets.
        CORRECTED = "corrected", "Corrected"
        REJECTED = "rejected", "Rejected"

    annotation = models.ForeignKey("labelling.Annotation", on_delete=models.CASCADE, related_name="suggestion_decisions")
    suggestion = models.ForeignKey(Suggestion, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")
    source = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # The analyst's span that an accepted or corrected span suggestion became (null once deleted).
    span = models.ForeignKey("labelling.Span", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "source", "key"], name="suggestiondecision_unique"),
            models.CheckConstraint(
                condition=Q(decision__in=["accepted", "corrected", "rejected"]), name="suggestiondecision_valid"
            ),
        ]

    def __str__(self):
        return f"{self.decision} {self.source} {self.key}"


class SuggesterSettings(models.Model):
    """Which suggesters a project uses. Without a row, all of them: an agreement study turns them off."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="suggesters")
    quotes = models.BooleanField("suggest quotes", default=True, help_text="Quotations found by their quotation marks.")
    speakers = models.BooleanField(
        "suggest speakers", default=True,
        help_text="Speakers found by attribution cues (“X said”, “according to X”, “قال X”), with the quote → "
        "speaker link.",
    )
    topics = models.BooleanField("suggest topics", default=True, help_text="Topics found by each topic's keywords.")
    model = models.BooleanField(
        "suggest from the trained model", default=True,
        help_text="Topics, spans, and the article's stance toward each target, proposed by the project's newest ready "
        "model (trained on its Model page).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "suggesters"

    def __str__(self):
        return f"Suggesters of {self.project}"

    @property
    def enabled(self) -> list[str]:
        return [source for source, on in zip(RULES, (self.quotes, self.speakers, self.topics)) if on]


MODEL_PREFIX = "model:"


def enabled_sources(project_id: int) -> list[str]:
    """The rules the project has on, and its ready model versions' sources if the model is on."""
    settings = SuggesterSettings.objects.filter(project_id=project_id).first()
    sources = settings.enabled if settings else list(RULES)
    if settings is None or settings.model:
        from annotator.training.models import ModelVersion  # the training app builds on this one

        ready = ModelVersion.objects.filter(project_id=project_id, status=ModelVersion.Status.READY)
        sources += [f"{MODEL_PREFIX}{pk}" for pk in ready.values_list("pk", flat=True)]
    return sources
