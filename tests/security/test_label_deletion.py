"""A label in use is never deleted out from under its spans; renaming it keeps them."""

import json
import re
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from annotator.labelling import services
from annotator.labelling.models import Span
from annotator.projects.models import SpanLabel
from tests.factories import ArticleFactory, UserFactory

from .admin_forms import admin_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(project):
    # No relation type refers to this label, so only its spans can hold it back.
    return SpanLabel.objects.create(project=project, name="Evidence", colour="#8c564b", hotkey="e", order=5)


@pytest.fixture
def span(project, analyst, evidence):
    article = ArticleFactory(project=project, text="Lavrov said the talks would go on.")
    return services.span_create(
        article=article, annotator=analyst, label=evidence, start=0, end=6, text="Lavrov", client_id=uuid.uuid4()
    )


@pytest.fixture
def staff(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def text_of(html):
    return re.sub(r"<[^>]+>", "", html)


def exported_labels(client, project):
    response = client.get(reverse("export_jsonl", args=[project.id]))
    assert response.status_code == 200
    records = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    return [s["label"] for r in records for a in r["annotations"] for s in a["spans"]]


class TestDeletingALabelInUse:
    def test_the_database_refuses(self, span, evidence):
        with pytest.raises(IntegrityError), transaction.atomic():
            evidence.delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            SpanLabel.objects.filter(pk=evidence.pk).delete()
        assert Span.objects.filter(pk=span.pk, label=evidence).exists()

    def test_the_admin_delete_page_says_why_and_deletes_nothing(self, staff, span, evidence):
        url = reverse("admin:projects_spanlabel_delete", args=[evidence.pk])

        page = staff.get(url).content.decode()

        assert "Cannot delete span label" in page
        assert (
            "Deleting the span label “Evidence” would require deleting the following protected related objects:"
        ) in page
        assert "Span: Evidence [0, 6)" in text_of(page)
        assert "Yes, I’m sure" not in page

        response = staff.post(url, {"post": "yes"})

        assert response.status_code == 200
        assert "Cannot delete span label" in response.content.decode()
        assert SpanLabel.objects.filter(pk=evidence.pk).exists()
        assert Span.objects.filter(pk=span.pk, label=evidence).exists()

    def test_the_delete_selected_action_says_why_and_deletes_nothing(self, staff, span, evidence):
        response = staff.post(reverse("admin:projects_spanlabel_changelist"), {
            "action": "delete_selected", "_selected_action": [evidence.pk], "post": "yes",
        })

        assert response.status_code == 200
        page = response.content.decode()
        assert "Cannot delete span label" in page
        assert "would require deleting the following protected related objects" in page
        assert "Span: Evidence [0, 6)" in text_of(page)
        assert SpanLabel.objects.filter(pk=evidence.pk).exists()
        assert Span.objects.filter(pk=span.pk).exists()

    def test_the_project_page_refuses_to_delete_it_from_the_schema(self, staff, project, span, evidence):
        url = reverse("admin:projects_project_change", args=[project.pk])
        data = admin_form(staff, url, "project")
        [index] = [
            key.split("-")[1] for key, value in data.items()
            if key.startswith("span_labels-") and key.endswith("-id") and value == [str(evidence.pk)]
        ]
        data[f"span_labels-{index}-DELETE"] = ["on"]

        response = staff.post(url, data)

        assert response.status_code == 200
        assert (
            "Deleting span label Evidence would require deleting the following protected related objects: "
            "span Evidence [0, 6)"
        ) in response.content.decode()
        assert SpanLabel.objects.filter(pk=evidence.pk).exists()
        assert Span.objects.filter(pk=span.pk, label=evidence).exists()

    def test_a_label_no_span_uses_can_be_deleted(self, staff, evidence):
        response = staff.post(reverse("admin:projects_spanlabel_delete", args=[evidence.pk]), {"post": "yes"})

        assert response.status_code == 302
        assert not SpanLabel.objects.filter(pk=evidence.pk).exists()


class TestRenamingALabel:
    def test_spans_keep_it_and_the_export_shows_the_new_name(
        self, staff, client, project, admin_user, analyst, span, evidence
    ):
        url = reverse("admin:projects_spanlabel_change", args=[evidence.pk])
        data = admin_form(staff, url, "spanlabel")
        assert data["name"] == ["Evidence"]
        data["name"] = ["Proof"]

        response = staff.post(url, data)

        assert response.status_code == 302, response.content.decode()[:2000]
        span.refresh_from_db()
        assert span.label_id == evidence.pk
        assert span.label.name == "Proof"
        assert Span.objects.filter(label=evidence).count() == 1

        client.force_login(admin_user)
        assert exported_labels(client, project) == ["Proof"]
        client.force_login(analyst)
        page = client.get(reverse("label_article", args=[project.id, span.annotation.article_id])).content.decode()
        assert 'title="Proof"' in page and "Evidence" not in page
