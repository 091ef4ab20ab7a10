"""A long article with thousands of spans (issue #17): the page draws the text a window at a time;
scrolled to the end, the last window's highlights load, and a span labelled there is saved at the
right offsets and drawn."""

import random

import pytest

from annotator.labelling.models import Annotation, Span
from annotator.labelling.rendering import windows

from .helpers import log_in, make_article, select_phrase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHRASE = "the very last claim 👩‍👩‍👧 here"


def test_scroll_to_the_end_of_a_long_article_and_label_a_span_there(page, project, analyst):
    lines = [f"Line {n}: " + ("كلمة عربية " if n % 4 == 0 else "some words of news ") * 14 for n in range(60)]
    lines.append(f"The end: {PHRASE}, said nobody.")
    article = make_article(project, "\n".join(lines), language="en")
    annotation = Annotation.objects.create(article=article, annotator=analyst)
    labels = list(project.span_labels.all())
    rng = random.Random(17)
    last_line = article.text.rindex("\n") + 1
    spans = []
    for _ in range(3000):
        a = rng.randrange(0, last_line - 40)
        spans.append((a, a + rng.randint(1, 30)))
    Span.objects.bulk_create(
        Span(annotation=annotation, label=labels[i % len(labels)], start=a, end=b, text=article.text[a:b])
        for i, (a, b) in enumerate(spans)
    )
    assert len(windows(article.text)) > 3
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))

    log_in(page, "analyst1")
    page.goto(f"/p/{project.id}/a/{article.id}/")
    page.wait_for_selector("#article-text mark.span")
    last_window = page.locator("#article-text .text-window").last
    assert last_window.get_attribute("hx-get")  # not drawn yet
    assert page.locator("#span-more").count() == 1  # the list is a page of it

    last_window.scroll_into_view_if_needed()
    page.locator("#article-text .text-window:last-child:not([hx-get])").wait_for()
    # The windows just above it load too as they come into view: select once the page is still.
    page.wait_for_load_state("networkidle")
    page.get_by_text("The end:").scroll_into_view_if_needed()
    select_phrase(page, PHRASE)
    with page.expect_response("**/spans/"):
        page.keyboard.press("c")
    page.locator("#article-text mark.span.editing").first.wait_for()

    span = Span.objects.get(annotation=annotation, start__gte=last_line)
    start = article.text.index(PHRASE)
    assert (span.start, span.end, span.text) == (start, start + len(PHRASE), PHRASE)
    drawn = page.locator(f'#article-text mark[data-span="{span.id}"]').evaluate_all(
        "ms => ms.map(m => m.textContent).join('')"
    )
    assert drawn == PHRASE
    assert page.get_by_role("heading", name="Your spans (3001)").is_visible()
    # Not in the list yet (it ends a page the list has not loaded): it comes with that page.
    assert page.locator(f"#span-{span.id}").count() == 0
    # Clicking a highlight whose list item is not loaded yet still opens it in the editor.
    page.locator("#article-text").evaluate("t => t.scrollIntoView()")
    unlisted = page.evaluate("""() => Array.from(document.querySelectorAll('#article-text mark[data-span]'))
        .map(m => m.dataset.span).find(id => !document.getElementById('span-' + id))""")
    assert unlisted
    page.locator(f'#article-text mark[data-span="{unlisted}"]').first.dispatch_event("click")
    page.locator(f'#span-editor[data-span="{unlisted}"]').wait_for()
    assert errors == []
    assert page.csp_errors == []
