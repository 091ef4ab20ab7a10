"""No lost work and no dead ends: changes survive a lost session, a reload and a server that is
down, and a refused or failed change says what happened on the page instead of replacing it."""

import pytest

from annotator.labelling import services
from annotator.labelling.models import Annotation, Relation, Span
from tests.factories import UserFactory, make_project
from tests.review.helpers import choose, mark, submit

from .helpers import log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Lavrov said “NATO is expanding” today."
UNSAVED = "#unsaved li"


def watch_errors(page):
    """Script errors and console errors; not the browser's own line for each request the test makes fail."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and errors.append(f"{m.text} at {m.location}"))
    return errors


def stored(page, project, article, analyst):
    return page.evaluate(f"() => localStorage.getItem('annotator:pending:{project.id}-{article.id}-{analyst.pk}')")


def unsaved_highlights(page):
    return page.evaluate("() => CSS.highlights.has('unsaved') ? CSS.highlights.get('unsaved').size : 0")


def log_in_elsewhere(page, username="analyst1"):
    """Log in again in another tab of the same browser, as an analyst whose session expired would."""
    other = page.context.new_page()
    log_in(other, username)
    other.close()


def test_a_pending_highlight_is_sent_after_logging_in_again_and_reloading(page, project, analyst):
    article = make_article(project, TEXT, title="Expiry", language="en")
    errors = watch_errors(page)
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.context.clear_cookies(name="sessionid")
    select_phrase(page, "NATO is expanding")
    page.keyboard.press("q")
    page.locator("#save-status").get_by_text("session has expired").wait_for()
    assert page.locator(UNSAVED).all_inner_texts() == ["Quote “NATO is expanding”"]
    assert unsaved_highlights(page) == 1
    assert not Span.objects.exists()

    log_in_elsewhere(page)
    page.reload()
    page.locator("#article-text mark.span").first.wait_for()
    page.locator("#unsaved").wait_for(state="hidden")
    assert [(s.text, s.label.name) for s in Span.objects.all()] == [("NATO is expanding", "Quote")]
    assert stored(page, project, article, analyst) is None
    assert unsaved_highlights(page) == 0
    assert page.locator("#save-status").is_hidden()
    page.reload()  # nothing is sent twice
    page.locator("#article-text mark.span").first.wait_for()
    assert Span.objects.count() == 1
    assert errors == []


def test_every_kind_of_change_survives_a_lost_session_a_reload_and_a_server_that_is_down(page, project, analyst):
    article = make_article(project, TEXT, title="Everything", language="en")
    labels = {label.name: label for label in project.span_labels.all()}
    quote = mark(article, analyst, labels["Quote"], "NATO is expanding")
    source = mark(article, analyst, labels["Source"], "Lavrov")
    url = f"/p/{project.id}/a/{article.id}/"
    errors = watch_errors(page)
    log_in(page, "analyst1")
    page.goto(url)
    page.locator(f"#span-{quote.id} .chip").click()
    page.get_by_label("Stance", exact=True).wait_for()

    # The session ends; the analyst goes on working: attributes, a link, topics, stance, a highlight.
    page.context.clear_cookies(name="sessionid")
    # (The quote's stance: its speaker is the link below, never typed beside it.)
    page.get_by_label("Stance", exact=True).select_option("critical")
    page.get_by_role("button", name="Save span").click()
    page.locator("#save-status").get_by_text("session has expired").first.wait_for()
    page.get_by_role("button", name="Link", exact=True).click()
    page.get_by_label("Armenia").check()
    page.get_by_label("Toward the West").select_option(label="critical")
    # Each failed save adds its notice above the text: once all three are there, the text stops
    # moving, and the drag below selects what it measured.
    page.wait_for_function("() => document.querySelectorAll('#unsaved li').length === 3")
    page.evaluate("() => window.scrollTo(0, 0)")  # back up to the text, below the notices
    select_phrase(page, "today")
    page.keyboard.press("c")
    page.wait_for_function("() => document.querySelectorAll('#unsaved li').length === 4")
    expected = ["Label and attributes of “NATO is expanding”", "Link speaker from “NATO is expanding”",
                "Topics and stance", "Claim “today”"]
    assert page.locator(UNSAVED).all_inner_texts() == expected
    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert Span.objects.get(pk=quote.pk).attributes == {}
    assert not Relation.objects.exists() and not annotation.topics.exists() and not annotation.stances.exists()
    assert Span.objects.count() == 2

    # The server goes down; the analyst logs in again (in another tab) and reloads the page: every
    # change is still there, shown as unsaved in the text and the panels.
    page.route("**/p/**", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    log_in_elsewhere(page)
    page.reload()
    page.locator("#save-status").get_by_text("cannot be reached").first.wait_for()
    assert page.locator(UNSAVED).all_inner_texts() == expected
    # What the analyst wrote or selected is isolated in the notices, so an Arabic highlight cannot reorder them.
    assert page.locator("#unsaved li > bdi").all_inner_texts() == expected
    assert "Claim “today”" in page.locator("#save-status p.problem > bdi").all_inner_texts()
    assert page.get_by_label("Armenia").is_checked()
    assert page.get_by_label("Toward the West").input_value() == str(project.stance_values.get(name="critical").id)
    assert "unsaved" in page.locator("#document-labels").get_attribute("class")
    assert "not saved yet" in page.locator("#document-labels [role=status]").inner_text().lower()
    assert "unsaved" in page.locator(f"#span-{quote.id}").get_attribute("class")
    assert page.locator(f'#article-text mark.unsaved[data-span="{quote.id}"]').count() == 1
    assert page.locator(f'#article-text mark.unsaved[data-span="{source.id}"]').count() == 0
    assert unsaved_highlights(page) == 1
    assert Span.objects.count() == 2 and Span.objects.get(pk=quote.pk).attributes == {}

    # The server is back: one key press sends everything, with the new session's token.
    page.unroute("**/p/**")
    page.locator("body").press("r")
    page.locator("#unsaved").wait_for(state="hidden")
    page.locator("#save-status").wait_for(state="hidden")
    assert Span.objects.get(pk=quote.pk).attributes == {"stance": "critical"}
    links = [(r.type.name, r.source_id, r.target_id) for r in Relation.objects.all()]
    assert links == [("speaker", quote.id, source.id)]
    assert [t.name for t in annotation.topics.all()] == ["Armenia"]
    assert [(s.target.name, s.value.name) for s in annotation.stances.all()] == [("the West", "critical")]
    assert sorted(Span.objects.values_list("text", flat=True)) == ["Lavrov", "NATO is expanding", "today"]
    assert stored(page, project, article, analyst) is None
    assert page.locator("#article-text mark.unsaved").count() == 0 and unsaved_highlights(page) == 0
    page.reload()
    page.locator("#article-text mark.span").first.wait_for()
    assert Span.objects.count() == 3 and Relation.objects.count() == 1
    assert errors == [] and page.csp_errors == []


def test_topics_changed_twice_while_the_first_is_on_its_way_are_both_saved(page, project, analyst):
    article = make_article(project, TEXT, title="Twice", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    # Hold every answer back a moment, as a slow network would: the second change waits for the first.
    page.evaluate("""() => {
      const fetch = window.fetch;
      window.fetch = (...args) => fetch(...args).then((r) => new Promise((done) => setTimeout(() => done(r), 400)));
    }""")
    page.get_by_label("Armenia").check()
    page.get_by_label("Ukraine").check()
    page.locator("#document-labels [role=status]").get_by_text("Saved at").wait_for()
    page.locator("#unsaved").wait_for(state="hidden")
    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert sorted(t.name for t in annotation.topics.all()) == ["Armenia", "Ukraine"]
    assert page.locator("#save-status").is_hidden()


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_saving_a_span_another_tab_deleted_says_so_and_reloads(settings, page, project, analyst, debug):
    # With DEBUG on (the quick start) as in production: the app's own message, never Django's error page.
    settings.DEBUG = debug
    article = make_article(project, TEXT, title="Deleted", language="en")
    labels = {label.name: label for label in project.span_labels.all()}
    quote = mark(article, analyst, labels["Quote"], "NATO is expanding")
    other_span = mark(article, analyst, labels["Source"], "Lavrov")
    url = f"/p/{project.id}/a/{article.id}/"
    errors = watch_errors(page)
    log_in(page, "analyst1")
    page.goto(url)
    page.locator(f"#span-{quote.id} .chip").click()
    page.get_by_label("Speaker", exact=True).wait_for()

    other = page.context.new_page()
    other.goto(url)
    other.locator(f"#span-{quote.id} .chip").click()
    other.get_by_role("button", name="Delete span").click()
    other.locator(f"#span-{quote.id}").wait_for(state="detached")
    other.close()

    page.get_by_label("Speaker", exact=True).fill("Lavrov")
    with page.expect_response(f"**/spans/{quote.id}/update/") as answer:
        page.get_by_role("button", name="Save span").click()
    assert answer.value.status == 404
    page.locator("#save-status").get_by_text("This span no longer exists").wait_for()
    page.locator(f"#span-{quote.id}").wait_for(state="detached")
    assert page.get_by_role("heading", name="Deleted").is_visible()
    assert page.locator("#span-editor").get_by_text("Click a highlight").is_visible()
    assert page.locator("#article-text mark").count() == 1
    assert page.locator("#save-status").get_by_role("button", name="Retry").count() == 0
    assert page.locator("#unsaved").is_hidden()
    assert [s.id for s in Span.objects.all()] == [other_span.id]
    assert errors == []


def test_opening_a_span_another_tab_deleted_says_so_with_debug_on(settings, page, project, analyst):
    settings.DEBUG = True
    article = make_article(project, TEXT, title="Gone", language="en")
    quote = mark(article, analyst, project.span_labels.get(name="Quote"), "NATO is expanding")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    services.span_delete(span=Span.objects.get(pk=quote.pk))  # from another tab
    page.locator(f"#span-{quote.id} .chip").click()
    page.locator("#save-status").get_by_text("This span no longer exists").wait_for()
    page.locator(f"#span-{quote.id}").wait_for(state="detached")
    assert page.get_by_role("heading", name="Gone").is_visible()
    assert page.locator("#no-spans").is_visible()


def test_the_review_page_drops_an_error_once_the_save_that_fixes_it_succeeds(page):
    analysts = [UserFactory(username="analyst1"), UserFactory(username="analyst2")]
    project = make_project(name="Review project", analyst=analysts, reviewer=[UserFactory(username="reviewer1")])
    article = make_article(project, TEXT, title="Fixed", language="en")
    for analyst in analysts:
        choose(article, analyst, topics=["Armenia"])
        submit(article, analyst)
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")

    page.get_by_label("Gold topic: Syria").check()
    with page.expect_response("**/labels/") as answer:
        page.get_by_role("button", name="Save gold topics and stance").click()
    assert answer.value.status == 422
    page.locator("#save-status").get_by_text("say why in the reason").wait_for()

    page.get_by_label("Reason (required when your choice overrules an analyst's)").fill("Syria is discussed too.")
    with page.expect_response("**/labels/") as answer:
        page.get_by_role("button", name="Save gold topics and stance").click()
    assert answer.value.status == 200
    page.locator("#save-status").wait_for(state="hidden")
    gold = Annotation.objects.get(article=article, kind=Annotation.Kind.GOLD)
    assert sorted(t.name for t in gold.topics.all()) == ["Syria"]


def test_retry_after_logging_in_again_sends_the_topics_with_the_new_token(page, project, analyst):
    # The issue's own steps: the session expires, the analyst logs in again in another tab (which
    # gives a new CSRF token) and presses Retry on the page they were working in, without reloading.
    article = make_article(project, TEXT, title="Retry", language="en")
    errors = watch_errors(page)
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.context.clear_cookies(name="sessionid")
    select_phrase(page, "NATO is expanding")
    page.keyboard.press("q")
    page.get_by_label("Syria").check()
    page.wait_for_function("() => document.querySelectorAll('#save-status .retry').length === 2")

    log_in_elsewhere(page)
    for change in ["Topics and stance", "NATO is expanding"]:
        page.locator("#save-status .problem", has_text=change).get_by_role("button", name="Retry").click()
    page.locator("#unsaved").wait_for(state="hidden")
    page.locator("#document-labels [role=status]").get_by_text("Saved at").wait_for()
    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert [t.name for t in annotation.topics.all()] == ["Syria"]
    assert [s.text for s in annotation.spans.all()] == ["NATO is expanding"]
    assert page.locator("#save-status").is_hidden()
    assert errors == []


def test_an_htmx_form_retried_after_logging_in_again_uses_the_new_token(page):
    # The review page's forms carry the token they were rendered with; the new one must win.
    analysts = [UserFactory(username="analyst1"), UserFactory(username="analyst2")]
    project = make_project(name="Review project", analyst=analysts, reviewer=[UserFactory(username="reviewer1")])
    article = make_article(project, TEXT, title="Token", language="en")
    quote = mark(article, analysts[0], project.span_labels.get(name="Quote"), "NATO is expanding")
    for analyst in analysts:
        submit(article, analyst)
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    page.context.clear_cookies(name="sessionid")
    with page.expect_response("**/accept/") as answer:
        page.get_by_role("button", name="Accept analyst1's Quote").click()
    assert answer.value.status == 401
    log_in_elsewhere(page, "reviewer1")
    with page.expect_response("**/accept/") as answer:
        page.locator("#save-status").get_by_role("button", name="Retry").click()
    assert answer.value.status == 200
    page.locator("#save-status").wait_for(state="hidden")
    gold = Annotation.objects.get(article=article, kind=Annotation.Kind.GOLD)
    assert [(s.text, s.start) for s in gold.spans.all()] == [("NATO is expanding", quote.start)]


def test_not_found_and_forbidden_pages_have_the_site_header_and_a_way_back(page, project):
    log_in(page, "analyst1")
    for path, heading in [("/no-such-page/", "This page does not exist"),
                          (f"/p/{project.id}/review/", "You cannot open this page")]:
        response = page.goto(path)
        assert response.status == (404 if "no-such" in path else 403)
        assert page.get_by_role("heading", name=heading).is_visible()
        assert page.locator(".site-header").get_by_text("analyst1").is_visible()
        page.get_by_role("link", name="Back to your projects").click()
        page.get_by_role("link", name="Test project").wait_for()
    assert page.csp_errors == []


def test_the_review_page_drops_an_error_once_another_save_shows_the_review_anew(page):
    analysts = [UserFactory(username="analyst1"), UserFactory(username="analyst2")]
    project = make_project(name="Review project", analyst=analysts, reviewer=[UserFactory(username="reviewer1")])
    article = make_article(project, TEXT, title="Other save", language="en")
    mark(article, analysts[0], project.span_labels.get(name="Quote"), "NATO is expanding")
    for analyst in analysts:
        choose(article, analyst, topics=["Armenia"])
        submit(article, analyst)
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/review/{article.id}/")
    page.get_by_label("Gold topic: Syria").check()
    page.get_by_role("button", name="Save gold topics and stance").click()
    page.locator("#save-status").get_by_text("say why in the reason").wait_for()

    with page.expect_response("**/accept/") as answer:
        page.get_by_role("button", name="Accept analyst1's Quote").click()
    assert answer.value.status == 200
    page.locator("#save-status").wait_for(state="hidden")
    # The review shown is the server's: the refused topic is not checked.
    assert not page.get_by_label("Gold topic: Syria").is_checked()
