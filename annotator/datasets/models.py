"""Dataset snapshots: a frozen, versioned export of a project's labels, and its files.

A snapshot is asked for on the export page and built in the background (`services.snapshot_build`).
Its files live under `ANNOTATOR_SNAPSHOT_ROOT` (default `BASE_DIR/var/snapshots`), outside any
public URL: they are served only by the permission-checked download view. A snapshot is `ready`
only once every file is written, renamed from its temporary name and hashed, and its rows are
saved in the same transaction that sets the status.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q

from annotator.corpus.models import Article
from annotator.projects.models import Project

# Only these characters reach a path on disk or a Content-Disposition header; a name may be in
# folders (a shipped tokenizer: `tokenizer/ar/config.cfg`), each part starting with a letter or
# digit, so never `..` nor an absolute path.
FILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,3}$"


def snapshot_root() -> Path:
    return Path(getattr(settings, "ANNOTATOR_SNAPSHOT_ROOT", Path(settings.BASE_DIR) / "var" / "snapshots"))


def snapshot_storage() -> FileSystemStorage:
    # No base_url: nothing under this folder has a public address.
    return FileSystemStorage(location=snapshot_root(), base_url=None)


class SnapshotQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(project__in=Project.objects.for_user(user))


class Snapshot(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="snapshots")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Stamped every few seconds while a worker builds the snapshot; a running snapshot whose
    # heartbeat stopped lost its worker (see recovery.py).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # What was asked for: scope, filters, formats, split ratios and seed (see forms.SnapshotForm).
    parameters = models.JSONField(default=dict)
    # The label schema the files were written with: labels, attributes, relations, topics, stance.
    schema = models.JSONField(default=dict, blank=True)
    # Articles, examples, labels, topics and stance per split; near-duplicate groups; alignment losses.
    counts = models.JSONField(default=dict, blank=True)

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "ready", "failed"]), name="snapshot_status_valid"
            ),
            models.CheckConstraint(condition=Q(progress_done__lte=F("progress_total")), name="snapshot_progress_le_total"),
        ]
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self):
        return f"Snapshot {self.id} of {self.project}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.READY:
            return 100
        return (100 * self.progress_done // self.progress_total) if self.progress_total else 0

    @property
    def directory(self) -> str:
        """Where the files are, relative to the snapshot root."""
        return f"{self.project_id}/{self.id}"


class SnapshotFile(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=100)
    format = models.CharField(max_length=20)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Relative to the snapshot root; never a URL.
    path = models.CharField(max_length=300)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "name"], name="snapshotfile_unique_name"),
            models.CheckConstraint(condition=Q(name__regex=FILE_NAME_PATTERN), name="snapshotfile_name_safe"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="snapshotfile_sha256_hex"),
        ]

    def __str__(self):
        return self.name


class SnapshotShard(models.Model):
    """One shard of a snapshot (see build.py): a range of its candidate articles, whose records
    a shard task selects, then, once every shard's are selected and split, writes in every format.
    Selected once `selected` (the folder of its spooled records, in the snapshot's folder) is set:
    the task that sets the last one splits them all. Done once `folder` (where its part of the
    files is) is set: the task that sets the last one joins the parts."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    selected = models.CharField(max_length=100, blank=True, db_default="")  # old workers insert rows without it
    folder = models.CharField(max_length=100, blank=True)
    # Stamped every few seconds while a task selects or writes this shard: one whose heartbeat stopped lost
    # its worker and is put back in the queue (recovery.py), while other shards go on.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "number"], name="snapshotshard_unique_number")]

    def __str__(self):
        return f"Shard {self.number} of {self.snapshot_id}"


class ArticleTokens(models.Model):
    """An article's tokens as a snapshot's tokenizer cut its text, kept for the next snapshot
    (`kept`): its text never changes, so they are the same while the tokenizer is.

    No foreign key constraint in the database (a cache): a snapshot keeping an article's tokens
    while the article is deleted must fail neither the deletion nor the snapshot. Deleting an
    article deletes its row (Django's cascade); one kept in that very moment stays, unread.
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    tokenizer = models.CharField(max_length=64)  # the tokenizer that cut them: `kept.tokenizer_name`
    tokens = models.BinaryField()  # `formats.tokens.Tokens.keep()`


class ArticleSketch(models.Model):
    """An article's near-duplicate sketch (`splits`: its MinHash signature and containment
    samples) as a snapshot's select made it, kept for the next (`kept_sketches`): its text never
    changes, so the sketch is the same while `splits.SKETCH_VERSION` is. A cache, like
    `ArticleTokens`, and with no foreign key constraint for the same reason."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    version = models.CharField(max_length=64)  # `splits.SKETCH_VERSION` of the sketch
    sketch = models.BinaryField()  # see `splits.article_sketches`
