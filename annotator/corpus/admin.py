from django.contrib import admin

from annotator.forms import TextChecked

from .models import Article


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
