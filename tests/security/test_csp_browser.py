"""In Chromium, the pages raise no Content-Security-Policy violation while they are used, and
hostile text on them never runs."""

from pathlib import Path

import pytest

from annotator.corpus.models import Article
from annotator.labelling.models import Span
from tests.browser.helpers import axe_check, log_in, make_article, select_phrase
from tests.conftest import unexpected_errors
from tests.factories import UserFactory, make_project

from .inert import FULL, IMG, SCRIPT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"

# Violations as the page itself reports them, beside the console errors the `page` fixture keeps.
WATCH = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
"""


@pytest.fixture
def watched(page):
    page.context.add_init_script(WATCH)
    page.dialogs = []

    def dismiss(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return page


def violations(page):
    return page.evaluate("() => window.cspViolations")


def assert_clean(page):
    assert violations(page) == []
    assert page.csp_errors == []
    assert page.dialogs == []


@pytest.fixture
def people(db):
    analyst = UserFactory(username="analyst1")
    lead = UserFactory(username="lead")
    project = make_project(name="CSP project", analyst=analyst, admin=lead)
    article = make_article(project, "Lavrov said “the West is trying to pull Armenia away”.\nSecond line.")
    return project, article


def test_login_project_labelling_and_import_pages_raise_no_violation(watched, people):
    page = watched
    project, article = people

    page.goto("/accounts/login/")
    assert_clean(page)
    axe_check(page)
    log_in(page, "lead")
    assert_clean(page)

    page.get_by_role("link", name="CSP project").click()
    page.wait_for_url(f"**/p/{project.id}/")
    assert_clean(page)

    page.get_by_role("link", name=article.title).click()
    page.wait_for_selector("#article-text")
    select_phrase(page, "the West is trying")
    page.keyboard.press("q")
    page.locator("#article-text mark.span").first.wait_for()
    page.get_by_label("Speaker").fill("Lavrov")
    with page.expect_response("**/update/"):
        page.get_by_role("button", name="Save span").click()
    with page.expect_response("**/labels/"):
        page.get_by_label("Armenia").check()
    page.get_by_role("button", name="Keyboard help").click()
    page.locator("#help").wait_for(state="visible")
    page.keyboard.press("Escape")
    assert Span.objects.get().attributes == {"speaker": "Lavrov"}
    assert_clean(page)

    page.goto(f"/p/{project.id}/import/")
    page.get_by_label("Title", exact=False).first.fill("Pasted article")
    page.get_by_label("Text", exact=True).fill("Pasted article\n\nSomething was said.")
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("#import-result").get_by_role("heading", name="Imported 1 article").wait_for()
    page.get_by_label("Files", exact=True).set_input_files([FIXTURES / "articles.csv"])
    page.get_by_role("button", name="Import", exact=True).click()
    page.locator("#import-result").get_by_role("heading", name="Imported 2 articles").wait_for()
    assert Article.objects.filter(project=project).count() == 4
    assert_clean(page)


def test_a_violation_would_be_seen(watched, people):
    page = watched
    page.goto("/accounts/login/")

    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                              document.body.append(s); }""")

    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in v for v in violations(page))
    # The `page` fixture fails any test whose page logged it, unless the test expected it.
    page.wait_for_function("() => true")
    assert any("Content Security Policy" in e for e in unexpected_errors(page))
    page.expected_errors.append("Content Security Policy")


def test_hostile_text_never_runs_in_the_browser(watched, people):
    page = watched
    project, _ = people
    hostile = make_article(project, f"Title {FULL}\nText {SCRIPT} and {IMG}.", title=f"Title {FULL}")
    log_in(page, "lead")

    page.goto(f"/p/{project.id}/")
    page.goto(f"/p/{project.id}/a/{hostile.id}/")
    page.wait_for_selector("#article-text")

    assert page.locator("h1").inner_text() == f"Title {FULL}"
    assert page.locator("#article-text img").count() == 0
    assert page.locator("#article-text script").count() == 0
    assert SCRIPT in page.locator("#article-text").inner_text()
    assert_clean(page)


def test_htmx_swaps_on_the_review_page_raise_no_violation(watched, people):
    """htmx's settling copies the old elements' attributes onto the new ones; a `style` attribute
    (one that script or the browser left, as a screenshot's hidden caret does) copied that way is
    an inline style the policy refuses, so the page tells htmx not to settle `style`."""
    page = watched
    project, article = people
    from annotator.projects.models import Membership
    from tests.review.helpers import mark, submit

    reviewer = UserFactory(username="reviewer1")
    Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    quote = project.span_labels.get(name="Quote")
    span = mark(article, project.memberships.get(role="analyst").user, quote, "the West is trying")
    submit(article, span.annotation.annotator)
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    # Every input and textarea of the review, as the next swap finds them, has a style attribute.
    page.screenshot(caret="hide")
    assert page.evaluate("() => document.querySelectorAll('#review input[style], #review textarea[style]').length") > 0
    with page.expect_response(lambda r: "/accept/" in r.url and r.status == 200):
        page.locator(f"#accept-{span.id} button").click()
    page.locator("#gold-spans li[id^=gold-]").first.wait_for()
    page.wait_for_timeout(100)  # past htmx's settle delay (20 ms), when the attributes are copied
    assert_clean(page)
