"""A span's offsets select exactly its text in its own article, whichever way it comes in.

The labelling page's POST and the Django admin (the span page, and the spans inline on an
annotation's page) are the ways in; the import brings articles without spans. Each refuses a
span beyond the text, reversed or empty, one that fits another article but not this one, and one
whose text is not what the offsets select, and says why.
"""

import re
import uuid

import pytest
from django.urls import reverse

from annotator.labelling import services
from annotator.labelling.models import Annotation, Change, Span
from tests.factories import ArticleFactory, UserFactory, make_project

from .admin_forms import admin_form

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TEXT = "Lavrov said “the West is trying”.\nThe ministry 👍 agreed."
OTHER = "Shoigu said nothing at all today.\nNobody 👍 agreed, sadly."


@pytest.fixture
def article(project):
    return ArticleFactory(project=project, text=TEXT)


@pytest.fixture
def other_article(project):
    return ArticleFactory(project=project, text=OTHER)


OUTSIDE = "is not inside the article"
MISMATCH = "does not match the article"
ADMIN_OUTSIDE = "Offsets must satisfy 0 ≤ start &lt; end ≤ "
ADMIN_MISMATCH = "The article text at ["


def bad_spans(text, other):
    """(case, start, end, text sent, refusal on the labelling page, refusal in the admin)."""
    n = len(text)
    west = text.index("the West")
    # A browser that forgot to convert counts the emoji twice: its offsets are one too far on.
    utf16 = text.index("agreed") + 1
    return [
        ("beyond-the-text", n - 3, n + 4, text[n - 3:] + "more", OUTSIDE, ADMIN_OUTSIDE),
        ("starting-past-the-end", n + 1, n + 5, "abcd", OUTSIDE, ADMIN_OUTSIDE),
        ("reversed", west + 8, west, "the West", OUTSIDE, ADMIN_OUTSIDE),
        ("empty", west, west, "", OUTSIDE, "This field is required."),
        ("negative", -1, 5, text[:6], OUTSIDE, "Ensure this value is greater than or equal to 0."),
        ("another-articles-text", 0, 6, other[:6], MISMATCH, ADMIN_MISMATCH),
        ("mismatched-text", west, west + 8, "the east", MISMATCH, ADMIN_MISMATCH),
        ("utf16-offsets", utf16, utf16 + 6, "agreed", MISMATCH, ADMIN_MISMATCH),
    ]


CASES = [case[0] for case in bad_spans(TEXT, OTHER)]


def case(name):
    return next(c for c in bad_spans(TEXT, OTHER) if c[0] == name)


class TestLabellingPost:
    @pytest.fixture
    def analyst_client(self, client, analyst):
        client.force_login(analyst)
        return client

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    @pytest.mark.parametrize("name", CASES)
    def test_refused_with_a_message(self, analyst_client, project, article, other_article, name, headers):
        _, start, end, text, message, _ = case(name)
        response = analyst_client.post(
            reverse("span_create", args=[project.id, article.id]),
            {"label": project.span_labels.get(name="Quote").id, "start": start, "end": end, "text": text,
             "client_id": str(uuid.uuid4())},
            **headers,
        )

        assert response.status_code == 422
        assert message in response.content.decode()
        assert Span.objects.count() == 0
        assert Change.objects.count() == 0

    def test_the_same_span_on_the_right_article_is_saved(self, analyst_client, project, article, other_article):
        response = analyst_client.post(
            reverse("span_create", args=[project.id, other_article.id]),
            {"label": project.span_labels.get(name="Quote").id, "start": 0, "end": 6, "text": OTHER[:6],
             "client_id": str(uuid.uuid4())},
            **HTMX,
        )

        assert response.status_code == 201
        assert Span.objects.get().annotation.article == other_article

    def test_code_point_offsets_past_an_emoji_are_saved(self, analyst_client, project, article):
        start = TEXT.index("agreed")
        response = analyst_client.post(
            reverse("span_create", args=[project.id, article.id]),
            {"label": project.span_labels.get(name="Quote").id, "start": start, "end": start + 6, "text": "agreed",
             "client_id": str(uuid.uuid4())},
            **HTMX,
        )

        assert response.status_code == 201
        span = Span.objects.get()
        assert TEXT[span.start:span.end] == "agreed"

    def test_an_article_of_another_project_is_not_found(self, analyst_client, project, analyst):
        foreign = ArticleFactory(project=make_project(name="Elsewhere", analyst=UserFactory()), text=TEXT)

        response = analyst_client.post(
            reverse("span_create", args=[project.id, foreign.id]),
            {"label": project.span_labels.get(name="Quote").id, "start": 0, "end": 6, "text": "Lavrov",
             "client_id": str(uuid.uuid4())},
        )

        assert response.status_code == 404
        assert Span.objects.count() == 0


