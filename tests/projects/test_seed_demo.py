from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotator.corpus.models import Article
from annotator.projects.models import Membership, Project
from tests.browser.helpers import log_in

pytestmark = pytest.mark.django_db

PROJECT = "Demo: Lavrov in the news"


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seeding_twice_makes_one_demo(settings):
    settings.DEBUG = True

    first = seed()
    second = seed()

    project = Project.objects.get(name=PROJECT)
    assert Project.objects.count() == 1
    assert project.articles.count() == 5
    assert Article.objects.count() == 5
    assert "5 imported now, 0 already there" in first
    assert "0 imported now, 5 already there" in second
    assert [a.language for a in project.articles.filter(text__contains="لافروف")] == ["ar"]
    assert project.span_labels.count() == 3, "the project got the default schema once"

    users = get_user_model().objects.order_by("username")
    assert [u.username for u in users] == ["admin", "analyst1", "analyst2", "reviewer"]
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {
        "admin": Membership.Role.ADMIN,
        "reviewer": Membership.Role.REVIEWER,
        "analyst1": Membership.Role.ANALYST,
        "analyst2": Membership.Role.ANALYST,
    }
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not users.filter(is_staff=True).exclude(username="admin").exists()


def test_prints_the_accounts_with_working_passwords(settings, client):
    settings.DEBUG = True

    out = seed()

    assert "http://127.0.0.1:8000/" in out
    for username, password in [
        ("admin", "demo-admin"),
        ("reviewer", "demo-reviewer"),
        ("analyst1", "demo-analyst1"),
        ("analyst2", "demo-analyst2"),
    ]:
        assert f"  {username}" in out and password in out
        assert client.login(username=username, password=password), username


def test_reuses_an_existing_demo_project_and_restores_the_roles(settings):
    settings.DEBUG = True
    seed()
    project = Project.objects.get(name=PROJECT)
    project.memberships.filter(user__username="reviewer").update(role=Membership.Role.ANALYST)
    project.articles.filter(language="ar").delete()

    out = seed()

    assert Project.objects.get(name=PROJECT) == project
    assert project.memberships.get(user__username="reviewer").role == Membership.Role.REVIEWER
    assert project.articles.count() == 5
    assert "1 imported now, 4 already there" in out


def test_refuses_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed()

    assert not Project.objects.exists()
    assert not get_user_model().objects.exists()


def test_force_runs_without_debug(settings):
    settings.DEBUG = False

    seed(force=True)

    assert Project.objects.get(name=PROJECT).articles.count() == 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_seeding_again_keeps_everyone_logged_in(settings, page):
    # `make run` seeds at every start: restarting the demo must not log anybody out.
    settings.DEBUG = True
    seed()
    log_in(page, "analyst1", "demo-analyst1")
    project = Project.objects.get(name=PROJECT)
    page.goto(f"/p/{project.id}/")
    password = get_user_model().objects.get(username="analyst1").password

    seed()

    page.reload()
    assert "/accounts/login/" not in page.url
    assert page.get_by_role("heading", name=PROJECT).is_visible()
    assert page.locator(".site-header nav").get_by_text("analyst1").is_visible()
    assert get_user_model().objects.get(username="analyst1").password == password


def test_the_address_it_prints_is_where_the_demo_runs(settings):
    settings.DEBUG = True

    assert "Open http://127.0.0.1:8000/ and log in" in seed()
    assert "Open http://127.0.0.1:8010/ and log in" in seed(url="http://127.0.0.1:8010/")
