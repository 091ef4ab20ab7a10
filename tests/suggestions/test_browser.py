"""Issue #15's "Done when", for the rule suggesters, in Chromium: an analyst opens an imported article,
sees suggested quotes, speakers and topics, accepts two with keys, rejects one, submits; the export
shows where the spans came from."""

import json
from pathlib import Path

import pytest

from annotator.corpus.services import article_import
from annotator.labelling.models import Annotation, Relation, Span
from annotator.suggestions.models import SuggestionDecision
from tests.browser.helpers import axe_check, log_in
from tests.factories import UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Talks in Yerevan\n"
    "“We are ready to talk with the West,” said Foreign Minister Sergei Lavrov in Yerevan.\n"
    "According to TASS, the talks on Armenia failed.\n"
    "وقال لافروف إن «روسيا مستعدة للحوار مع الغرب»."
)


def ghosts(page) -> list[str]:
    """The text each ghost highlight covers (the focused one included)."""
    return page.evaluate("""() => ['suggested', 'suggested-focus'].flatMap((name) =>
        Array.from(CSS.highlights.get(name) || []).map((range) => range.toString()))""")


def test_accept_two_with_keys_reject_one_submit_and_export(page):
    project = make_project(name="Suggested", analyst=[UserFactory(username="analyst1")])
    # Imported as every import is: its suggestions are computed by the task once the import
    # commits (the tests' immediate backend runs it then; tests/suggestions/test_worker.py runs
    # it in a real worker process).
    [article] = article_import(project=project, files=[("talks.txt", TEXT.encode())]).created
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")

    items = page.locator("#suggestions li.suggestion")
    assert items.count() == 6
    assert sorted(ghosts(page)) == sorted([
        "We are ready to talk with the West", "Foreign Minister Sergei Lavrov", "TASS",
        "روسيا مستعدة للحوار مع الغرب", "لافروف",
    ])
    assert page.locator("label.check.suggested", has_text="Armenia").locator(".suggested-tag").is_visible()
    assert not page.get_by_role("checkbox", name="Armenia suggested").is_checked()  # pre-marked, not chosen
    page.screenshot(path="/tmp/suggest/labelling-suggestions.png", full_page=True)
    axe_check(page)

    # The first key press goes to the first suggestion; A accepts it, and the next is focused.
    page.locator("#article-text").focus()
    page.keyboard.press("Shift+A")
    chip = page.locator("#suggestions li.suggestion").first.locator(".suggestion-chip")
    assert chip.evaluate("element => element === document.activeElement")
    assert page.evaluate("() => Array.from(CSS.highlights.get('suggested-focus'))[0].toString()") == (
        "We are ready to talk with the West")
    page.screenshot(path="/tmp/suggest/labelling-suggestion-focused.png")
    with page.expect_response("**/accept/"):
        page.keyboard.press("Shift+A")  # the quote
    with page.expect_response("**/accept/"):
        page.keyboard.press("Shift+A")  # its speaker: the link comes with it
    with page.expect_response("**/reject/"):
        page.keyboard.press("Shift+X")  # TASS
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 2")
    page.locator("#article-text mark.span", has_text="Sergei Lavrov").first.wait_for()
    assert "TASS" not in ghosts(page) and "Foreign Minister Sergei Lavrov" not in ghosts(page)
    assert items.count() == 3
    assert page.locator("#suggestions-heading").inner_text() == "Suggestions (3)"
    page.screenshot(path="/tmp/suggest/labelling-suggestions-decided.png", full_page=True)
    axe_check(page)

    spans = {s.text: s for s in Span.objects.filter(annotation__article=article)}
    assert {text: s.suggested_by for text, s in spans.items()} == {
        "We are ready to talk with the West": "rules:quotes", "Foreign Minister Sergei Lavrov": "rules:speakers"}
    [relation] = Relation.objects.all()
    assert (relation.source.text, relation.target.text) == ("We are ready to talk with the West",
                                                            "Foreign Minister Sergei Lavrov")
    assert sorted(SuggestionDecision.objects.values_list("decision", flat=True)) == [
        "accepted", "accepted", "accepted", "rejected"]  # two spans, their link, TASS

    page.keyboard.press("Shift+Enter")
    page.wait_for_url(f"**/p/{project.id}/next/")
    assert Annotation.objects.get(article=article).status == Annotation.Status.SUBMITTED

    page.goto(f"/p/{project.id}/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your annotations (JSONL)").click()
    [record] = [json.loads(line) for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()]
    exported = {s["text"]: s["suggested_by"] for s in record["annotations"][0]["spans"]}
    assert exported == {"We are ready to talk with the West": "rules:quotes",
                        "Foreign Minister Sergei Lavrov": "rules:speakers"}


def test_y_accepts_every_suggestion_and_the_page_shows_them_all(page):
    project = make_project(name="Suggested", analyst=[UserFactory(username="analyst1")])
    [article] = article_import(project=project, files=[("talks.txt", TEXT.encode())]).created
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.locator("#article-text").focus()
    with page.expect_response("**/accept-all/"):
        page.keyboard.press("Shift+Y")
    # The answer has the page load its text and span list again (many spans at once).
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 5")
    page.get_by_text("Accepted 6 suggestions.").wait_for()
    assert page.locator("#suggestions li.suggestion").count() == 0
    assert ghosts(page) == []
    assert page.locator("#article-text mark.span").count() >= 5
    assert page.get_by_role("checkbox", name="Armenia").is_checked()
    assert Relation.objects.count() == 2
    page.screenshot(path="/tmp/suggest/labelling-accept-all.png", full_page=True)
    axe_check(page)
