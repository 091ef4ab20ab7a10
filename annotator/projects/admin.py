"""The label schema is edited here: a project page holds its members and every schema list."""

from django.contrib import admin

from annotator.forms import TextChecked
from annotator.suggestions.admin import SuggesterSettingsInline
from annotator.training.admin import TrainingSettingsInline
from annotator.suggestions.tasks import suggestions_enqueue_project

from .models import Membership, Project, RelationType, SpanAttribute, SpanLabel, StanceTarget, StanceValue, Topic


def project_id_being_edited(request) -> str | None:
    """The project whose change page this is, so inline choices can stay inside it."""
    match = request.resolver_match
    return match.kwargs.get("object_id") if match else None


class MembershipInline(admin.TabularInline):
    form = TextChecked
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class SpanLabelInline(admin.TabularInline):
    form = TextChecked
    model = SpanLabel
    extra = 0
    fields = ["name", "colour", "hotkey", "order"]
    show_change_link = True  # its attributes are edited on the label's own page


class RelationTypeInline(admin.TabularInline):
    form = TextChecked
    model = RelationType
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in {"source_label", "target_label"}:
            kwargs["queryset"] = SpanLabel.objects.filter(project_id=project_id_being_edited(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TopicInline(admin.TabularInline):
    form = TextChecked
    model = Topic
    extra = 0


class StanceValueInline(admin.TabularInline):
    form = TextChecked
    model = StanceValue
    extra = 0


class StanceTargetInline(admin.TabularInline):
    form = TextChecked
    model = StanceTarget
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["name", "license", "created_at"]
    list_filter = ["license"]
    search_fields = ["name", "description"]
    inlines = [
        MembershipInline, SpanLabelInline, TopicInline, SuggesterSettingsInline, TrainingSettingsInline, StanceValueInline, StanceTargetInline,
        RelationTypeInline,
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Topics (their keywords) or the suggesters changed: the articles' suggestions are
        # computed again by the worker.
        suggesting = [f for f in formsets if f.model in (Topic, SuggesterSettingsInline.model)]
        if any(f.has_changed() for f in suggesting):
            suggestions_enqueue_project(form.instance.pk)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["user", "project", "role"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    list_select_related = ["user", "project"]
    autocomplete_fields = ["user", "project"]


class SpanAttributeInline(admin.TabularInline):
    form = TextChecked
    model = SpanAttribute
    extra = 0


@admin.register(SpanLabel)
class SpanLabelAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["name", "project", "colour", "hotkey", "order"]
    list_filter = ["project"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]
    inlines = [SpanAttributeInline]


@admin.register(SpanAttribute)
class SpanAttributeAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["name", "label", "kind", "order", "project"]
    list_filter = ["kind", "label__project"]
    search_fields = ["name", "label__name"]
    list_select_related = ["label__project"]

    @admin.display(ordering="label__project__name")
    def project(self, attribute):
        return attribute.label.project


@admin.register(RelationType)
class RelationTypeAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["name", "project", "source_label", "target_label"]
    list_filter = ["project"]
    search_fields = ["name"]
    list_select_related = ["project", "source_label", "target_label"]


class ProjectListAdmin(admin.ModelAdmin):
    """Topics, stance values and stance targets: named, ordered lists inside one project."""

    form = TextChecked
    list_display = ["name", "project", "order"]
    list_filter = ["project"]
    search_fields = ["name"]
    list_select_related = ["project"]


@admin.register(Topic)
class TopicAdmin(ProjectListAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "keywords" in form.changed_data or not change:
            suggestions_enqueue_project(obj.project_id)



admin.site.register(StanceValue, ProjectListAdmin)
admin.site.register(StanceTarget, ProjectListAdmin)
