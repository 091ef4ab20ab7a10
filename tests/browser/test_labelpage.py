"""The labelling page in Chromium without dead ends (issue #14): the label menu at the selection,
focus after each action, Undo of a deletion, one span per key, and a layout that keeps the labels
and *Submit and next* on screen at 1280×720 and 800 px wide."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from annotator.labelling import services
from annotator.labelling.models import Annotation, Relation, Span

from tests.review.helpers import mark

from .helpers import log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots of the layout tests, for a person to look at (not compared by the tests).
SHOTS = Path(os.environ.get("LABELPAGE_SHOTS", "/tmp/labelpage-shots"))
SEED = Path(settings.BASE_DIR) / "fixtures" / "seeds" / "000_ae679646e52ec00c.txt"
TEXT = "Lavrov said: “NATO is expanding.”\nThe ministry repeated the claim."


@pytest.fixture
def page(page):
    """The page, with uncaught script errors and every console error collected too (`page.errors`)."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    return page


def open_article(page, project, text=TEXT, title="Keys"):
    article = make_article(project, text, title=title, language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.wait_for_selector("#article-text p")
    return article


def span_count(page, n):
    page.wait_for_function(f"() => document.querySelectorAll('#span-list li[id^=span-]').length === {n}")


def active(page) -> dict:
    return page.evaluate(
        "() => ({id: document.activeElement.id, text: document.activeElement.textContent.trim().slice(0, 40)})"
    )


def settled(page):
    """Nothing left in the page's queue of unsaved changes."""
    page.wait_for_function("() => Object.keys(localStorage).every(k => !k.startsWith('annotator:pending:'))")


def labelled(page, phrase, key, spans):
    """Select the phrase, press a label's key, and wait for the list to show `spans` spans."""
    select_phrase(page, phrase)
    page.keyboard.press(key)
    span_count(page, spans)


def test_the_label_menu_appears_beside_the_selection_with_its_keys(page, project):
    open_article(page, project)
    menu = page.locator("#selection-menu")
    assert menu.is_hidden()
    select_phrase(page, "NATO is expanding.")
    menu.wait_for(state="visible")
    assert re.sub(r"\s+", " ", menu.inner_text()).strip() == "Claim c Quote q Source s"
    selection = page.evaluate(
        "() => { const r = getSelection().getRangeAt(0).getBoundingClientRect();"
        " return {left: r.left, bottom: r.bottom}; }"
    )
    box = menu.bounding_box()
    assert 0 <= box["y"] - selection["bottom"] <= 12 and abs(box["x"] - selection["left"]) <= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "menu.png")

    menu.get_by_role("button", name=re.compile("^Quote")).click()
    page.locator("#article-text mark.span").first.wait_for()
    settled(page)
    [span] = Span.objects.all()
    assert (span.label.name, span.text) == ("Quote", "NATO is expanding.")
    assert menu.is_hidden()

    # Escape closes it without labelling anything.
    select_phrase(page, "ministry")
    menu.wait_for(state="visible")
    page.keyboard.press("Escape")
    assert menu.is_hidden() and Span.objects.count() == 1

    # From the keyboard: Tab into the menu, an arrow to the next label, Enter.
    select_phrase(page, "The ministry")
    menu.wait_for(state="visible")
    page.keyboard.press("Tab")
    assert active(page)["text"].startswith("Claim")
    page.keyboard.press("ArrowRight")
    assert active(page)["text"].startswith("Quote")
    page.keyboard.press("Enter")
    span_count(page, 2)
    settled(page)
    assert Span.objects.get(text="The ministry").label.name == "Quote"
    assert page.csp_errors == [] and page.errors == []


def test_a_label_key_pressed_twice_or_held_makes_one_span(page, project):
    open_article(page, project)
    select_phrase(page, "NATO is expanding.")
    page.keyboard.press("q")
    page.keyboard.press("q")
    span_count(page, 1)
    settled(page)
    # The second press is the same span: no request to select text first.
    assert page.locator("#save-status").is_hidden()
    select_phrase(page, "ministry")
    page.keyboard.down("s")
    page.keyboard.down("s")  # a held key repeats
    page.keyboard.down("s")
    page.keyboard.up("s")
    span_count(page, 2)
    settled(page)
    assert page.locator("#save-status").is_hidden()
    assert sorted(Span.objects.values_list("label__name", "text")) == [("Quote", "NATO is expanding."),
                                                                       ("Source", "ministry")]
    assert page.locator("#spans-heading").inner_text() == "Your spans (2)"
    assert page.csp_errors == [] and page.errors == []


