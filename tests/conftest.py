import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import sync_playwright

from .factories import ArticleFactory, UserFactory, make_project

# Hypothesis' deadline and its "too slow" health check time the machine, not the code (speed is
# measured by bench/, never asserted in tests): on a busy shared machine they fail correct code.
hypothesis_settings.register_profile("annotator", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("annotator")


@pytest.fixture
def analyst(db):
    return UserFactory(username="analyst")


@pytest.fixture
def other_user(db):
    return UserFactory(username="outsider")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="projectadmin")


@pytest.fixture
def project(analyst, admin_user):
    return make_project(analyst=analyst, admin=admin_user)


@pytest.fixture
def article(project):
    return ArticleFactory(project=project)


AXE = Path(__file__).resolve().parent / "browser" / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright for Python, one per test session."""
    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are
    # still plain synchronous code, which Django would otherwise refuse to run beside a loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The browser's and htmx's own lines for an HTTP error answer (a 409 for a stale page, a 422 for a
# refused change) or a request that never got one (a server that is down): tests provoke those on
# purpose, and the page's notice about them is what they check.
HTTP_ERROR_LINES = (
    "Failed to load resource: the server responded with a status of", "Failed to load resource: net::ERR_",
    "Response Status Error Code ",
)


@pytest.fixture
def page(browser, live_server):
    """A page of its own; the test fails on any console error or uncaught exception it raised
    (Content-Security-Policy violations included), unless the test expected it (`page.expected_errors`)."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    # axe-core for `axe_check`, in every document before the page's own scripts. Added by the
    # browser itself, so the page's Content-Security-Policy (rightly) has no say in it.
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.csp_errors = []
    page.console_errors = []
    page.expected_errors = []  # substrings of console errors the test provokes on purpose

    def console(message):
        if message.type != "error":
            return
        if "Content Security Policy" in message.text:
            page.csp_errors.append(message.text)
        if not message.text.startswith(HTTP_ERROR_LINES):
            page.console_errors.append(f"{message.text} at {message.location}")

    page.on("console", console)
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert unexpected_errors(page) == [], "console errors in the browser"


def unexpected_errors(page) -> list[str]:
    return [e for e in page.console_errors if not any(x in e for x in page.expected_errors)]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: rate limits and cached pages are keyed on ids, which
    SQLite gives out again after a test's rollback."""
    from django.core.cache import cache

    cache.clear()
