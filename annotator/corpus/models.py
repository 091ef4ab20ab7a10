import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from annotator.projects.models import Project


class ArticleQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(project__in=Project.objects.for_user(user))


class Article(models.Model):
    """A news article. Its text is normalised at import and never edited afterwards."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    source = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="article_unique_text"),
            models.CheckConstraint(condition=~Q(text=""), name="article_text_not_empty"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="article_sha256_hex"),
        ]

    def __str__(self):
        return self.title or f"Article {self.pk}"



def import_root() -> Path:
    """Where uploaded batches wait for their job; outside any public URL, removed when the job ends."""
    return Path(getattr(settings, "ANNOTATOR_IMPORT_ROOT", Path(settings.BASE_DIR) / "var" / "imports"))


class ImportJobQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(project__in=Project.objects.for_user(user))


class ImportJob(models.Model):
    """One uploaded batch imported in the background (`jobs.import_job_run`), and its report.

    The uploaded files wait on disk under `import_root()` rather than in the database: a batch
    may be 100 MB, which the database would keep in its write-ahead log and backups long after
    the job removed it. `files` lists them: the name the user gave, and the path (relative to
    the root) they were stored under, a number, so no uploaded name reaches the file system.
    """

    class Kind(models.TextChoices):
        ARTICLES = "articles", "Articles"
        ANNOTATIONS = "annotations", "Labelled files"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing imported"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped every few seconds while a worker runs the job; a running job whose heartbeat
    # stopped lost its worker (see jobs.import_jobs_recover).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ARTICLES)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # [{"name": as uploaded, "path": relative to import_root(), "size": bytes}]
    files = models.JSONField(default=list)
    # A labelled import's options: format, gold_by (a user id), text_key, mapping.
    options = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # What the import did or found: see jobs.py for its shape per kind.
    report = models.JSONField(default=dict, blank=True)
    # Why the job stopped without a report (a crash, its worker lost).
    error = models.TextField(blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="importjob_status_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=["articles", "annotations"]), name="importjob_kind_valid"),
        ]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self):
        return f"Import {self.id} into {self.project}"

    def get_absolute_url(self) -> str:
        return reverse("import_job_detail", args=[self.project_id, self.id])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, 100 * self.progress_done // self.progress_total) if self.progress_total else 0

    @property
    def directory(self) -> str:
        """Where the uploaded files wait, relative to the import root."""
        return f"{self.project_id}/{self.id}"

    @property
    def unlisted(self) -> int:
        """Articles created but not listed by name in the report."""
        return max(0, self.report.get("created", 0) - len(self.report.get("articles", [])))

    @property
    def file_names(self) -> list[str]:
        return [file["name"] for file in self.files]
