"""The tokens page and the API's docs page in Chromium, as a data engineer uses them."""

import json
import urllib.request

import pytest

from tests.browser.helpers import axe_check, log_in
from tests.factories import UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_make_use_and_revoke_a_token(page, live_server):
    user = UserFactory(username="engineer")
    make_project(name="Crawled news", analyst=user)
    log_in(page, "engineer")
    page.goto("/account/tokens/")
    page.get_by_label("Name").fill("crawler")
    page.get_by_role("button", name="Make token").click()
    secret = page.get_by_role("textbox", name="Token", exact=True).input_value()
    assert secret.startswith("ann_")
    axe_check(page)

    request = urllib.request.Request(f"{live_server.url}/api/v1/projects/", headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request) as response:
        assert [p["name"] for p in json.load(response)["results"]] == ["Crawled news"]

    page.goto("/account/tokens/")
    assert secret not in page.content()  # shown once
    row = page.locator("tr", has_text="crawler")
    assert "never" not in row.inner_text()  # last used: just now
    row.get_by_role("button", name="Revoke the token crawler").click()
    page.get_by_text("The token was revoked").wait_for()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 401
    refused.value.close()
    assert page.csp_errors == []


def test_the_docs_page_lists_the_routes_from_the_served_schema(page, live_server):
    UserFactory(username="engineer")
    log_in(page, "engineer")
    page.goto("/api/v1/docs")
    page.get_by_text("/api/v1/projects/{project_id}/articles/{article_id}/spans").first.wait_for()
    assert page.locator(".opblock").count() >= 15
    page.screenshot(path="/tmp/api-docs.png", full_page=False)
    assert page.csp_errors == []
