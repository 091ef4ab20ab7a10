import json
from pathlib import Path

import pytest
from django.conf import settings

from annotator.labelling.models import Annotation, Span

from .helpers import axe_check, log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"
ARABIC_SEED = SEEDS / "002_fbed2bf9dc136266.txt"
ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"


def download_jsonl(page, project):
    page.goto(f"/p/{project.id}/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your annotations (JSONL)").click()
    path = info.value.path()
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def test_label_arabic_seed_quote_topic_stance_submit_and_export(page, project, analyst):
    arabic = make_article(project, ARABIC_SEED.read_text(encoding="utf-8"), language="ar")
    english = make_article(project, "Second article.\nLavrov said “NATO is expanding”.", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/")
    page.get_by_role("link", name=arabic.title).click()
    page.wait_for_selector("#article-text")
    assert page.locator("#article-text p").first.evaluate("p => getComputedStyle(p).direction") == "rtl"
    axe_check(page)

    selected = select_phrase(page, ARABIC_QUOTE)
    assert ARABIC_QUOTE in selected
    page.keyboard.press("q")
    mark = page.locator("#article-text mark.span")
    mark.first.wait_for()
    assert page.locator("#article-text mark.span").evaluate_all("ms => ms.map(m => m.textContent).join('')") == ARABIC_QUOTE

    span = Span.objects.get()
    assert (span.label.name, span.text) == ("Quote", ARABIC_QUOTE)
    assert arabic.text[span.start : span.end] == ARABIC_QUOTE

    # The saved span opens in the editor: give it a speaker, from the keyboard.
    page.get_by_label("Speaker").fill("سيرغي لافروف")
    with page.expect_response("**/update/"):
        page.get_by_role("button", name="Save span").click()
    assert Span.objects.get().attributes == {"speaker": "سيرغي لافروف"}

    # Two quick changes: the second is made while the first is still being saved.
    west = project.stance_targets.get(name="the West")
    critical = project.stance_values.get(name="critical")
    with page.expect_response(lambda r: f"stance-{west.id}={critical.id}" in (r.request.post_data or "")):
        page.get_by_label("Armenia").check()
        page.get_by_label("Toward the West").select_option("critical")
    page.locator("#document-labels [role=status]", has_text="Saved at").wait_for()
    annotation = Annotation.objects.get(article=arabic, annotator=analyst)
    assert [t.name for t in annotation.topics.all()] == ["Armenia"]
    assert {s.target.name: s.value.name for s in annotation.stances.all()} == {"the West": "critical"}

    page.keyboard.press("Shift+Enter")
    page.wait_for_url(f"**/p/{project.id}/a/{english.id}/")
    assert page.get_by_text("1 of 2").is_visible()
    annotation.refresh_from_db()
    assert annotation.status == Annotation.Status.SUBMITTED

    records = {r["id"]: r for r in download_jsonl(page, project)}
    exported = records[arabic.id]["annotations"][0]
    assert exported["topics"] == ["Armenia"] and exported["stance"] == {"the West": "critical"}
    [exported_span] = exported["spans"]
    assert records[arabic.id]["text"][exported_span["start"] : exported_span["end"]] == ARABIC_QUOTE
    assert exported_span["text"] == ARABIC_QUOTE
    assert page.csp_errors == []


EMOJI_TEXT = (
    "Family 👩‍👩‍👧‍👦 and flags 🇦🇲🇷🇺, café with a combining accent (cafe\u0301), 𝕏 marks.\n"
    "مرحبا 👋 بالعالم\n"
    "Then Lavrov said “Armenia is our ally” in Moscow."
)


def test_emoji_and_combining_marks_before_the_selection_do_not_shift_offsets(page, project):
    article = make_article(project, EMOJI_TEXT, title="Emoji", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    directions = page.locator("#article-text p").evaluate_all("ps => ps.map(p => getComputedStyle(p).direction)")
    assert directions == ["ltr", "rtl", "ltr"]

    select_phrase(page, "Armenia is our ally")
    page.get_by_role("toolbar", name="Label the selection").get_by_role("button", name="Claim").click()
    page.locator("#article-text mark.span").first.wait_for()
    select_phrase(page, "👋 بالعالم")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 2")

    spans = {s.text: s for s in Span.objects.all()}
    assert set(spans) == {"Armenia is our ally", "👋 بالعالم"}
    for text, span in spans.items():
        assert article.text[span.start : span.end] == text
    records = download_jsonl(page, project)
    for exported in records[0]["annotations"][0]["spans"]:
        assert records[0]["text"][exported["start"] : exported["end"]] == exported["text"]
    assert page.csp_errors == []


def test_failed_save_is_shown_and_retried_without_loss(page, project):
    article = make_article(project, "Lavrov said “NATO is expanding” today.", title="Retry", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.route("**/spans/", lambda route: route.abort())
    text_at = page.locator("#article-text").bounding_box()
    select_phrase(page, "NATO is expanding")
    page.keyboard.press("q")
    status = page.locator("#save-status")
    status.get_by_text("not saved").wait_for()
    assert Span.objects.count() == 0
    # The failure is shown over the page, not in its flow: the text does not move under the mouse.
    assert page.locator("#article-text").bounding_box() == text_at

    page.unroute("**/spans/")
    status.get_by_role("button", name="Retry").click()
    page.locator("#article-text mark.span").first.wait_for()
    assert status.is_hidden()
    assert [s.text for s in Span.objects.all()] == ["NATO is expanding"]


def test_expired_session_keeps_the_highlight_until_logged_in_again(page, project):
    article = make_article(project, "Lavrov said “NATO is expanding” today.", title="Expiry", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.context.clear_cookies(name="sessionid")
    select_phrase(page, "NATO is expanding")
    page.keyboard.press("q")
    page.locator("#save-status").get_by_text("session has expired").wait_for()
    assert Span.objects.count() == 0

    other = page.context.new_page()
    log_in(other, "analyst1")
    other.close()
    page.locator("#save-status").get_by_role("button", name="Retry").click()
    page.locator("#article-text mark.span").first.wait_for()
    assert [s.text for s in Span.objects.all()] == ["NATO is expanding"]


def test_help_overlay_lists_hotkeys(page, project):
    article = make_article(project, "Some text.", title="Help", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog")
    help_dialog.wait_for()
    assert "Label the selection as Quote" in help_dialog.inner_text()
    page.keyboard.press("Escape")
    assert help_dialog.is_hidden()


def test_keyboard_link_quote_to_speaker_and_delete(page, project):
    article = make_article(project, "Lavrov said: “NATO is expanding.”", title="Keys", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    select_phrase(page, "NATO is expanding.")
    page.keyboard.press("q")
    page.locator("#article-text mark.span").first.wait_for()
    select_phrase(page, "Lavrov")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 2")

    # From here on, only the keyboard: focus the Quote in the span list and open it.
    quote = Span.objects.get(label__name="Quote")
    page.locator(f"#span-{quote.id} .chip").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'span-label'")
    link = page.get_by_label("Link speaker (Source span)")
    link.focus()
    assert link.input_value() == str(Span.objects.get(label__name="Source").id)
    page.keyboard.press("Tab")
    with page.expect_response("**/relations/"):
        page.keyboard.press("Enter")
    page.locator("#span-editor .relations li").wait_for()
    relation = quote.outgoing.get()
    assert (relation.type.name, relation.target.text) == ("speaker", "Lavrov")

    delete = page.locator("#span-editor").get_by_role("button", name="Delete span")
    delete.focus()
    with page.expect_response("**/delete/"):
        page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 1")
    assert [s.text for s in Span.objects.all()] == ["Lavrov"]
    assert not relation.__class__.objects.exists()


def test_two_tabs_of_one_analyst_get_a_conflict_not_a_silent_overwrite(page, project, analyst):
    article = make_article(project, "Lavrov said “NATO is expanding” today.", title="Tabs", language="en")
    log_in(page, "analyst1")
    url = f"/p/{project.id}/a/{article.id}/"
    page.goto(url)
    other = page.context.new_page()
    other.goto(url)

    with page.expect_response("**/labels/"):
        page.get_by_label("Armenia").check()
    with other.expect_response("**/labels/") as answer:
        other.get_by_label("Syria").check()
    assert answer.value.status == 409
    other.locator("#save-status").get_by_text("changed in another tab").wait_for()
    annotation = Annotation.objects.get(article=article, annotator=analyst)
    assert [t.name for t in annotation.topics.all()] == ["Armenia"]

    # The first tab goes on saving: its own saves keep its page current.
    with page.expect_response("**/labels/") as again:
        page.get_by_label("Ukraine").check()
    assert again.value.status == 200
    assert sorted(t.name for t in annotation.topics.all()) == ["Armenia", "Ukraine"]
