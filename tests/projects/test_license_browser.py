"""An admin chooses the datasets' licence on the members and settings page, and the next snapshot's card names it."""

import pytest

from annotator.projects.models import Project
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_chooses_the_licence_with_the_keyboard(page, project):
    log_in(page, "projectadmin")
    page.goto(f"/p/{project.id}/members/")
    licence = page.get_by_label("Dataset licence")
    assert licence.input_value() == "unknown"
    licence.select_option("cc-by-sa-4.0")
    with page.expect_response(f"**/p/{project.id}/settings/"):
        page.get_by_role("button", name="Save settings").click()
    page.get_by_role("status").filter(
        has_text="Dataset licence: CC BY-SA 4.0 (Creative Commons Attribution-ShareAlike)."
    ).wait_for()
    assert Project.objects.get(pk=project.pk).license == "cc-by-sa-4.0"
    # The swapped fragment shows the saved choice.
    assert page.get_by_label("Dataset licence").input_value() == "cc-by-sa-4.0"
    page.screenshot(path="/tmp/provenance-licence.png", full_page=True)
    assert page.csp_errors == []
