"""NUL and other control characters are refused in every text field, on every way in, with one
clear message naming the field (`corpus.text.refuse_control_characters`), never a 500.

Tabs and line breaks are text and stay allowed. Fields, by way in:
- labelling page (plain and htmx): a span attribute, the skip reason;
- review page: the reason of an accept, a reject, an added span, an edit, a delete and a labels change,
  and an edited gold span's attribute;
- the annotation import (JSONL, Label Studio, doccano): anywhere in a record (attributes, names);
- the article import: a CSV `metadata` cell whose JSON spells NUL as an escape;
- the snapshot file address;
- the Django admin: JSON fields (span attributes, article metadata) and text fields (names).
"""

import json
import uuid

import pytest
from django.urls import reverse

from annotator.corpus.models import Article
from annotator.corpus.services import article_import
from annotator.datasets.imports import ImportFailed, doccano_import, label_studio_import, snapshot_jsonl_import
from annotator.datasets.models import Snapshot
from annotator.labelling import services
from annotator.labelling.models import Annotation, Change, Span
from annotator.projects.models import Project, SpanLabel
from tests.factories import ArticleFactory, UserFactory

from .admin_forms import admin_form

pytestmark = pytest.mark.django_db

TEXT = "Lavrov said “the West is trying”.\nThe ministry agreed."
HTMX = {"HTTP_HX_REQUEST": "true"}
NUL, BELL, ESCAPE, C1 = "\x00", "\x07", "\x1b", "\x85"
BAD = [NUL, BELL, ESCAPE, C1]
BAD_IDS = ["nul", "bell", "escape", "c1-next-line"]


def refusal(field, char):
    return f"{field} contains the control character U+{ord(char):04X}, which text cannot hold"


@pytest.fixture
def article(project):
    return ArticleFactory(project=project, text=TEXT)


@pytest.fixture
def quote(project, article, analyst):
    start = TEXT.index("the West is trying")
    return services.span_create(
        article=article, annotator=analyst, label=project.span_labels.get(name="Quote"), start=start,
        end=start + 18, text="the West is trying", client_id=uuid.uuid4(),
    )


class TestLabellingPage:
    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    @pytest.mark.parametrize("char", BAD, ids=BAD_IDS)
    def test_a_span_attribute_is_refused(self, client, analyst, project, article, quote, char, headers):
        client.force_login(analyst)
        response = client.post(
            reverse("span_update", args=[project.id, article.id, quote.id]),
            {"label": quote.label_id, "attr-speaker": f"Lav{char}rov"}, **headers,
        )

        assert response.status_code == 422
        assert refusal("The speaker", char) in response.content.decode()
        quote.refresh_from_db()
        assert quote.attributes == {}

    def test_tabs_and_line_breaks_in_an_attribute_are_text(self, client, analyst, project, article, quote):
        client.force_login(analyst)
        response = client.post(
            reverse("span_update", args=[project.id, article.id, quote.id]),
            {"label": quote.label_id, "attr-speaker": "Sergei\tLavrov"}, **HTMX,
        )

        assert response.status_code == 200
        quote.refresh_from_db()
        assert quote.attributes == {"speaker": "Sergei\tLavrov"}

    @pytest.mark.parametrize("char", BAD, ids=BAD_IDS)
    def test_a_skip_reason_is_refused_over_htmx(self, client, analyst, project, article, char):
        client.force_login(analyst)
        response = client.post(reverse("article_skip", args=[project.id, article.id]), {"reason": f"du{char}p"}, **HTMX)

        assert response.status_code == 422
        assert refusal("The reason", char) in response.content.decode()
        assert not Annotation.objects.filter(status=Annotation.Status.SKIPPED).exists()

    def test_a_skip_reason_is_refused_on_the_plain_page(self, client, analyst, project, article):
        client.force_login(analyst)
        response = client.post(reverse("article_skip", args=[project.id, article.id]), {"reason": "dup\x00"},
                               follow=True)

        assert response.status_code == 200
        assert refusal("The reason", NUL) in response.content.decode()
        assert not Annotation.objects.filter(status=Annotation.Status.SKIPPED).exists()


@pytest.fixture
def submitted(quote):
    services.annotation_submit(annotation=quote.annotation)
    return quote


@pytest.fixture
def reviewer(client, admin_user):
    client.force_login(admin_user)
    return client


def gold_span(article, admin_user, submitted):
    from annotator.review.services import gold_span_accept

    return gold_span_accept(article=article, reviewer=admin_user, span=submitted, expected_version=0)


