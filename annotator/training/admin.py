from django.contrib import admin

from annotator.admin import ReadOnlyAdmin
from annotator.forms import TextChecked

from .models import ArticleCertainty, ModelVersion, TrainingSettings


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "project", "status", "created_by", "created_at", "gold_count", "train_count", "test_count"]
    list_filter = ["status", "project"]
    list_select_related = ["project", "created_by"]
    readonly_fields = [
        "project", "created_by", "status", "error", "created_at", "started_at", "finished_at", "heartbeat_at",
        "progress_done", "progress_total", "gold_count", "gold_hash", "seed", "train_count", "test_count",
        "scores", "curve", "artifact",
    ]


@admin.register(ArticleCertainty)
class ArticleCertaintyAdmin(ReadOnlyAdmin):
    """Written by the worker with the model's suggestions; read by "Label next article: least sure first"."""

    list_display = ["article", "project", "version", "margin"]
    list_filter = ["project"]
    list_select_related = ["article", "project"]
    readonly_fields = ["article", "project", "version", "margin"]


@admin.register(TrainingSettings)
class TrainingSettingsAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["project", "retrain_every", "prefer_uncertain"]
    list_select_related = ["project"]


class TrainingSettingsInline(admin.StackedInline):
    """On the project's page, beside the suggesters' switches."""

    form = TextChecked
    model = TrainingSettings
    can_delete = False
    max_num = 1
    extra = 1
    verbose_name = verbose_name_plural = "Training and the queue"
