from django.contrib import admin

from annotator.forms import TextChecked

from .models import Article, ImportJob


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Metadata may be corrected here; the text never is, since every span's offsets point into it."""

    form = TextChecked

    list_display = ["id", "title", "project", "language", "source", "published", "created_at"]
    list_display_links = ["id", "title"]
    list_filter = ["project", "language"]
    search_fields = ["title", "source", "url", "sha256"]
    list_select_related = ["project"]
    readonly_fields = ["project", "text", "sha256", "created_at"]
    fields = ["project", "title", "source", "url", "published", "language", "metadata", "sha256", "created_at", "text"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        # Articles come in through the import, which normalises the text and hashes it.
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Jobs are made by the import page and run by the worker: here they can only be looked at."""

    list_display = ["id", "project", "kind", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["project", "created_by"]
    fields = ["project", "kind", "status", "created_by", "created_at", "started_at", "finished_at", "files",
              "options", "progress_done", "progress_total", "report", "error"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
