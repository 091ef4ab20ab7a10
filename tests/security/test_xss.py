"""Hostile text in every field that a page shows is shown as text: escaped, never run.

One project is filled with payloads everywhere a user can type (schema names, article fields,
span attributes, a skip reason, even a username), and every page that exists is fetched: the
pages, their htmx fragments, the import and its report, the Django admin and the export.
"""

import json
import re
import uuid
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.html import escape

from annotator.corpus import services as corpus_services
from annotator.corpus.models import Article
from annotator.labelling import services
from annotator.labelling.models import Annotation, Span
from annotator.projects.models import (
    Membership,
    RelationType,
    SpanAttribute,
    SpanLabel,
    StanceTarget,
    StanceValue,
    Topic,
)
from annotator.projects.services import project_create
from annotator.review import services as review_services
from tests.factories import UserFactory

from .inert import FULL, IMG, JS_URL, SCRIPT, TEMPLATE, assert_inert, hostile, problems

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def max_length(model, field):
    return model._meta.get_field(field).max_length


def import_jsonl(project, rows):
    data = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    report = corpus_services.article_import(project=project, files=[("hostile.jsonl", data)])
    assert report.errors == [], report.errors
    return report.created


@pytest.fixture
def world(db):
    """A project whose every visible value is hostile, labelled by an analyst with a hostile name."""
    analyst = UserFactory(username=hostile("U"))
    reviewer = UserFactory(username="reviewer")
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    project = project_create(name=hostile("P"), description=hostile("D"))
    Membership.objects.create(project=project, user=analyst, role=Membership.Role.ANALYST)
    Membership.objects.create(project=project, user=reviewer, role=Membership.Role.ADMIN)

    label = SpanLabel.objects.create(
        project=project, name=hostile("L", max_length(SpanLabel, "name")), colour="#123456", hotkey="h", order=9
    )
    attribute = SpanAttribute.objects.create(label=label, name=hostile("A", max_length(SpanAttribute, "name")))
    stance_attribute = SpanAttribute.objects.create(label=label, name="stance", kind=SpanAttribute.Kind.STANCE)
    topic = Topic.objects.create(project=project, name=hostile("T"), order=9)
    value = StanceValue.objects.create(project=project, name=hostile("V", max_length(StanceValue, "name")), order=9)
    target = StanceTarget.objects.create(project=project, name=hostile("G"), order=9)
    relation_type = RelationType.objects.create(
        project=project, name=hostile("R", max_length(RelationType, "name")), source_label=label, target_label=None
    )

    title, source = hostile("Title "), hostile("Source ")
    text = f"Opening {FULL} middle.\nSecond {SCRIPT} line with {TEMPLATE} and {IMG} end."
    [article] = import_jsonl(project, [{
        "title": title,
        "text": text,
        "source": source,
        "language": '"><svg onload=1>',
        "metadata": {"note": hostile("M"), hostile("K"): "value"},
    }])
    # Nothing lets a javascript: URL in (the import and the admin form refuse it), so this is
    # legacy or hand-made data; it must still never become a link.
    Article.objects.filter(pk=article.pk).update(url=JS_URL)
    article.refresh_from_db()

    first = article.text.index(FULL)
    span = services.span_create(
        article=article, annotator=analyst, label=label, start=first, end=first + len(FULL), text=FULL,
        client_id=uuid.uuid4(),
    )
    attributes = {attribute.name: hostile("S"), stance_attribute.name: value.name}
    services.span_update(span=span, label=label, attributes=attributes)
    second_start = article.text.index(SCRIPT, first + len(FULL))
    other = services.span_create(
        article=article, annotator=analyst, label=label, start=second_start, end=second_start + len(SCRIPT),
        text=SCRIPT, client_id=uuid.uuid4(),
    )
    services.relation_create(relation_type=relation_type, source=span, target=other)
    services.analyst_labels_set(article=article, annotator=analyst, topic_ids=[topic.id], stances={target.id: value.id})

    [skipped] = import_jsonl(project, [{"title": "Skipped one", "text": "An article the analyst skips."}])
    annotation = services.annotation_get_or_create(article=skipped, annotator=analyst)
    services.annotation_skip(annotation=annotation, reason=hostile("Why "))

    return SimpleNamespace(
        analyst=analyst, reviewer=reviewer, superuser=superuser, project=project, label=label,
        attribute=attribute, topic=topic, value=value, target=target, relation_type=relation_type,
        article=article, span=span, other=other, title=title, source=source, skipped=skipped,
    )


