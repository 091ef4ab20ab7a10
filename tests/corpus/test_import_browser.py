"""The import page in Chromium: htmx upload with progress, and the same form without JavaScript."""

from pathlib import Path

import pytest

from annotator.corpus.models import Article
from tests.browser.helpers import axe_check, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
SEEDS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "seeds").glob("*.txt"))


def test_upload_several_files_with_htmx(page, project, admin_user):
    log_in(page, admin_user.username)
    page.goto(f"/p/{project.id}/import/")
    axe_check(page)
    # A full page load would drop this; an htmx swap keeps it.
    page.evaluate("() => { window.stillHere = true; }")
    progress_seen = page.evaluate_handle(
        """() => { const seen = {value: 0};
                   document.getElementById('import-form').addEventListener('htmx:xhr:progress',
                     () => { seen.value = document.getElementById('upload-progress').value; });
                   return seen; }"""
    )

    page.get_by_label("Files").set_input_files([FIXTURES / "news-page.html", FIXTURES / "articles.csv", *SEEDS])
    page.get_by_role("button", name="Import").click()

    result = page.locator("#import-result")
    result.get_by_role("heading", name="Imported 8 articles").wait_for()
    assert page.evaluate("() => window.stillHere") is True
    assert progress_seen.evaluate("seen => seen.value") > 0
    assert page.locator("#upload-status").is_hidden()
    assert result.get_by_role("link", name="Lavrov accuses West of courting Armenia").is_visible()
    assert Article.objects.filter(project=project).count() == 8
    axe_check(page)
    assert page.csp_errors == []


def test_a_bad_file_is_listed_and_nothing_imported(page, project, admin_user, tmp_path):
    bad = tmp_path / "cafe.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    log_in(page, admin_user.username)
    page.goto(f"/p/{project.id}/import/")

    page.get_by_label("Files").set_input_files([FIXTURES / "articles.csv", bad])
    page.get_by_role("button", name="Import").click()

    alert = page.locator("#import-result [role=alert]")
    alert.wait_for()
    assert "cafe.txt: is not UTF-8 text" in alert.inner_text()
    assert Article.objects.count() == 0


def test_paste_without_javascript(browser, live_server, project, admin_user):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, admin_user.username)
        page.goto(f"/p/{project.id}/import/")
        page.get_by_label("Title").fill("Lavrov in Tehran")
        page.get_by_label("Text", exact=True).fill("Lavrov met his counterparts from Iran and Turkey in Tehran.")
        page.get_by_role("button", name="Import").click()

        page.get_by_role("heading", name="Imported 1 article").wait_for()
        assert page.get_by_role("link", name="Lavrov in Tehran").is_visible()
        assert Article.objects.get(project=project).text.startswith("Lavrov in Tehran\n\n")
    finally:
        context.close()
