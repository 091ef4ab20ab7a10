"""Models trained from the project's own reviewed work, one row per training run (issue #15).

A `ModelVersion` is trained by the worker (`tasks.model_train`) from the project's gold
annotations (reviewed articles): a topic classifier and a stance classifier per target. It keeps
what it was trained on (how many gold articles, a hash of their ids, the split seed), its scores
per label on a held-out split and a learning curve. The fitted models are a file under
`ANNOTATOR_MODEL_ROOT`, written only by the worker. A ready version writes `Suggestion` rows as
"model:<id>", as the rules do under their names.
"""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from annotator.projects.models import Project


def model_root() -> Path:
    return Path(getattr(settings, "ANNOTATOR_MODEL_ROOT", Path(settings.BASE_DIR) / "var" / "models"))


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    # Null when the project's "retrain after N reviewed articles" started it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # What it was trained on: the reviewed articles when training started.
    gold_count = models.PositiveIntegerField(default=0)
    gold_hash = models.CharField(max_length=64, blank=True)
    seed = models.PositiveIntegerField(default=0)
    train_count = models.PositiveIntegerField(default=0)
    test_count = models.PositiveIntegerField(default=0)
    # {"topics": [{label, precision, recall, f1, support}], "stance": [{target, labels: [...]}],
    #  "topics_micro_f1": float | None}
    scores = models.JSONField(default=dict, blank=True)
    # [{"size": training articles, "f1": topics' micro F1 on the held-out split}]
    curve = models.JSONField(default=list, blank=True)
    # Relative to model_root().
    artifact = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "ready", "failed"]), name="modelversion_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=F("progress_total")), name="modelversion_progress_le_total"
            ),
            # One training at a time per project: a second start (a click and a review's retrain
            # together) is refused by the database.
            models.UniqueConstraint(
                fields=["project"], condition=Q(status__in=["queued", "running"]), name="modelversion_one_active"
            ),
        ]

    def __str__(self):
        return f"Model {self.pk} of {self.project}"

    @property
    def source(self) -> str:
        return f"model:{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class TrainingSettings(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="training")
    retrain_every = models.PositiveIntegerField(
        "retrain after every N newly reviewed articles", default=0,
        help_text="0: only when someone starts it. Otherwise a new model is trained once this many articles "
        "have been reviewed since the last one was trained.",
    )

    prefer_uncertain = models.BooleanField(
        "label next: least sure first", default=False,
        help_text="“Label next article” hands out first the articles the current model is least sure about "
        "(the smallest margin of its topic and stance decisions), then the rest by id.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "training settings"

    def __str__(self):
        return f"Training of {self.project}"


class ArticleCertainty(models.Model):
    """How sure the project's current model is about an article, written by the worker with the
    model's suggestions (`services.model_suggestions_compute`), so that "Label next article" can
    hand out the least sure first in one indexed query.

    `margin` is the smallest, over the model's decisions on the article, of how far it is from
    the other answer: |2p − 1| for each topic (p: the topic's probability), and the first value's
    probability minus the second's for each stance target. 0: a coin toss; 1: certain. An article
    without a row (reviewed, or no model yet) comes after those with one.
    """

    article = models.OneToOneField(
        "corpus.Article", on_delete=models.CASCADE, primary_key=True, related_name="model_certainty"
    )
    # The article's project, again: the queue walks (project, margin, article) in index order and
    # stops at the first article it can claim, whatever the project's size.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    margin = models.FloatField()

    class Meta:
        verbose_name_plural = "article certainties"
        indexes = [models.Index(fields=["project", "margin", "article"], name="articlecertainty_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(margin__gte=0) & Q(margin__lte=1), name="articlecertainty_margin_range"),
        ]

    def __str__(self):
        return f"Model {self.version_id} on article {self.article_id}: margin {self.margin:.3f}"