def get(client, user, url, **headers):
    client.force_login(user)
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


class TestPages:
    def test_home(self, client, world):
        assert_inert(get(client, world.analyst, reverse("home")), shows=(world.project.name, world.analyst.username))

    def test_project_page(self, client, world):
        page = get(client, world.analyst, reverse("project_detail", args=[world.project.id]))
        assert_inert(page, shows=(world.project.name, world.project.description, world.title))

    def test_labelling_page(self, client, world):
        page = get(client, world.analyst, reverse("label_article", args=[world.project.id, world.article.id]))

        assert_inert(page, shows=(
            world.project.name, world.title, world.source, world.label.name, world.topic.name,
            world.target.name, world.value.name, world.analyst.username,
        ))
        assert escape(world.article.text.split("\n")[1]) in re.sub(r"<[^>]+>", "", page)
        assert 'lang="&quot;&gt;&lt;svg onload=1&gt;"' in page
        assert "javascript:" not in page

    def test_the_label_style_block_holds_only_hex_colours(self, client, world):
        page = get(client, world.analyst, reverse("label_article", args=[world.project.id, world.article.id]))

        styles = re.findall(r"<style\b[^>]*>(.*?)</style>", page, flags=re.S)
        assert styles, "the labelling page colours its labels in a <style> block"
        for style in styles:
            assert re.fullmatch(r"(\.label-\d+\{--label:#[0-9a-fA-F]{6}\})*", style.strip()), style
        assert f".label-{world.label.id}{{--label:#123456}}" in page

    def test_span_editor_fragment(self, client, world):
        url = reverse("span_edit", args=[world.project.id, world.article.id, world.span.id])
        page = get(client, world.analyst, url, **HTMX)

        assert_inert(page, shows=(
            world.attribute.name, world.span.attributes[world.attribute.name], world.value.name,
            world.relation_type.name, world.label.name,
        ))
        assert f'value="{escape(world.span.attributes[world.attribute.name])}"' in page

    def test_span_create_fragment(self, client, world):
        client.force_login(world.analyst)
        start = world.article.text.index(IMG)
        response = client.post(
            reverse("span_create", args=[world.project.id, world.article.id]),
            {"label": world.label.id, "start": start, "end": start + len(IMG), "text": IMG,
             "client_id": str(uuid.uuid4())},
            **HTMX,
        )

        assert response.status_code == 201
        assert_inert(response.content.decode(), shows=(world.label.name, IMG))

    def test_span_update_fragment(self, client, world):
        client.force_login(world.analyst)
        typed = hostile("Typed ")
        response = client.post(
            reverse("span_update", args=[world.project.id, world.article.id, world.span.id]),
            {"label": world.label.id, f"attr-{world.attribute.name}": typed},
            **HTMX,
        )

        assert response.status_code == 200
        assert Span.objects.get(pk=world.span.pk).attributes[world.attribute.name] == typed
        assert_inert(response.content.decode(), shows=(typed, world.attribute.name))

    def test_a_refused_span_echoes_its_text_inertly(self, client, world):
        client.force_login(world.analyst)
        response = client.post(
            reverse("span_create", args=[world.project.id, world.article.id]),
            {"label": world.label.id, "start": 0, "end": 7, "text": SCRIPT, "client_id": str(uuid.uuid4())},
            **HTMX,
        )

        assert response.status_code == 422
        assert not response["Content-Type"].startswith("text/html")
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_login_page_with_a_hostile_next(self, client, world):
        response = client.get(reverse("login"), {"next": FULL})

        assert response.status_code == 200
        assert_inert(response.content.decode(), shows=(FULL,))


