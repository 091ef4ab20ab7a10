import os

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


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: m.type == "error" and "Content Security Policy" in m.text and page.csp_errors.append(m.text))
    page.set_default_timeout(10_000)
    yield page
    context.close()
