"""The import page in Chromium: htmx upload with progress, and the same form without JavaScript."""

import json
import re
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

    page.get_by_label("Files", exact=True).set_input_files([FIXTURES / "news-page.html", FIXTURES / "articles.csv", *SEEDS])
    page.get_by_role("button", name="Import", exact=True).click()

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

    page.get_by_label("Files", exact=True).set_input_files([FIXTURES / "articles.csv", bad])
    page.get_by_role("button", name="Import", exact=True).click()

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
        page.get_by_role("button", name="Import", exact=True).click()

        page.get_by_role("heading", name="Imported 1 article").wait_for()
        assert page.get_by_role("link", name="Lavrov in Tehran").is_visible()
        assert Article.objects.get(project=project).text.startswith("Lavrov in Tehran\n\n")
    finally:
        context.close()


def test_a_large_upload_becomes_a_job_whose_page_shows_progress_then_the_result(
    page, project, admin_user, settings, tmp_path
):
    """Two JSONL files over the inline size: the browser goes to the job's page, which polls while a
    worker (django-tasks-db's, run here in the test) imports them, then lists the articles; a poll
    that fails says only that the page is behind."""
    from django_tasks_db.management.commands.db_worker import Worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path / "imports"
    settings.ANNOTATOR_IMPORT_INLINE_BYTES = 1024
    files = []
    for number in range(2):
        path = tmp_path / f"wire-{number}.jsonl"
        rows = [{"title": f"Wire story {number}-{i}", "text": f"Wire story {number}-{i}. Lavrov spoke in Tehran about the grain deal."}
                for i in range(40)]
        path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
        files.append(path)
    log_in(page, admin_user.username)
    page.goto(f"/p/{project.id}/import/")

    page.get_by_label("Files", exact=True).set_input_files(files)
    page.get_by_role("button", name="Import", exact=True).click()

    page.wait_for_url(re.compile(rf"/p/{project.id}/import/jobs/[0-9a-f-]+/$"))
    page.get_by_role("heading", name="Import of articles").wait_for()
    assert page.get_by_label("Waiting for a worker").is_visible()
    assert page.locator("#import-job").get_attribute("data-status") == "queued"
    assert Article.objects.count() == 0

    # While the server cannot be reached the poll fails: the status bar says the page is behind,
    # not that a change was lost, and the notice goes once a poll gets through again.
    polls = re.compile(rf".*/p/{project.id}/import/jobs/[0-9a-f-]+/$")
    # The browser's line for each aborted request, and htmx's own for its failure events.
    page.expected_errors += ["ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest"]
    page.route(polls, lambda route: route.abort("internetdisconnected"))
    status = page.locator("#save-status")
    status.get_by_text("The server cannot be reached. This part of the page is not up to date; nothing is lost.").wait_for()
    assert "not saved" not in status.inner_text()
    page.unroute(polls)
    status.wait_for(state="hidden")

    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="browser-test", excluded_queue_names=[])
    worker.run()

    # The page polls: the result replaces the progress bar without a reload.
    page.get_by_role("heading", name="Imported 80 articles").wait_for()
    assert page.locator("#import-job").get_attribute("data-status") == "done"
    assert page.get_by_role("link", name="Wire story 1-39").is_visible()
    assert Article.objects.filter(project=project).count() == 80
    assert page.csp_errors == []

    # The import page lists it; the keyboard follows the link back to it.
    page.goto(f"/p/{project.id}/import/")
    jobs = page.get_by_role("table")
    assert "wire-0.jsonl" in jobs.inner_text() and "Imported" in jobs.inner_text()
    jobs.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Imported 80 articles").wait_for()


def test_too_many_files_are_refused_with_the_limit_shown(page, project, admin_user, settings, tmp_path):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    page.expected_errors.append("status of 400")  # the browser's own line for the refused request
    files = []
    for n in range(4):
        files.append(tmp_path / f"a{n}.txt")
        files[-1].write_text(f"Article number {n} of the batch.")
    log_in(page, admin_user.username)
    page.goto(f"/p/{project.id}/import/")
    assert "Choose several files at once (up to 3)" in page.locator("#files-help").inner_text()

    page.get_by_label("Files", exact=True).set_input_files(files)
    page.get_by_role("button", name="Import", exact=True).click()

    failure = page.locator("#upload-failure")
    failure.wait_for()
    assert failure.inner_text() == (
        "The import did not start. An upload takes at most 3 files at once, and nothing was imported. "
        "Upload the files in several batches."
    )
    assert Article.objects.count() == 0
    axe_check(page)