def test_focus_and_notices_after_save_link_delete_and_undo(page, project):
    open_article(page, project)
    select_phrase(page, "NATO is expanding.")
    page.keyboard.press("q")
    page.locator("#article-text mark.span").first.wait_for()
    labelled(page, "Lavrov", "s", 2)
    settled(page)
    quote = Span.objects.get(label__name="Quote")
    page.locator(f"#span-{quote.id} .chip").click()
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")

    # Save span: the editor says so, and the keyboard is back in the text for the next label key.
    page.locator("#span-editor").get_by_label("Stance").select_option("critical")
    with page.expect_response("**/update/"):
        page.get_by_role("button", name="Save span").click()
    page.locator("#span-notice", has_text="Saved the Quote span at").wait_for()
    page.wait_for_function("() => document.activeElement.id === 'article-text'")

    # Link: focus goes to the list of links, which now holds it.
    with page.expect_response("**/relations/"):
        page.get_by_role("button", name="Link", exact=True).click()
    page.locator("#span-notice", has_text="Linked: speaker → “Lavrov”.").wait_for()
    page.wait_for_function("() => document.activeElement.id === 'span-links'")
    assert "speaker → Lavrov" in page.locator("#span-links").inner_text()

    # Delete: focus goes to Undo; Ctrl+Z (here from the text) brings the span back with its attributes.
    with page.expect_response("**/delete/"):
        page.get_by_role("button", name="Delete span").click()
    page.locator("#span-notice", has_text="Deleted the Quote span").wait_for()
    page.wait_for_function("() => document.activeElement.closest('#span-notice form.undo') !== null")
    assert not Span.objects.filter(label__name="Quote").exists()
    page.locator("#article-text").focus()
    with page.expect_response("**/spans/"):
        page.keyboard.press("Control+z")
    span_count(page, 2)
    settled(page)
    back = Span.objects.get(label__name="Quote")
    assert (back.start, back.end, back.attributes) == (quote.start, quote.end, {"stance": "critical"})
    page.wait_for_function("() => document.activeElement.id === 'article-text'")
    assert page.locator("#span-notice").inner_text().strip() == ""

    # And the Undo in the message, with the mouse.
    page.locator(f"#span-{back.id} .chip").click()
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{back.id}'")
    with page.expect_response("**/delete/"):
        page.get_by_role("button", name="Delete span").click()
    with page.expect_response("**/spans/"):
        page.locator("#span-notice").get_by_role("button", name=re.compile("^Undo")).click()
    span_count(page, 2)
    settled(page)
    assert Span.objects.filter(label__name="Quote", start=quote.start, end=quote.end).count() == 1
    assert page.csp_errors == [] and page.errors == []


def held_back(page, pattern):
    """Answers to the GETs matching `pattern`: each is read from the server at once (so the server
    answers before anything the test does next), and handed to the page only when the test calls
    `release(page, held[i])`, as a slow network would."""
    held = []
    page.ended_requests = ended = []
    page.on("requestfinished", lambda request: ended.append(request))
    page.on("requestfailed", lambda request: ended.append(request))  # the page may give up on one meanwhile

    def hold(route):
        if route.request.method != "GET":
            route.continue_()
            return
        held.append((route, route.fetch()))

    page.route(pattern, hold)
    return held


def wait_until(page, condition, what):
    for _ in range(250):
        if condition():
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"{what} never happened")


def release(page, answer):
    """Hand a held answer to the page, and wait until its request is over (it may have been given up)."""
    route, response = answer
    route.fulfill(response=response)
    wait_until(page, lambda: route.request in page.ended_requests, "the held request's end")
    # And the page's handling of it: a frame and a task later.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")


def delete_while_opening(page, opening, deleted_label, spans_left):
    """Click the chip of the span `opening`, its answer held back; delete the span whose editor is
    shown (a `deleted_label` span); then hand the opening's answer to the page."""
    held = held_back(page, f"**/spans/{opening.id}/")
    page.locator(f"#span-{opening.id} .chip").click()
    wait_until(page, lambda: held, "the opening's answer")
    with page.expect_response("**/delete/"):
        page.get_by_role("button", name="Delete span").click()
    page.locator("#span-notice", has_text=f"Deleted the {deleted_label} span").wait_for()
    span_count(page, spans_left)
    release(page, held[0])


