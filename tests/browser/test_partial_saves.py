"""A save answers with only what it changed; the page must end up exactly as a fresh load shows it."""

import re

import pytest

from annotator.labelling import services
from annotator.labelling.models import Annotation, Span

from .helpers import log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Lavrov said the talks with Yerevan would continue.\n"
    "The ministry repeated the claim on Monday.\n"
    "\n"
    "Critics said nothing had changed at all."
)
TEXT_HTML = "() => document.getElementById('article-text').innerHTML"


def drawn(html):
    """The text as drawn, without which span the editor has open (a fresh page opens none)."""
    return re.sub(r" editing", "", html)


def shown_text(page):
    """The text once htmx has settled the last answer (it marks swapped elements meanwhile)."""
    page.wait_for_function("() => !document.querySelector('#article-text .htmx-added, #article-text .htmx-settling')")
    return page.evaluate(TEXT_HTML)


def fresh_text(page, url):
    other = page.context.new_page()
    other.goto(url)
    html = other.evaluate(TEXT_HTML)
    other.close()
    return html


def test_saves_swap_only_the_paragraphs_they_change_and_match_a_fresh_page(page, project, analyst):
    article = make_article(project, TEXT, title="Partial", language="en")
    labels = {label.name: label for label in project.span_labels.all()}
    crossing_text = "would continue.\nThe ministry"
    start = TEXT.index(crossing_text)
    services.span_create(article=article, annotator=analyst, label=labels["Claim"], start=start,
                         end=start + len(crossing_text), text=crossing_text, client_id=None)
    last = TEXT.index("nothing had changed")
    services.span_create(article=article, annotator=analyst, label=labels["Source"], start=last,
                         end=last + len("nothing had changed"), text="nothing had changed", client_id=None)
    url = f"/p/{project.id}/a/{article.id}/"
    log_in(page, "analyst1")
    page.goto(url)
    # Tag every paragraph element: one the answer replaces loses its tag.
    page.evaluate("() => document.querySelectorAll('#article-text p').forEach(p => p.kept = true)")

    # A quote that starts before the crossing claim and ends inside it takes its track, so the
    # claim is drawn one level down on its second line too.
    select_phrase(page, "the talks with Yerevan would")
    page.keyboard.press("q")
    quote = page.locator("#article-text mark.editing")
    quote.first.wait_for()
    assert quote.first.inner_text() == "the talks with Yerevan "
    page.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 3")
    kept = page.evaluate("() => Array.from(document.querySelectorAll('#article-text p'), p => Boolean(p.kept))")
    assert kept == [False, False, True, True]
    assert page.get_by_role("heading", name="Your spans (3)").is_visible()
    assert drawn(shown_text(page)) == fresh_text(page, url)
    new = Span.objects.get(text="the talks with Yerevan would")
    order = page.locator("#span-list li[id^=span-]").evaluate_all("lis => lis.map(li => li.id)")
    assert order == [f"span-{s.id}" for s in Span.objects.order_by("start", "-end", "id")]

    # Relabel it from the editor, then delete it: each answer leaves the page as a fresh load.
    page.get_by_label("Label", exact=True).select_option(str(labels["Claim"].id))
    with page.expect_response(f"**/spans/{new.id}/update/"):
        page.get_by_role("button", name="Save span").click()
    page.wait_for_function(f"() => document.querySelector('#span-{new.id} .chip').textContent === 'Claim'")
    assert drawn(shown_text(page)) == fresh_text(page, url)
    assert page.locator(f'#article-text mark.editing[data-span="{new.id}"]').count() == 2

    with page.expect_response(f"**/spans/{new.id}/delete/"):
        page.get_by_role("button", name="Delete span").click()
    page.locator(f"#span-{new.id}").wait_for(state="detached")
    assert page.locator("#article-text mark.editing").count() == 0
    assert drawn(shown_text(page)) == fresh_text(page, url)
    assert page.evaluate("() => document.getElementById('article-text').dataset.version") == str(
        Annotation.objects.get(article=article).version
    )
    assert page.csp_errors == []


def test_the_first_span_replaces_no_spans_yet_and_the_last_brings_it_back(page, project):
    article = make_article(project, TEXT, title="Empty", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    select_phrase(page, "Critics said")
    page.keyboard.press("c")
    page.locator("#span-list li[id^=span-]").wait_for()
    assert page.locator("#no-spans").count() == 0
    page.get_by_role("button", name="Delete span").click()
    page.locator("#no-spans").wait_for()
    assert page.locator("#article-text mark").count() == 0
    assert page.get_by_role("heading", name="Your spans (0)").is_visible()


def test_a_page_that_missed_a_change_loads_the_text_again(page, project):
    article = make_article(project, TEXT, title="Tabs", language="en")
    url = f"/p/{project.id}/a/{article.id}/"
    log_in(page, "analyst1")
    page.goto(url)
    other = page.context.new_page()
    other.goto(url)

    select_phrase(page, "Critics said")
    page.keyboard.press("c")
    page.locator("#article-text mark.editing").wait_for()

    # The other tab never saw that span; its own save's answer starts from a version it does not
    # show, so it loads the whole text and list again and shows both spans.
    select_phrase(other, "The ministry")
    other.keyboard.press("s")
    other.wait_for_function("() => document.querySelectorAll('#span-list li[id^=span-]').length === 2")
    other.wait_for_function("() => document.querySelectorAll('#article-text mark').length === 2")
    assert other.evaluate(TEXT_HTML).count(" editing") == 1
    assert drawn(shown_text(other)) == fresh_text(page, url)
    assert other.get_by_role("heading", name="Your spans (2)").is_visible()
    assert other.locator("#save-status").is_hidden()


def test_a_selection_made_while_a_save_is_answered_is_kept(page, project):
    article = make_article(project, TEXT, title="Selection", language="en")
    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    # Hold every answer back a moment, as a slow network would.
    page.evaluate("""() => {
      const fetch = window.fetch;
      window.fetch = (...args) => fetch(...args).then((r) => new Promise((done) => setTimeout(() => done(r), 600)));
    }""")
    select_phrase(page, "talks with Yerevan")
    page.keyboard.press("c")
    select_phrase(page, "repeated the claim")  # in the paragraph the answer does not replace
    page.locator("#article-text mark.editing").wait_for()
    assert page.evaluate("() => window.getSelection().toString()") == "repeated the claim"
    select_phrase(page, "Lavrov said")  # now in the paragraph the next answer replaces
    page.keyboard.press("s")
    select_phrase(page, "the talks")
    page.locator("#article-text mark.editing", has_text="Lavrov said").wait_for()
    assert page.evaluate("() => window.getSelection().toString()") == "the talks"
    assert sorted(Span.objects.values_list("text", flat=True)) == ["Lavrov said", "talks with Yerevan"]