class TestReviewPage:
    def post(self, reviewer, name, project, article, span_id=None, headers=HTMX, **data):
        args = [project.id, article.id] + ([span_id] if span_id is not None else [])
        return reviewer.post(reverse(name, args=args), data, **headers)

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    @pytest.mark.parametrize("char", BAD, ids=BAD_IDS)
    def test_a_reject_reason_is_refused(self, reviewer, project, article, submitted, char, headers):
        response = self.post(reviewer, "review_reject", project, article, submitted.id, headers=headers,
                             version=0, reason=f"wr{char}ong")

        assert response.status_code == 422
        assert refusal("The reason", char) in response.content.decode()
        assert not Change.objects.filter(action=Change.Action.REJECT).exists()

    def test_an_accept_reason_is_refused(self, reviewer, project, article, submitted):
        response = self.post(reviewer, "review_accept", project, article, submitted.id, version=0, reason="ok\x00")

        assert response.status_code == 422
        assert refusal("The reason", NUL) in response.content.decode()
        assert not Annotation.objects.filter(kind=Annotation.Kind.GOLD).exists()

    def test_an_added_spans_reason_is_refused(self, reviewer, project, article, submitted):
        response = self.post(
            reviewer, "review_span_add", project, article, version=0, label=project.span_labels.get(name="Source").id,
            start=0, end=6, text="Lavrov", client_id=str(uuid.uuid4()), reason="mine\x00",
        )

        assert response.status_code == 422
        assert refusal("The reason", NUL) in response.content.decode()
        assert not Span.objects.filter(annotation__kind=Annotation.Kind.GOLD).exists()

    @pytest.mark.parametrize(("field", "data"), [
        ("The speaker", {"attr-speaker": "Lav\x00rov"}),
        ("The reason", {"attr-speaker": "Lavrov", "reason": "fixed\x00"}),
    ], ids=["attribute", "reason"])
    def test_a_gold_edit_is_refused(self, reviewer, project, article, submitted, admin_user, field, data):
        gold = gold_span(article, admin_user, submitted)
        version = gold.annotation.version

        response = self.post(reviewer, "review_span_update", project, article, gold.id, version=version,
                             label=gold.label_id, **data)

        assert response.status_code == 422
        assert refusal(field, NUL) in response.content.decode()
        gold.refresh_from_db()
        assert gold.attributes == {}

    def test_a_gold_delete_reason_is_refused(self, reviewer, project, article, submitted, admin_user):
        gold = gold_span(article, admin_user, submitted)

        response = self.post(reviewer, "review_span_delete", project, article, gold.id,
                             version=gold.annotation.version, reason="gone\x1b")

        assert response.status_code == 422
        assert refusal("The reason", ESCAPE) in response.content.decode()
        assert Span.objects.filter(pk=gold.pk).exists()

    def test_a_labels_reason_is_refused(self, reviewer, project, article, submitted):
        topic = project.topics.get(name="Syria")
        response = self.post(reviewer, "review_labels", project, article, version=0, topics=[topic.id],
                             reason="because\x00")

        assert response.status_code == 422
        assert refusal("The reason", NUL) in response.content.decode()
        assert not Annotation.objects.filter(kind=Annotation.Kind.GOLD, topics__isnull=False).exists()


def jsonl_record(annotator="analyst", speaker="Lavrov"):
    start = TEXT.index("the West is trying")
    return {"text": TEXT, "annotations": [{"annotator": annotator, "kind": "analyst", "spans": [
        {"id": 1, "start": start, "end": start + 18, "label": "Quote", "text": "the West is trying",
         "attributes": {"speaker": speaker}}]}]}


