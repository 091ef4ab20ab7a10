"""The Content-Security-Policy: strict on every page, and every script and style on a page is
one the policy allows (same origin, or carrying that response's nonce)."""

import re
import uuid

import pytest
from django.urls import reverse

from annotator.labelling import services
from tests.factories import ArticleFactory

from .inert import MarkupParser, problems

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_strict_policy(response) -> str | None:
    """The policy of one response; returns its nonce, if the page used one."""
    header = response["Content-Security-Policy"]
    policy = directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header and "*" not in header
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        sources = policy[directive]
        assert sources[0] == "'self'"
        assert all(re.fullmatch(r"'nonce-[\w+/=-]+'", s) for s in sources[1:]), sources
    nonces = set(re.findall(r"'nonce-([\w+/=-]+)'", header))
    assert len(nonces) <= 1
    return nonces.pop() if nonces else None


def assert_page_obeys_policy(response) -> None:
    nonce = assert_strict_policy(response)
    html = response.content.decode()
    parser = MarkupParser()
    parser.feed(html)
    for tag, attrs in parser.tags:
        attrs = dict(attrs)
        assert "style" not in attrs, f"a style attribute on <{tag}> (blocked without 'unsafe-inline')"
        if tag == "script":
            if "src" in attrs:
                assert attrs["src"].startswith("/static/"), attrs
            else:
                assert nonce and attrs.get("nonce") == nonce, "an inline script without this response's nonce"
        if tag == "style":
            assert nonce and attrs.get("nonce") == nonce, "a <style> without this response's nonce"
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"].startswith("/static/"), attrs
    assert problems(html) == []


@pytest.fixture
def work(project, article, analyst):
    label = project.span_labels.get(name="Quote")
    span = services.span_create(
        article=article, annotator=analyst, label=label, start=0, end=6, text=article.text[:6], client_id=uuid.uuid4()
    )
    return span


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def test_login_page(client):
    assert_page_obeys_policy(client.get(reverse("login")))


def test_locked_out_page(client, analyst, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "analyst", "password": "wrong"})
    assert response.status_code == 429
    assert_page_obeys_policy(response)


def test_home(analyst_client):
    assert_page_obeys_policy(analyst_client.get(reverse("home")))


def test_project_page(analyst_client, project, article):
    assert_page_obeys_policy(analyst_client.get(reverse("project_detail", args=[project.id])))


def test_labelling_page_uses_the_nonce_for_its_label_colours(analyst_client, project, article, work):
    response = analyst_client.get(reverse("label_article", args=[project.id, article.id]))

    assert response.status_code == 200
    nonce = assert_strict_policy(response)
    assert nonce, "the label colours are an inline <style>, which needs the nonce"
    assert f'<style nonce="{nonce}">' in response.content.decode()
    assert_page_obeys_policy(response)


def test_every_response_gets_a_fresh_nonce(analyst_client, project, article, work):
    url = reverse("label_article", args=[project.id, article.id])
    first, second = (assert_strict_policy(analyst_client.get(url)) for _ in range(2))

    assert first and second and first != second


def test_labelling_fragments(analyst_client, project, article, work):
    response = analyst_client.get(reverse("span_edit", args=[project.id, article.id, work.id]), **HTMX)

    assert response.status_code == 200
    assert_page_obeys_policy(response)


def test_import_page_and_result(client, admin_user, project):
    client.force_login(admin_user)
    url = reverse("article_import", args=[project.id])
    assert_page_obeys_policy(client.get(url))

    response = client.post(url, {"title": "Pasted", "text": "Pasted\n\nA pasted article."})

    assert response.status_code == 200
    assert "Imported 1 article" in response.content.decode()
    assert_page_obeys_policy(response)


def test_admin_pages(client, django_user_model, project):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    ArticleFactory(project=project)

    for url in ("/admin/", "/admin/projects/project/", f"/admin/projects/project/{project.id}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_strict_policy(response)
        assert problems(response.content.decode()) == []


def test_plain_errors_carry_the_policy_too(analyst_client):
    response = analyst_client.get("/p/999999/")

    assert response.status_code == 404
    assert_strict_policy(response)