@pytest.fixture
def staff(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def annotation(article, analyst):
    return Annotation.objects.create(article=article, annotator=analyst)


@pytest.fixture
def existing(annotation, project):
    return services.span_add(
        annotation=annotation, actor=annotation.annotator, label=project.span_labels.get(name="Source"),
        start=0, end=6, text="Lavrov",
    )


def errors_in(page):
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, flags=re.S))


def assert_admin_refused(response, message):
    assert response.status_code == 200, "a refused form is shown again"
    page = response.content.decode()
    assert message in errors_in(page)


class TestAdminSpanPage:
    def post_data(self, annotation, label, start, end, text):
        return {
            "annotation": annotation.pk, "label": label.pk, "start": start, "end": end, "text": text,
            "attributes": "{}", "client_id": str(uuid.uuid4()),
        }

    @pytest.mark.parametrize("name", CASES)
    def test_adding_is_refused_with_a_message(self, staff, project, annotation, other_article, name):
        _, start, end, text, _, message = case(name)
        label = project.span_labels.get(name="Quote")

        response = staff.post(reverse("admin:labelling_span_add"), self.post_data(annotation, label, start, end, text))

        assert_admin_refused(response, message)
        assert Span.objects.count() == 0

    @pytest.mark.parametrize("name", CASES)
    def test_changing_is_refused_with_a_message(self, staff, project, existing, other_article, name):
        _, start, end, text, _, message = case(name)
        url = reverse("admin:labelling_span_change", args=[existing.pk])
        data = admin_form(staff, url, "span")
        data.update(start=[str(start)], end=[str(end)], text=[text])

        response = staff.post(url, data)

        assert_admin_refused(response, message)
        existing.refresh_from_db()
        assert (existing.start, existing.end, existing.text) == (0, 6, "Lavrov")

    def test_moving_a_span_to_another_articles_annotation_is_refused(self, staff, existing, other_article, analyst):
        elsewhere = Annotation.objects.create(article=other_article, annotator=UserFactory())
        url = reverse("admin:labelling_span_change", args=[existing.pk])
        data = admin_form(staff, url, "span")
        data["annotation"] = [str(elsewhere.pk)]

        response = staff.post(url, data)

        assert_admin_refused(response, ADMIN_MISMATCH)
        existing.refresh_from_db()
        assert existing.annotation_id != elsewhere.pk

    def test_a_matching_span_is_saved(self, staff, project, annotation):
        label = project.span_labels.get(name="Quote")
        start = TEXT.index("the West")

        response = staff.post(
            reverse("admin:labelling_span_add"), self.post_data(annotation, label, start, start + 8, "the West")
        )

        assert response.status_code == 302
        assert Span.objects.get().text == "the West"


class TestAdminAnnotationPage:
    """The spans inline on an annotation's page."""

    def inline_index(self, data, span):
        [index] = [
            key.split("-")[1] for key, value in data.items()
            if key.startswith("spans-") and key.endswith("-id") and value == [str(span.pk)]
        ]
        return index

    @pytest.mark.parametrize("name", CASES)
    def test_changing_a_span_is_refused_with_a_message(self, staff, existing, name):
        _, start, end, text, _, message = case(name)
        url = reverse("admin:labelling_annotation_change", args=[existing.annotation_id])
        data = admin_form(staff, url, "annotation")
        index = self.inline_index(data, existing)
        data.update({f"spans-{index}-start": [str(start)], f"spans-{index}-end": [str(end)],
                     f"spans-{index}-text": [text]})

        response = staff.post(url, data)

        assert_admin_refused(response, message)
        existing.refresh_from_db()
        assert (existing.start, existing.end, existing.text) == (0, 6, "Lavrov")

    @pytest.mark.parametrize("name", CASES)
    def test_adding_a_span_is_refused_with_a_message(self, staff, project, existing, name):
        _, start, end, text, _, message = case(name)
        url = reverse("admin:labelling_annotation_change", args=[existing.annotation_id])
        data = admin_form(staff, url, "annotation")
        total = int(data["spans-TOTAL_FORMS"][0])
        data.update({
            "spans-TOTAL_FORMS": [str(total + 1)],
            f"spans-{total}-label": [str(project.span_labels.get(name="Quote").pk)],
            f"spans-{total}-start": [str(start)], f"spans-{total}-end": [str(end)], f"spans-{total}-text": [text],
            f"spans-{total}-attributes": ["{}"], f"spans-{total}-client_id": [str(uuid.uuid4())],
            f"spans-{total}-annotation": [str(existing.annotation_id)],
        })

        response = staff.post(url, data)

        assert_admin_refused(response, message)
        assert Span.objects.count() == 1

    def test_the_form_itself_is_accepted_unchanged(self, staff, existing):
        url = reverse("admin:labelling_annotation_change", args=[existing.annotation_id])

        response = staff.post(url, admin_form(staff, url, "annotation"))

        assert response.status_code == 302, errors_in(response.content.decode())
        existing.refresh_from_db()
        assert (existing.start, existing.end, existing.text) == (0, 6, "Lavrov")
