"""A quote's speaker is entered once on the labelling page: the link when the speaker is in the text."""

import pytest

from annotator.labelling.models import Span
from tests.browser.helpers import log_in, make_article, select_phrase
from tests.factories import UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_linking_the_speaker_replaces_the_typed_one_and_unlinking_gives_the_field_back(page):
    project = make_project(name="Speakers", analyst=[UserFactory(username="analyst1")])
    article = make_article(project, "Lavrov said: “NATO is expanding.”", title="Speaker", language="en")
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    select_phrase(page, "Lavrov")
    page.keyboard.press("s")
    page.locator("#article-text mark.span").first.wait_for()
    select_phrase(page, "NATO is expanding.")
    page.keyboard.press("q")
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 2")

    # The new quote is in the editor: a speaker typed first, then the link to the named one.
    page.get_by_label("Speaker", exact=True).fill("Sergei Lavrov")
    with page.expect_response("**/update/"):
        page.get_by_role("button", name="Save span").click()
    quote = Span.objects.get(label__name="Quote")
    assert quote.attributes == {"speaker": "Sergei Lavrov"}
    with page.expect_response("**/relations/"):
        page.locator("#span-editor").get_by_role("button", name="Link").click()
    page.locator("#span-editor .relations li").wait_for()

    speaker = page.get_by_label("Speaker", exact=True)
    assert speaker.is_disabled() and speaker.input_value() == "Lavrov"
    assert "Given by the speaker link" in page.locator("#span-editor").inner_text()
    assert Span.objects.get(pk=quote.pk).attributes == {}
    page.screenshot(path="/tmp/relations-labelling-speaker.png", caret="initial")

    with page.expect_response("**/delete/"):
        page.locator("#span-editor").get_by_role("button", name="Remove link speaker to Lavrov").click()
    page.wait_for_function("() => !document.querySelector('#span-editor .relations li')")
    assert page.get_by_label("Speaker", exact=True).is_enabled()
    assert errors == [] and page.csp_errors == []
