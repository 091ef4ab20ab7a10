"""Snapshots are made on the export page and never edited: here they can only be looked at.
(Deleting one must remove its folder too; that belongs in a service, not in admin's cascade.)"""

from django.contrib import admin

from annotator.admin import ReadOnlyAdmin

from .models import ArticleSketch, ArticleTokens, Snapshot, SnapshotFile, SnapshotShard


class SnapshotFileInline(admin.TabularInline):
    model = SnapshotFile
    fields = ["name", "format", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "project"]
    readonly_fields = [
        "id", "project", "created_by", "created_at", "finished_at", "status", "error", "progress_done",
        "progress_total", "parameters", "schema", "counts",
    ]
    inlines = [SnapshotFileInline]


@admin.register(SnapshotShard)
class SnapshotShardAdmin(ReadOnlyAdmin):
    """A large snapshot's shard tasks (`build.py`): which are written (their folder), and their heartbeat."""

    list_display = ["snapshot", "number", "folder", "heartbeat_at"]
    readonly_fields = ["snapshot", "number", "folder", "heartbeat_at"]


@admin.register(SnapshotFile)
class SnapshotFileAdmin(ReadOnlyAdmin):
    list_display = ["name", "snapshot", "format", "size", "sha256"]
    list_filter = ["format"]
    readonly_fields = ["snapshot", "name", "format", "size", "sha256", "path"]


@admin.register(ArticleTokens)
class ArticleTokensAdmin(ReadOnlyAdmin):
    """An article's tokens kept for the next snapshot (`kept.py`), and the tokenizer that cut them."""

    list_display = ["article", "tokenizer"]
    fields = readonly_fields = ["article", "tokenizer"]


@admin.register(ArticleSketch)
class ArticleSketchAdmin(ReadOnlyAdmin):
    """An article's near-duplicate sketch kept for the next snapshot (`kept_sketches.py`), and its version."""

    list_display = ["article", "version"]
    fields = readonly_fields = ["article", "version"]