def test_a_span_deleted_while_it_opens_stays_deleted_with_its_undo(page, project):
    """Opening a span (its chip) and deleting it from its editor before the opening's answer is in:
    the deletion's answer takes the span's list item, chip and all, out of the page first. The
    opening's answer, from before the deletion, must not open the deleted span again or take its
    Undo away (nor log htmx:oobErrorNoTarget, which the chip's answer did once the chip was gone)."""
    open_article(page, project)
    labelled(page, "NATO is expanding.", "q", 1)
    settled(page)
    quote = Span.objects.get()
    # Its editor is open already (a new span opens it); the analyst clicks its chip all the same.
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")
    delete_while_opening(page, quote, "Quote", spans_left=0)
    assert page.locator("#span-editor").get_attribute("data-span") == ""
    assert page.locator("#span-editor").get_by_text("Click a highlight").is_visible()
    assert page.locator("#article-text mark").count() == 0
    with page.expect_response("**/spans/"):
        page.locator("#span-notice").get_by_role("button", name=re.compile("^Undo")).click()
    span_count(page, 1)
    settled(page)
    assert Span.objects.get().text == "NATO is expanding."
    assert page.csp_errors == [] and page.errors == []


def test_a_span_deleted_while_another_opens_keeps_its_undo(page, project):
    """Opening one span (its chip), then deleting the span whose editor is still shown, before the
    opening's answer is in: the last thing done wins. The deletion's notice and its Undo stay; the
    opening's late answer does not replace them (it did: the other span's editor opened over the Undo)."""
    open_article(page, project)
    labelled(page, "NATO is expanding.", "q", 1)
    labelled(page, "Lavrov", "s", 2)
    settled(page)
    quote, speaker = Span.objects.get(label__name="Quote"), Span.objects.get(label__name="Source")
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{speaker.id}'")
    delete_while_opening(page, quote, "Source", spans_left=1)
    assert page.locator("#span-editor").get_attribute("data-span") == ""
    undo = page.locator("#span-notice").get_by_role("button", name=re.compile("^Undo"))
    assert undo.is_visible()
    with page.expect_response("**/spans/"):
        undo.click()
    span_count(page, 2)
    settled(page)
    assert set(Span.objects.values_list("text", flat=True)) == {"NATO is expanding.", "Lavrov"}
    assert page.csp_errors == [] and page.errors == []


def test_a_span_that_cannot_be_opened_says_so_and_opens_on_retry(page, project):
    """Opening a span while the server cannot be reached: the status bar says the span did not open
    (not that a change was lost: opening changes nothing), and its Retry opens it once the server is back."""
    open_article(page, project)
    labelled(page, "NATO is expanding.", "q", 1)
    labelled(page, "Lavrov", "s", 2)
    settled(page)
    quote = Span.objects.get(label__name="Quote")
    opening = f"**/spans/{quote.id}/"
    page.route(opening, lambda route: route.abort("internetdisconnected"))
    page.locator(f"#span-{quote.id} .chip").click()
    status = page.locator("#save-status")
    status.get_by_text("The server cannot be reached. The span did not open; nothing is lost.").wait_for()
    assert "not saved" not in status.inner_text()
    page.unroute(opening)
    status.get_by_role("button", name="Retry").click()
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")
    status.wait_for(state="hidden")
    assert page.locator("#span-editor blockquote").inner_text() == "NATO is expanding."
    # The failed fetch is the only console error.
    assert page.csp_errors == [] and all("internet_disconnected" in e.lower() for e in page.errors), page.errors


def test_a_span_opened_while_the_list_loads_again_opens(page, project, analyst):
    """Opening a span while the span list is loaded again (another tab changed the annotation, and
    this page's next answer said so): the list, the chip that asked included, is replaced before
    the opening's answer is in. The editor opens all the same (it did not: htmx looked for the
    answer's #span-editor and #span-notice under the chip, gone, and logged htmx:oobErrorNoTarget)."""
    article = open_article(page, project)
    labelled(page, "NATO is expanding.", "q", 1)
    labelled(page, "Lavrov", "s", 2)
    settled(page)
    quote = Span.objects.get(label__name="Quote")
    held = held_back(page, f"**/spans/{quote.id}/")
    page.locator(f"#span-{quote.id} .chip").click()
    wait_until(page, lambda: held, "the opening's answer")
    # Another tab marks "ministry"; this page's next change (a topic) answers from that version.
    mark(article, analyst, project.span_labels.get(name="Claim"), "ministry")
    with page.expect_response("**/labels/"):
        page.get_by_label("Armenia").check()
    span_count(page, 3)
    release(page, held[0])
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")
    assert page.locator("#span-editor blockquote").inner_text() == "NATO is expanding."
    assert page.locator("#span-notice").inner_text().strip() == ""
    settled(page)
    assert page.csp_errors == [] and page.errors == []