class TestImport:
    @pytest.fixture
    def staff(self, client, world):
        client.force_login(world.reviewer)
        return client

    def upload(self, staff, world, files=(), headers=None, **fields):
        return staff.post(
            reverse("article_import", args=[world.project.id]), {"files": list(files), **fields}, **(headers or {})
        )

    def test_import_page(self, staff, world):
        page = staff.get(reverse("article_import", args=[world.project.id])).content.decode()
        assert_inert(page, shows=(world.project.name,))

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
    def test_report_of_a_refused_batch(self, staff, world, headers):
        name = f"<img src=x onerror=alert(1)>{TEMPLATE}.jsonl"
        rows = [
            {"title": hostile("New "), "text": f"Fresh {FULL} text"},
            {"title": "Bad link", "text": "Another text", "url": JS_URL},
            {"title": "Copy", "text": world.article.text},
        ]
        data = "\n".join(json.dumps(row) for row in rows).encode()
        response = self.upload(staff, world, [SimpleUploadedFile(name, data)], headers)

        assert response.status_code == 200
        page = response.content.decode()
        assert_inert(page, shows=(name, world.title))
        assert "Nothing was imported" in page
        assert "url is not an http:// or https:// address" in page
        assert not Article.objects.filter(title=hostile("New ")).exists()

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
    def test_report_of_an_imported_batch(self, staff, world, headers):
        title = hostile("Imported ")
        response = self.upload(staff, world, title=title, text=f"{title}\n\nBody {FULL} {IMG}", headers=headers)

        assert response.status_code == 200
        assert Article.objects.filter(project=world.project, title=title).exists()
        assert_inert(response.content.decode(), shows=(title,))

    def test_the_import_refuses_a_script_url(self, world):
        data = json.dumps({"text": "Some text", "url": JS_URL}).encode()
        report = corpus_services.article_import(project=world.project, files=[("a.jsonl", data)])

        assert report.created == []
        assert [issue.message for issue in report.errors] == [
            "url is not an http:// or https:// address ('javascript:alert(1)')"
        ]


class TestExport:
    def test_jsonl_is_a_download_that_no_browser_renders(self, client, world):
        client.force_login(world.reviewer)
        response = client.get(reverse("export_jsonl", args=[world.project.id]))

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/x-ndjson")
        assert response["Content-Disposition"].startswith("attachment;")
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9_-]+\.jsonl"', response["Content-Disposition"])
        assert response["X-Content-Type-Options"] == "nosniff"
        records = {r["id"]: r for r in map(json.loads, b"".join(response.streaming_content).decode().splitlines())}
        # Data, exactly as typed: escaping is the page's job, not the dataset's.
        record = records[world.article.id]
        assert record["title"] == world.title
        assert record["source"] == world.source
        [annotation] = record["annotations"]
        assert annotation["annotator"] == world.analyst.username
        assert {s["label"] for s in annotation["spans"]} == {world.label.name}
        assert FULL in [s["text"] for s in annotation["spans"]]


class TestLockedOutPage:
    def test_a_hostile_username_is_shown_inertly(self, client, world, settings):
        username = hostile("X")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = client.post(reverse("login"), {"username": username, "password": "wrong"})

        assert response.status_code == 429
        assert_inert(response.content.decode(), shows=(username,))


def admin_models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


class TestAdmin:
    @pytest.fixture
    def staff(self, client, world):
        client.force_login(world.superuser)
        return client

    @pytest.mark.parametrize("model", admin_models(), ids=lambda m: m._meta.label)
    def test_changelist_and_change_pages(self, staff, world, model):
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        page = staff.get(changelist)
        assert page.status_code == 200
        assert problems(page.content.decode()) == []
        searched = staff.get(changelist, {"q": FULL})
        assert searched.status_code == 200
        assert problems(searched.content.decode()) == []

        for obj in model._default_manager.all()[:20]:
            page = staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            assert page.status_code == 200, (model, obj.pk)
            assert problems(page.content.decode()) == [], (model, obj.pk)

    def test_hostile_values_reach_the_admin_escaped(self, staff, world):
        pages = {
            Article: world.article.pk,
            SpanLabel: world.label.pk,
            Span: world.span.pk,
            Annotation: world.span.annotation_id,
            get_user_model(): world.analyst.pk,
        }
        for model, pk in pages.items():
            opts = model._meta
            page = staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])).content.decode()
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, model
            assert_inert(page)
        skipped = Annotation.objects.get(article=world.skipped)
        page = staff.get(reverse("admin:labelling_annotation_change", args=[skipped.pk])).content.decode()
        assert escape(skipped.skip_reason) in page

    def test_a_script_url_is_never_a_link(self, staff, world):
        page = staff.get(reverse("admin:corpus_article_change", args=[world.article.pk])).content.decode()

        assert JS_URL in page  # shown, as the field's value
        assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", page, flags=re.I)
        assert problems(page) == []

    def test_the_admin_refuses_a_script_url(self, staff, world):
        url = reverse("admin:corpus_article_change", args=[world.article.pk])
        response = staff.post(url, {
            "title": "t", "source": "", "url": JS_URL, "published": "", "language": "en", "metadata": "{}",
        })

        assert response.status_code == 200
        assert "Enter a valid URL." in response.content.decode()


