"""The Django admin is where an admin fixes data and edits the label schema: every model has a
working page, and the forms keep the invariants the labelling page keeps."""

import pytest
from django.contrib import admin
from django.urls import reverse

from annotator.api.services import token_create
from annotator.corpus.models import ImportJob
from annotator.datasets.kept import keep_tokens
from annotator.datasets.kept_sketches import KeptSketches
from annotator.datasets.splits import NearDuplicates
from annotator.datasets.models import Snapshot, SnapshotFile, SnapshotShard
from annotator.labelling.models import Annotation, Relation, Span, Stance
from annotator.labelling.services import annotation_submit
from annotator.projects.models import SpanLabel, StanceTarget, StanceValue, Topic
from annotator.suggestions.models import SuggesterSettings, SuggestionDecision
from annotator.suggestions.services import suggestions_compute
from annotator.training.models import ArticleCertainty, ModelVersion, TrainingSettings
from tests.factories import ArticleFactory, UserFactory, make_project


@pytest.fixture
def superuser(db):
    user = UserFactory(username="root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def labelled(project, analyst):
    """One annotation with a span of each of two labels, a relation between them and a stance."""
    article = ArticleFactory(project=project, text="Lavrov said “the West is trying”.\nمرحبا بالعالم")
    annotation = Annotation.objects.create(article=article, annotator=analyst)
    quote_label = project.span_labels.get(name="Quote")
    source_label = project.span_labels.get(name="Source")
    quote = Span.objects.create(annotation=annotation, label=quote_label, start=12, end=32, text=article.text[12:32])
    source = Span.objects.create(annotation=annotation, label=source_label, start=0, end=6, text="Lavrov")
    Relation.objects.create(
        annotation=annotation, type=project.relation_types.get(name="speaker"), source=quote, target=source
    )
    Stance.objects.create(
        annotation=annotation, target=project.stance_targets.first(), value=project.stance_values.first()
    )
    annotation.topics.add(project.topics.first())
    annotation_submit(annotation=annotation)  # leaves a Change in the history
    snapshot = Snapshot.objects.create(project=project, created_by=analyst, parameters={})
    SnapshotFile.objects.create(
        snapshot=snapshot, name="README.md", format="card", size=0, sha256="0" * 64, path=f"{snapshot.directory}/README.md"
    )
    SnapshotShard.objects.create(snapshot=snapshot, number=1)
    keep_tokens([article.pk])
    with NearDuplicates(0.8, keep=True) as near:
        near.add(article.pk, article.text)
        KeptSketches.save(near.made())
    ImportJob.objects.create(project=project, created_by=analyst)
    token_create(user=analyst, name="crawler")
    suggestions_compute(article=article)
    suggestion = article.suggestions.filter(kind="span").first()
    SuggestionDecision.objects.create(annotation=annotation, suggestion=suggestion, source=suggestion.source,
                                      key=suggestion.key, decision="rejected")
    SuggesterSettings.objects.create(project=project, topics=False)
    ModelVersion.objects.create(project=project, created_by=analyst, status="failed", error="too few reviewed articles")
    ready = ModelVersion.objects.create(project=project, created_by=analyst, status="ready")
    ArticleCertainty.objects.create(article=article, project=project, version=ready, margin=0.25)
    TrainingSettings.objects.create(project=project, retrain_every=10, prefer_uncertain=True)
    return annotation


def admin_url(model, action, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_every_annotator_model_is_registered():
    from django.apps import apps

    models = [m for m in apps.get_models() if m.__module__.startswith("annotator.")]
    assert models
    assert [m for m in models if m not in admin.site._registry] == []


def test_every_model_has_working_list_and_change_pages(staff_client, labelled):
    checked = 0
    for model in admin.site._registry:
        if not model.__module__.startswith("annotator."):
            continue
        response = staff_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        instance = model.objects.first()
        assert instance is not None, f"the fixture should make a {model.__name__}"
        response = staff_client.get(admin_url(model, "change", instance.pk))
        assert response.status_code == 200, model
        checked += 1
    assert checked >= 19


def test_project_page_edits_the_schema(staff_client, project):
    response = staff_client.get(admin_url(type(project), "change", project.pk))

    content = response.content.decode()
    for inline in ["memberships", "span_labels", "topics", "stance_values", "stance_targets", "relation_types"]:
        assert f'id="{inline}-group"' in content, inline
    assert "Iran nuclear deal (JCPOA)" in content


def test_relation_type_choices_stay_inside_the_project(staff_client, project):
    other = make_project(name="Other project")
    other.span_labels.filter(name="Claim").update(name="Other claim")

    response = staff_client.get(admin_url(type(project), "change", project.pk))

    choices = response.context["inline_admin_formsets"][-1].formset.forms[0].fields["source_label"].queryset
    assert set(choices) == set(project.span_labels.all())


def test_article_text_is_read_only_and_articles_are_not_added_here(staff_client, article):
    assert staff_client.get(admin_url(type(article), "add")).status_code == 403
    original = article.text

    response = staff_client.post(
        admin_url(type(article), "change", article.pk),
        {"title": "Corrected title", "text": "Something else", "sha256": "0" * 64, "language": "en", "metadata": "{}"},
    )

    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Corrected title"
    assert article.text == original


def span_post(span, **changes):
    data = {
        "annotation": span.annotation_id,
        "label": span.label_id,
        "start": span.start,
        "end": span.end,
        "text": span.text,
        "attributes": "{}",
        "client_id": str(span.client_id),
    }
    data.update(changes)
    return data


def test_span_form_refuses_text_that_is_not_at_the_offsets(staff_client, labelled):
    span = labelled.spans.get(text="Lavrov")

    response = staff_client.post(admin_url(Span, "change", span.pk), span_post(span, end=5, text="Lavro "))

    assert response.status_code == 200
    assert "The article text at [0, 5) is" in response.content.decode()
    span.refresh_from_db()
    assert (span.start, span.end, span.text) == (0, 6, "Lavrov")


def test_span_form_accepts_offsets_that_match_and_keeps_line_breaks(staff_client, labelled):
    span = labelled.spans.get(text="Lavrov")
    text = labelled.article.text
    start = text.index("”.") + 1

    response = staff_client.post(
        admin_url(Span, "change", span.pk), span_post(span, start=start, end=start + 6, text=".\r\nمرحب")
    )

    assert response.status_code == 302
    span.refresh_from_db()
    assert span.text == ".\nمرحب" == text[span.start : span.end]


def test_span_form_refuses_a_label_of_another_project(staff_client, labelled):
    span = labelled.spans.get(text="Lavrov")
    foreign = make_project(name="Other project").span_labels.get(name="Source")

    response = staff_client.post(admin_url(Span, "change", span.pk), span_post(span, label=foreign.pk))

    assert response.status_code == 200
    assert "This label belongs to another project." in response.content.decode()


def test_annotation_page_offers_only_its_projects_schema(staff_client, labelled):
    other = make_project(name="Other project")
    assert SpanLabel.objects.count() == 2 * other.span_labels.count()

    response = staff_client.get(admin_url(Annotation, "change", labelled.pk))

    project = labelled.article.project
    assert set(response.context["adminform"].form.fields["topics"].queryset) == set(Topic.objects.filter(project=project))
    span_forms, _, stance_forms = (formset.formset for formset in response.context["inline_admin_formsets"])
    assert set(span_forms.forms[0].fields["label"].queryset) == set(project.span_labels.all())
    assert set(stance_forms.forms[0].fields["target"].queryset) == set(StanceTarget.objects.filter(project=project))
    assert set(stance_forms.forms[0].fields["value"].queryset) == set(StanceValue.objects.filter(project=project))
