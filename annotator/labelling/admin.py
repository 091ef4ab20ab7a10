"""For fixing data by hand. The forms check what the labelling page checks: a span's text is
exactly the article text its offsets cover, and everything stays inside the article's project."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from annotator.corpus.text import normalise
from annotator.forms import TextChecked
from annotator.projects.models import SpanLabel, StanceTarget, StanceValue, Topic

from .models import Annotation, Change, Relation, Span, Stance
from .services import span_check_clusters


class SpanForm(TextChecked):
    # Whitespace at either end is part of a span; a textarea posts line breaks as \r\n.
    text = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    class Meta:
        model = Span
        fields = ["label", "start", "end", "text", "attributes", "client_id"]

    def clean_text(self):
        return normalise(self.cleaned_data["text"])

    def clean(self):
        data = super().clean()
        annotation = data.get("annotation") or (self.instance.annotation if self.instance.annotation_id else None)
        start, end, text, label = data.get("start"), data.get("end"), data.get("text"), data.get("label")
        if annotation is None or annotation.article_id is None:
            return data
        article = annotation.article
        if label is not None and label.project_id != article.project_id:
            self.add_error("label", "This label belongs to another project.")
        if start is not None and end is not None and text is not None:
            if not start < end <= len(article.text):
                self.add_error("end", f"Offsets must satisfy 0 ≤ start < end ≤ {len(article.text)}.")
            elif article.text[start:end] != text:
                raise ValidationError(f"The article text at [{start}, {end}) is {article.text[start:end]!r}, not {text!r}.")
            else:
                span_check_clusters(text=article.text, start=start, end=end)
        return data


def annotation_being_edited(request) -> Annotation | None:
    match = request.resolver_match
    object_id = match.kwargs.get("object_id") if match else None
    return Annotation.objects.select_related("article").filter(pk=object_id).first() if object_id else None


class ProjectChoicesInline(admin.TabularInline):
    """Offers only the schema of the annotation's own project."""

    form = TextChecked

    project_models = {"label": SpanLabel, "target": StanceTarget, "value": StanceValue}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = self.project_models.get(db_field.name)
        if model is not None and db_field.related_model is model:
            annotation = annotation_being_edited(request)
            kwargs["queryset"] = model.objects.filter(project_id=annotation.article.project_id if annotation else None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SpanInline(ProjectChoicesInline):
    model = Span
    form = SpanForm
    extra = 0


class StanceInline(ProjectChoicesInline):
    model = Stance
    extra = 0


class RelationInline(admin.TabularInline):
    form = TextChecked
    model = Relation
    fk_name = "annotation"
    extra = 0
    raw_id_fields = ["source", "target"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["id", "article", "annotator", "status", "updated_at", "submitted_at"]
    list_filter = ["status", "article__project"]
    search_fields = ["article__title", "annotator__username"]
    list_select_related = ["article", "annotator"]
    raw_id_fields = ["article", "annotator"]
    date_hierarchy = "updated_at"
    inlines = [SpanInline, RelationInline, StanceInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "topics":
            annotation = annotation_being_edited(request)
            kwargs["queryset"] = Topic.objects.filter(project_id=annotation.article.project_id if annotation else None)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    form = SpanForm
    list_display = ["id", "label", "start", "end", "text", "annotation"]
    list_filter = ["label__project", "label__name"]
    search_fields = ["text", "annotation__article__title", "annotation__annotator__username"]
    list_select_related = ["label", "annotation__article", "annotation__annotator"]
    fields = ["annotation", *SpanForm.Meta.fields]
    raw_id_fields = ["annotation"]


@admin.register(Relation)
class RelationAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["id", "type", "source", "target", "annotation"]
    list_filter = ["type__project", "type__name"]
    search_fields = ["source__text", "target__text", "annotation__annotator__username"]
    list_select_related = [
        "type",
        "source__label",
        "target__label",
        "annotation__article",
        "annotation__annotator",
    ]
    raw_id_fields = ["annotation", "source", "target"]


@admin.register(Stance)
class StanceAdmin(admin.ModelAdmin):
    form = TextChecked
    list_display = ["id", "annotation", "target", "value"]
    list_filter = ["target__project", "value__name"]
    list_select_related = ["annotation__article", "annotation__annotator", "target", "value"]
    raw_id_fields = ["annotation"]


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """History is evidence: it can be read and searched here, never edited."""

    list_display = ["created_at", "actor", "action", "subject", "subject_id", "annotation"]
    list_filter = ["action", "subject"]
    list_select_related = ["actor", "annotation"]
    search_fields = ["reason", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
