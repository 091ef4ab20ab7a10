from django.contrib import admin

from annotator.forms import TextChecked

from .models import SuggesterSettings


class SuggesterSettingsInline(admin.StackedInline):
    """On the project's page, beside the topics whose keywords the topic suggester reads."""

    form = TextChecked
    model = SuggesterSettings
    can_delete = False
    max_num = 1
    extra = 1
    verbose_name = verbose_name_plural = "Suggesters (all on unless turned off here; off for an agreement study)"