def test_undo_brings_back_a_deleted_spans_links(page, project):
    """Deleting a span takes its links with it; Undo (Ctrl+Z, or the button) brings them back too,
    whether the span was the link's source (the quote) or its target (the speaker)."""
    open_article(page, project)
    labelled(page, "Lavrov", "s", 1)
    labelled(page, "NATO is expanding.", "q", 2)
    settled(page)
    # The new quote's editor is open: link it to its speaker.
    quote = Span.objects.get(label__name="Quote")
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")
    with page.expect_response("**/relations/"):
        page.get_by_role("button", name="Link", exact=True).click()
    page.locator("#span-notice", has_text="Linked: speaker → “Lavrov”.").wait_for()
    link = ("speaker", "NATO is expanding.", "Lavrov")
    assert set(Relation.objects.values_list("type__name", "source__text", "target__text")) == {link}

    # The quote, the link's source: deleted with its link, and Ctrl+Z brings both back.
    with page.expect_response("**/delete/"):
        page.get_by_role("button", name="Delete span").click()
    page.locator("#span-notice", has_text="Deleted the Quote span “NATO is expanding.” and its 1 link.").wait_for()
    assert not Relation.objects.exists()
    with page.expect_response("**/spans/"):
        page.keyboard.press("Control+z")
    span_count(page, 2)
    settled(page)
    assert set(Relation.objects.values_list("type__name", "source__text", "target__text")) == {link}
    back = Span.objects.get(label__name="Quote")
    # The editor, open on the quote brought back, lists the link.
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{back.id}'")
    assert "speaker → NATO" not in page.locator("#span-editor").inner_text()
    assert "speaker → Lavrov" in page.locator("#span-links").inner_text()

    # The speaker, the link's target: deleted, then the Undo in the message brings the link back.
    source = Span.objects.get(label__name="Source")
    page.locator(f"#span-{source.id} .chip").click()
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{source.id}'")
    with page.expect_response("**/delete/"):
        page.get_by_role("button", name="Delete span").click()
    page.locator("#span-notice", has_text="Deleted the Source span “Lavrov” and its 1 link.").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "undo-with-links.png")
    assert not Relation.objects.exists()
    with page.expect_response("**/spans/"):
        page.locator("#span-notice").get_by_role("button", name=re.compile("^Undo")).click()
    span_count(page, 2)
    settled(page)
    assert set(Relation.objects.values_list("type__name", "source__text", "target__text")) == {link}
    # Opened again, the quote lists its link to the speaker brought back.
    quote = Span.objects.get(label__name="Quote")
    page.locator(f"#span-{quote.id} .chip").click()
    page.wait_for_function(f"() => document.getElementById('span-editor').dataset.span === '{quote.id}'")
    assert "speaker → Lavrov" in page.locator("#span-links").inner_text()
    assert page.csp_errors == [] and page.errors == []


def test_a_reviewed_article_is_read_only_and_says_why(page, project, analyst, admin_user):
    article = make_article(project, TEXT, title="Reviewed", language="en")
    annotation = services.annotation_get_or_create(article=article, annotator=analyst)
    services.annotation_submit(annotation=annotation)
    Annotation.objects.create(article=article, annotator=admin_user, kind="gold", status="submitted")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    assert "marked this article reviewed" in page.locator("#standing").inner_text()
    select_phrase(page, "NATO is expanding.")
    page.keyboard.press("q")
    page.keyboard.press("Shift+Enter")  # nothing to submit: no error either
    assert page.locator(".label-button").count() == 0 and page.locator("#submit-next").count() == 0
    assert page.locator("#selection-menu").count() == 0
    assert Span.objects.count() == 0
    assert page.errors == []
    assert page.csp_errors == [] and page.errors == []


def in_view(box, width, height) -> bool:
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and (
        box["y"] + box["height"] <= height
    )


@pytest.mark.parametrize("width, height", [(1280, 720), (800, 720)])
def test_labels_and_submit_are_on_screen_beside_or_above_a_long_article(page, project, width, height):
    page.set_viewport_size({"width": width, "height": height})
    open_article(page, project, SEED.read_text(encoding="utf-8"), title="A long seed article")
    # The editor open too, as it is after a label key.
    select_phrase(page, "Western countries are trying")
    page.keyboard.press("q")
    page.locator("#article-text mark.span").first.wait_for()
    settled(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"labelling-{width}x{height}.png")

    assert page.evaluate("() => window.scrollY") == 0
    for selector in ["#submit-next", *[f".label-buttons .label-button >> nth={n}" for n in range(3)]]:
        assert in_view(page.locator(selector).bounding_box(), width, height), selector
    text = page.locator("#article-text").bounding_box()
    side = page.locator("aside.side").bounding_box()
    assert text["height"] > height  # a long article: below it would be off screen
    beside = side["x"] >= text["x"] + text["width"] - 1 and side["y"] < height
    above = side["y"] + side["height"] <= text["y"] + 1
    assert beside or above
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert page.csp_errors == [] and page.errors == []
