"""An admin brings an analyst in and sets overlap 2; the analyst gets an article, skips it and moves on.
An admin invites someone new, who chooses a password from the mailed link and logs in."""

import re

import pytest
from django.core import mail

from annotator.labelling.assignment import assignment_next
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership, Project
from tests.browser.helpers import log_in, make_article
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_analyst_sets_overlap_and_the_analyst_skips_to_the_next_article(page, project, analyst):
    first = make_article(project, "First article.\nLavrov said “the West is trying”.", language="en")
    second = make_article(project, "Second article.\nThe ministry repeated the claim.", language="en")
    UserFactory(username="newbie")
    # With k = 1 the first article is taken by the analyst already in the project.
    assert assignment_next(project=project, user=analyst) == first

    log_in(page, "projectadmin")
    page.goto(f"/p/{project.id}/")
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(f"**/p/{project.id}/members/")

    page.get_by_label("Username").click()
    page.keyboard.type("newbie")
    page.keyboard.press("Tab")  # to the role, which offers Analyst first for a newcomer
    assert page.get_by_label("Role", exact=True).input_value() == "analyst"
    with page.expect_response(f"**/p/{project.id}/members/add/"):
        page.get_by_role("button", name="Add member").click()
    page.get_by_role("status").filter(has_text="Added newbie as analyst.").wait_for()
    assert page.get_by_label("Role of newbie").input_value() == "analyst"
    assert Membership.objects.get(project=project, user__username="newbie").role == "analyst"

    overlap = page.get_by_label("Analysts per article")
    overlap.fill("2")
    with page.expect_response(f"**/p/{project.id}/settings/"):
        overlap.press("Enter")
    page.get_by_text("Each article now goes to 2 analysts.").wait_for()
    assert Project.objects.get(pk=project.pk).overlap == 2
    assert page.csp_errors == []

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")
    log_in(page, "newbie")
    page.goto(f"/p/{project.id}/")
    page.get_by_role("link", name="Label next article").click()
    # k = 2: the article the analyst has still has a free place.
    page.wait_for_url(f"**/p/{project.id}/a/{first.id}/")
    page.locator("#article-text", has_text="First article.").wait_for()

    page.get_by_label("Why skip this article?").fill("Not about foreign policy")
    page.get_by_role("button", name="Skip this article").click()
    page.wait_for_url(f"**/p/{project.id}/a/{second.id}/")
    page.locator("#article-text", has_text="Second article.").wait_for()

    mine = dict(Annotation.objects.filter(annotator__username="newbie").values_list("article_id", "status"))
    assert mine == {first.id: "skipped", second.id: "in_progress"}
    assert Annotation.objects.get(annotator__username="newbie", article=first).skip_reason == "Not about foreign policy"
    assert page.csp_errors == []


def test_admin_invites_someone_new_who_chooses_a_password_and_logs_in(page, project):
    log_in(page, "projectadmin")
    page.goto(f"/p/{project.id}/members/")
    page.get_by_label("Username or email").fill("marta.k@example.org")
    page.get_by_label("Role", exact=True).select_option("reviewer")
    with page.expect_response(f"**/p/{project.id}/members/add/"):
        page.get_by_role("button", name="Add member").click()
    page.get_by_role("status").filter(has_text="Invited marta.k@example.org as reviewer").wait_for()
    assert page.get_by_label("Role of marta.k@example.org").input_value() == "reviewer"
    assert page.csp_errors == []

    [message] = mail.outbox
    [link] = re.findall(r"http://\S+/accounts/reset/\S+/", message.body)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a long new passphrase")
    page.get_by_label("New password confirmation").fill("a long new passphrase")
    page.get_by_role("button", name="Set the password").click()
    page.wait_for_url("**/accounts/reset/done/")
    log_in(page, "marta.k@example.org", "a long new passphrase")
    page.goto(f"/p/{project.id}/")
    page.get_by_role("heading", name=project.name).wait_for()
    page.goto(link)
    page.get_by_text("This link has been used or is too old.").wait_for()
    assert page.csp_errors == []