class TestLabelColour:
    HOSTILE_COLOUR = "red;}</style><script>"

    def test_the_database_refuses_it(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            SpanLabel.objects.create(project=world.project, name="Evil", colour=self.HOSTILE_COLOUR[:7], hotkey="e")
        with pytest.raises(IntegrityError), transaction.atomic():
            SpanLabel.objects.filter(pk=world.label.pk).update(colour="#12345;")
        assert SpanLabel.objects.get(pk=world.label.pk).colour == "#123456"

    def test_the_admin_form_refuses_it(self, client, world):
        client.force_login(world.superuser)
        response = client.post(reverse("admin:projects_spanlabel_add"), {
            "project": world.project.pk, "name": "Evil", "colour": self.HOSTILE_COLOUR, "hotkey": "e", "order": 0,
            "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0,
        })

        assert response.status_code == 200
        page = response.content.decode()
        assert "Use a colour like #1f77b4." in page or "Ensure this value has at most 7 characters" in page
        assert not SpanLabel.objects.filter(name="Evil").exists()
        assert problems(page) == []

    def test_the_admin_form_refuses_a_short_one(self, client, world):
        client.force_login(world.superuser)
        response = client.post(reverse("admin:projects_spanlabel_add"), {
            "project": world.project.pk, "name": "Evil", "colour": "red;}<", "hotkey": "e", "order": 0,
            "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0,
        })

        assert response.status_code == 200
        assert "Use a colour like #1f77b4." in response.content.decode()
        assert not SpanLabel.objects.filter(name="Evil").exists()


@pytest.mark.parametrize("live", [
    f"<p>{SCRIPT}</p>",
    f'<input value=""><img src=x onerror=alert(1)>">',
    '<a href=" JavaScript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<div onclick=alert(1)>x</div>",
    "<script nonce=abc>alert(1)</script>",
], ids=["script", "img", "js-link", "encoded-js-link", "handler", "inline-script"])
def test_the_check_finds_a_live_payload(live):
    assert problems(f"<html><body>{live}</body></html>") != []


def test_the_check_passes_escaped_payloads():
    assert problems(f"<p title=\"{escape(FULL)}\">{escape(FULL)}</p><a href=\"/p/1/\">ok</a>") == []


class TestTeamPages:
    """The review, history, agreement, progress, members and datasets pages show the same payloads inertly."""

    @pytest.fixture
    def reviewed(self, world):
        services.annotation_submit(annotation=world.span.annotation)
        review_services.gold_span_reject(
            article=world.article, reviewer=world.reviewer, span=world.span, expected_version=0,
            reason=hostile("Reason "),
        )
        return world

    @pytest.mark.parametrize("name, shows", [
        ("review_queue", ("title",)),
        ("review_article", ("title", "label", "topic", "reason")),
        ("article_history", ("reason",)),
        ("project_agreement", ("label", "topic")),
        ("project_progress", ("analyst",)),
        ("project_members", ("analyst",)),
        ("dataset_list", ("topic",)),
    ])
    def test_page(self, client, reviewed, name, shows):
        w = reviewed
        values = {
            "title": w.title, "label": w.label.name, "topic": w.topic.name, "analyst": w.analyst.username,
            "reason": hostile("Reason "),
        }
        args = [w.project.id, w.article.id] if name in {"review_article", "article_history"} else [w.project.id]
        page = get(client, w.reviewer, reverse(name, args=args))
        assert_inert(page, shows=tuple(values[v] for v in shows))
