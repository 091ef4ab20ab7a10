"""The review page of a huge article (issue #17): a window of the text drawn, the side-by-side rows
and the gold list in pages that load the rest in order, and a size and query count that do not
grow with spans beyond them."""

import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.labelling.models import Annotation, Span
from annotator.labelling.rendering import windows
from annotator.review.views import GOLD_PAGE
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TEXT = "\n".join((f"Line {n:02d}: " + "words of the news " * 20)[:300] for n in range(40))


@pytest.fixture
def huge(project, analyst, second_analyst, reviewer):
    article = ArticleFactory(project=project, text=TEXT)
    first = Annotation.objects.create(article=article, annotator=analyst, status="submitted")
    second = Annotation.objects.create(article=article, annotator=second_analyst, status="submitted")
    gold = Annotation.objects.create(article=article, annotator=reviewer, kind="gold")
    return article, first, second, gold


def add(annotation, labels, spans):
    Span.objects.bulk_create(
        Span(annotation=annotation, label=labels[(a + b) % len(labels)], start=a, end=b,
             text=annotation.article.text[a:b])
        for a, b in spans
    )


def spans(rng, count, lo=0, hi=len(TEXT)):
    found = set()
    while len(found) < count:
        a = rng.randrange(lo, hi - 30)
        found.add((a, a + rng.randint(1, 25)))
    return sorted(found)


def page(client, name, project, article, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=[project.id, article.id]), params or {}, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def rows(html):
    return [(int(a), int(b)) for a, b in re.findall(r'<section id="group-(\d+)-(\d+)"', html)]


def test_the_side_by_side_rows_load_page_after_page_in_order(client, project, reviewer, huge, labels):
    article, first, second, gold = huge
    rng = random.Random(1)
    ours = spans(rng, 300)
    add(first, list(labels.values()), ours)
    add(second, list(labels.values()), ours[::2] + spans(rng, 150))
    add(gold, list(labels.values()), ours[::7])
    client.force_login(reviewer)
    html, _ = page(client, "review_article", project, article)
    # The panel's counts are of the groups loaded, and it says so.
    assert re.search(r"disagreements? in the first \d+ groups", html)
    shown = rows(html)
    loads = 0
    while more := re.search(r'<p id="groups-more"[^>]*><button type="button" hx-get="([^"]+)"', html):
        html = client.get(more.group(1).replace("&amp;", "&"), headers=HTMX).content.decode()
        shown += rows(html)
        loads += 1
    everything = sorted({(s.start, s.end) for s in Span.objects.filter(annotation__article=article)},
                        key=lambda k: (k[0], -k[1]))
    assert shown == everything
    assert loads >= 2


def test_a_row_compares_with_spans_beyond_its_page(client, project, reviewer, huge, labels):
    """A row's "other boundaries" come from the other analyst's overlapping span, wherever it starts."""
    article, first, second, _ = huge
    claim = labels["Claim"]
    filler = [(a, a + 3) for a in range(0, 2400, 4)]  # many rows before the pair
    add(first, [labels["Source"]], filler)
    start = TEXT.index("news", 5000)
    add(first, [claim], [(start, start + 4)])
    add(second, [claim], [(start - 5, start + 4)])
    client.force_login(reviewer)
    html, _ = page(client, "review_article", project, article)
    while f'id="group-{start}-{start + 4}"' not in html:
        more = re.search(r'<p id="groups-more"[^>]*><button type="button" hx-get="([^"]+)"', html)
        html = client.get(more.group(1).replace("&amp;", "&"), headers=HTMX).content.decode()
    row = re.search(rf'<section id="group-{start}-{start + 4}".*?</section>', html, re.S).group(0)
    assert f"other boundaries: <bdi>Claim</bdi> {start - 5}–{start + 4}" in row
    assert "boundaries differ" in row


def test_the_page_does_not_grow_with_spans_beyond_its_first_window_and_pages(client, project, reviewer, huge, labels):
    article, first, second, gold = huge
    rng = random.Random(2)
    early = spans(rng, 400, hi=windows(TEXT)[0][1])
    for annotation in (first, second, gold):
        add(annotation, list(labels.values()), early)
    client.force_login(reviewer)
    before, queries = page(client, "review_article", project, article)
    later = spans(rng, 2000, lo=windows(TEXT)[0][1] + 1)
    for annotation in (first, second, gold):
        add(annotation, list(labels.values()), later)
    after, more_queries = page(client, "review_article", project, article)
    assert more_queries == queries
    assert abs(len(after) - len(before)) < 50  # the gold count, and the next page's address
    assert f"Gold spans ({len(early) + len(later)})" in after
    assert len(re.findall(r'<li id="gold-\d+"', after)) == GOLD_PAGE
    assert len(after) < 1_500_000


def test_a_review_window_draws_every_reviewed_span_in_it(client, project, reviewer, huge, labels):
    article, first, second, gold = huge
    start, end = windows(TEXT)[2]
    a = TEXT.index("news", start)
    add(first, [labels["Claim"]], [(a, a + 4)])
    add(gold, [labels["Claim"]], [(a, a + 4)])
    add(second, [labels["Quote"]], [(a - 5, a + 4)])
    client.force_login(reviewer)
    html, _ = page(client, "review_text_window", project, article, {"start": start})
    assert html.startswith(f'<div class="text-window" id="window-{start}" data-start="{start}" data-end="{end}">')
    for annotation, style in ((first, "analyst-0"), (second, "analyst-1"), (gold, "gold")):
        span = annotation.spans.get()
        assert re.search(rf'<mark class="rspan {style} [^"]*" data-group="{span.start}-{span.end}" '
                         rf'title="[^"]*" data-span="{span.id}">', html)
    assert re.search(r'<p dir="auto" data-start="(\d+)" data-end="(\d+)"', html).groups() == (str(start), str(TEXT.index("\n", start)))