class TestAnnotationImport:
    @pytest.mark.parametrize("char", BAD, ids=BAD_IDS)
    def test_a_jsonl_attribute_is_refused_at_its_line(self, project, analyst, char):
        data = (json.dumps(jsonl_record()) + "\n" + json.dumps(jsonl_record(speaker=f"Lav{char}rov")) + "\n").encode()

        with pytest.raises(ImportFailed) as failed:
            snapshot_jsonl_import(project=project, data=data)

        assert failed.value.problems == [f"line 2: {refusal('the record', char)}: remove it (tabs and line breaks are fine)."]
        assert Span.objects.count() == 0 and Article.objects.filter(text=TEXT).count() == 0

    def test_a_jsonl_annotator_name_with_nul_is_refused_not_looked_up(self, project, analyst):
        with pytest.raises(ImportFailed) as failed:
            snapshot_jsonl_import(project=project, data=(json.dumps(jsonl_record(annotator="analyst\x00")) + "\n").encode())

        assert failed.value.problems[0].startswith(f"line 1: {refusal('the record', NUL)}")

    def test_a_label_studio_region_is_refused_at_its_task(self, project, admin_user):
        start = TEXT.index("Lavrov")
        task = {"data": {"text": TEXT}, "annotations": [{"result": [
            {"id": "a", "type": "labels", "from_name": "label\x00", "value": {"start": start, "end": start + 6,
                                                                            "text": "Lavrov", "labels": ["Source"]}}]}]}

        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=project, data=json.dumps([task]).encode(), gold_by=admin_user)

        assert failed.value.problems[0].startswith(f"task 1: {refusal('the record', NUL)}")
        assert Span.objects.count() == 0

    def test_a_doccano_label_is_refused(self, project, admin_user):
        row = {"text": TEXT, "label": [[0, 6, "Source\x00"]]}

        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=project, data=json.dumps(row).encode(), gold_by=admin_user)

        assert failed.value.problems[0].startswith(f"line 1: {refusal('the record', NUL)}")


def test_a_csv_metadata_cell_spelling_nul_as_an_escape_is_refused(project):
    data = 'text,metadata\n"Lavrov spoke.","{""desk"": ""a\\u0000b""}"\n'.encode()

    report = article_import(project=project, files=[("articles.csv", data)])

    assert [str(issue) for issue in report.errors] == [
        f"articles.csv, row 1: {refusal('metadata', NUL)}: remove it (tabs and line breaks are fine)."
    ]
    assert not Article.objects.filter(text="Lavrov spoke.").exists()


def test_a_snapshot_file_address_with_nul_is_not_found(client, project, admin_user):
    snapshot = Snapshot.objects.create(project=project, created_by=admin_user, status=Snapshot.Status.READY)
    client.force_login(admin_user)

    response = client.get(f"/p/{project.id}/datasets/{snapshot.id}/data%00.jsonl")

    assert response.status_code == 404


class TestAdmin:
    @pytest.fixture
    def staff(self, client, db):
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        return client

    @pytest.mark.parametrize("char", BAD, ids=BAD_IDS)
    def test_span_attributes_json_is_refused(self, staff, quote, char):
        url = reverse("admin:labelling_span_change", args=[quote.pk])
        data = admin_form(staff, url, "span")
        data["attributes"] = [json.dumps({"speaker": f"Lav{char}rov"})]

        response = staff.post(url, data)

        assert response.status_code == 200
        assert refusal("Attributes", char) in response.content.decode()
        quote.refresh_from_db()
        assert quote.attributes == {}

    def test_article_metadata_json_is_refused(self, staff, article):
        url = reverse("admin:corpus_article_change", args=[article.pk])
        data = admin_form(staff, url, "article")
        data["metadata"] = ['{"desk": "a\\u0000b"}']

        response = staff.post(url, data)

        assert response.status_code == 200
        assert refusal("Metadata", NUL) in response.content.decode()
        article.refresh_from_db()
        assert article.metadata == {}

    @pytest.mark.parametrize("char", [BELL, C1], ids=["bell", "c1-next-line"])
    def test_a_project_name_is_refused(self, staff, project, char):
        url = reverse("admin:projects_project_change", args=[project.pk])
        data = admin_form(staff, url, "project")
        data["name"] = [f"De{char}mo"]

        response = staff.post(url, data)

        assert response.status_code == 200
        assert refusal("Name", char) in response.content.decode()
        assert Project.objects.get(pk=project.pk).name == project.name

    def test_a_label_name_with_nul_is_refused(self, staff, project):
        label = project.span_labels.get(name="Quote")
        url = reverse("admin:projects_spanlabel_change", args=[label.pk])
        data = admin_form(staff, url, "spanlabel")
        data["name"] = ["Quo\x00te"]

        response = staff.post(url, data)

        assert response.status_code == 200
        assert "Null characters are not allowed." in response.content.decode()
        assert SpanLabel.objects.get(pk=label.pk).name == "Quote"

    def test_tabs_and_line_breaks_in_a_description_are_kept(self, staff, project):
        url = reverse("admin:projects_project_change", args=[project.pk])
        data = admin_form(staff, url, "project")
        data["description"] = ["Line one\n\tLine two"]

        response = staff.post(url, data)

        assert response.status_code == 302
        assert Project.objects.get(pk=project.pk).description == "Line one\n\tLine two"
