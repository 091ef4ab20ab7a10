from django.contrib import admin

from annotator.forms import TextChecked

from .models import SuggesterSettings, Suggestion, SuggestionDecision
from .services import SWITCHES, suggester_settings_update


class SuggesterSettingsInline(admin.StackedInline):
    """On the project's page, beside the topics whose keywords the topic suggester reads."""

    form = TextChecked
    model = SuggesterSettings
    can_delete = False
    max_num = 1
    extra = 1
    verbose_name = verbose_name_plural = "Suggesters (all on unless turned off here; off for an agreement study)"


@admin.register(SuggesterSettings)
class SuggesterSettingsAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["project", "quotes", "speakers", "topics"]
    list_select_related = ["project"]

    def save_model(self, request, obj, form, change):
        # Through the service the API uses: the articles' suggestions are computed again if a switch changed.
        suggester_settings_update(project=obj.project, **{switch: getattr(obj, switch) for switch in SWITCHES})


class ComputedAdmin(admin.ModelAdmin):
    """Written by the suggesters and the labelling page only: here to be looked at, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Suggestion)
class SuggestionAdmin(ComputedAdmin):
    list_display = ["key", "source", "kind", "text", "score", "article"]
    list_filter = ["source", "kind", "article__project"]
    search_fields = ["text", "key"]
    list_select_related = ["article"]
    raw_id_fields = ["article", "from_span", "to_span"]


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(ComputedAdmin):
    list_display = ["key", "source", "decision", "annotation", "created_at"]
    list_filter = ["decision", "source"]
    list_select_related = ["annotation__annotator", "annotation__article"]
    raw_id_fields = ["annotation", "suggestion", "span"]
