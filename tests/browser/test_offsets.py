"""The page's own selection-to-offsets code, checked over many random selections."""

import random
import unicodedata

import pytest

from annotator.labelling.models import Span
from tests.factories import UserFactory, make_project

from .helpers import log_in, make_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = (
    "Family 👩‍👩‍👧‍👦 flags 🇦🇲🇷🇺 café cafe\u0301 𝕏𝕐 “quoted” words.\r\n"
    "\r\n"
    "قال وزير الخارجية 👋 \u064bإن الدول الغربية “تتودد” إلى أرمينيا.\r\n"
    "Mixed: NATO و الغرب 🇺🇸 end."
)

# Selects [start, end) given in code points by mapping them to the DOM's UTF-16 positions:
# the test's own mapping, independent of the page's conversion back to code points.
_SELECT = """
([start, end]) => {
  const paragraphs = Array.from(document.querySelectorAll('#article-text p[data-start]'));
  const point = (cp) => {
    for (const p of paragraphs) {
      const ps = Number(p.dataset.start), pe = Number(p.dataset.end);
      if (cp < ps || cp > pe) continue;
      let remaining = cp - ps;
      const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const chars = Array.from(walker.currentNode.data);
        if (remaining <= chars.length) return [walker.currentNode, chars.slice(0, remaining).join('').length];
        remaining -= chars.length;
      }
      return [p, p.childNodes.length];
    }
  };
  const [sn, so] = point(start), [en, eo] = point(end);
  const range = document.createRange(); range.setStart(sn, so); range.setEnd(en, eo);
  const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
}
"""


def cluster_boundaries(text: str) -> set[int]:
    """Positions a person can select at: not inside a ZWJ sequence, a flag or before a combining mark."""
    boundaries = {0, len(text)}
    regional_run = 0
    for i in range(1, len(text)):
        before, here = text[i - 1], text[i]
        regional = "\U0001F1E6" <= before <= "\U0001F1FF"
        regional_run = regional_run + 1 if regional else 0
        joined = "\u200d" in (before, here) or unicodedata.combining(here) or here in "\ufe0f\u200f"
        inside_flag = regional and "\U0001F1E6" <= here <= "\U0001F1FF" and regional_run % 2 == 1
        if not joined and not inside_flag:
            boundaries.add(i)
    return boundaries


def test_random_selections_save_exactly_the_selected_code_points(page):
    analyst = UserFactory(username="offsets")
    project = make_project(name="Offsets", analyst=analyst)
    article = make_article(project, TEXT, title="Offsets", language="en")
    text = article.text
    log_in(page, "offsets")
    page.goto(f"/p/{project.id}/a/{article.id}/")

    rng = random.Random(20261122)
    boundaries = sorted(cluster_boundaries(text))
    expected = []
    while len(expected) < 25:
        start, end = sorted(rng.sample(boundaries, 2))
        if end - start > 40:
            continue
        chosen = text[start:end]
        # The page trims white space around a selection, as an analyst would want.
        if chosen.strip() != chosen or not chosen.strip():
            continue
        expected.append((start, end, chosen))
        page.evaluate(_SELECT, [start, end])
        with page.expect_response("**/spans/"):
            page.keyboard.press("c")

    saved = sorted((s.start, s.end, s.text) for s in Span.objects.filter(annotation__article=article))
    assert saved == sorted(expected)
    for start, end, chosen in saved:
        assert text[start:end] == chosen
