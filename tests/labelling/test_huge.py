"""A huge article (issue #17): the labelling page shows a window of the text and a page of the list,
loads the rest on demand with exact offsets, and a save reads only the spans around it."""

import random
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.labelling.models import Annotation, Span
from annotator.labelling.queries import spans_in
from annotator.labelling.rendering import DRAWN_TRACKS, WINDOW_CHARS, assign_tracks, windows
from annotator.labelling.views import LINK_TARGETS, LIST_PAGE
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# 40 lines of 300 characters (some Arabic, an emoji): several windows of the text.
LINES = [(f"Line {n:02d} 👩‍👩‍👧 " + ("كلمة " if n % 3 == 0 else "words ") * 60)[:300] for n in range(40)]
TEXT = "\n".join(LINES)


def add(annotation, labels, spans):
    Span.objects.bulk_create(
        Span(annotation=annotation, label=labels[i % len(labels)], start=a, end=b, text=annotation.article.text[a:b])
        for i, (a, b) in enumerate(spans)
    )


def random_spans(rng, text, count, lo=0, hi=None, longest=40):
    hi = len(text) if hi is None else hi
    spans = []
    while len(spans) < count:
        a = rng.randrange(lo, hi - 1)
        spans.append((a, min(hi, a + rng.randint(1, longest))))
    return spans


@pytest.fixture
def huge(project, analyst):
    article = ArticleFactory(project=project, text=TEXT)
    annotation = Annotation.objects.create(article=article, annotator=analyst)
    return article, annotation, list(project.span_labels.all())


def get(client, name, project, article, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=[project.id, article.id]), params or {})
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_text_is_in_windows_of_whole_lines_that_cover_it_exactly():
    found = windows(TEXT)
    assert len(found) > 5
    assert all(end - start >= WINDOW_CHARS for start, end in found[:-1])
    assert found[0][0] == 0 and found[-1][1] == len(TEXT)
    for (_, end), (start, _) in zip(found, found[1:]):
        assert TEXT[end] == "\n" and start == end + 1


def test_the_page_does_not_grow_with_spans_beyond_its_window_and_list_page(client, project, analyst, huge):
    article, annotation, labels = huge
    first = windows(TEXT)[0]
    rng = random.Random(1)
    add(annotation, labels, random_spans(rng, TEXT, 1000, hi=first[1]))
    client.force_login(analyst)
    page, queries = get(client, "label_article", project, article)
    # Four times as many spans, all after the first window.
    add(annotation, labels, random_spans(rng, TEXT, 4000, lo=first[1] + 1))
    more, more_queries = get(client, "label_article", project, article)

    assert more_queries == queries
    assert abs(len(more) - len(page)) < 10  # the count in the heading
    assert "Your spans (<span id=\"span-count\">5000</span>)" in more
    assert len(re.findall(r'<li id="span-\d+"', more)) == LIST_PAGE
    later = Span.objects.filter(annotation=annotation, start__gt=first[1]).values_list("id", flat=True)
    assert not any(f'data-span="{i}"' in more for i in later)
    # Every line is on the page, as plain text where not drawn yet, each with its offsets.
    for start, end in windows(TEXT)[1:]:
        assert f'data-start="{start}" data-end="{end}" hx-get="/p/{project.id}/a/{article.id}/text/?start={start}"' in more


def test_no_more_underlines_than_can_be_seen(client, project, analyst, huge):
    article, annotation, labels = huge
    start = TEXT.index("words")
    # Thirty spans nested around one word: thirty tracks, the outermost eight drawn.
    add(annotation, labels, [(start - i, start + 5 + i) for i in range(30)])
    client.force_login(analyst)
    page, _ = get(client, "label_article", project, article)
    assert max(len(ids) for _, _, ids in drawn_pieces(page)) == DRAWN_TRACKS
    innermost = Span.objects.get(annotation=annotation, start=start, end=start + 5)
    assert f'data-span="{innermost.id}"' not in page
    assert len(re.findall(r'<li id="span-\d+"', page)) == 30  # every span is in the list
    assert f'<li id="span-{innermost.id}"' in page


def drawn_pieces(html):
    """(offset, text, span ids) of each run of text in the drawn paragraphs, from the HTML alone."""
    pieces = []
    for start, inner in re.findall(r'<p id="para-\d+" dir="auto" data-start="(\d+)" data-end="\d+"[^>]*>(.*?)</p>', html):
        position, stack = int(start), []
        for tag_open, span_id, tag_close, text in re.findall(r'(<mark [^>]*data-span="(\d+)"[^>]*>)|(</mark>)|([^<]+)', inner):
            if tag_open:
                stack.append(int(span_id))
            elif tag_close:
                stack.pop()
            else:
                text = text.replace("&#x27;", "'").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                pieces.append((position, text, set(stack)))
                position += len(text)
    return pieces


def test_a_window_loads_its_spans_with_exact_offsets(client, project, analyst, huge):
    article, annotation, labels = huge
    rng = random.Random(2)
    spans = random_spans(rng, TEXT, 1500)
    add(annotation, labels, spans)
    Annotation.objects.filter(pk=annotation.pk).update(version=7)
    client.force_login(analyst)
    tracks = assign_tracks(list(annotation.spans.all()))
    rows = {s.id: s for s in annotation.spans.all()}
    for start, end in windows(TEXT)[1:4]:
        html, _ = get(client, "text_window", project, article, {"start": start})
        assert html.startswith(f'<div class="text-window" id="window-{start}" data-start="{start}" data-end="{end}">')
        pieces = drawn_pieces(html)
        # The window's lines, whole, at their offsets.
        assert pieces[0][0] == start and pieces[-1][0] + len(pieces[-1][1]) == end
        for offset, text, ids in pieces:
            assert TEXT[offset : offset + len(text)] == text
            # Exactly the drawn spans that cover it (those on the first DRAWN_TRACKS tracks).
            covering = {i for i, s in rows.items() if s.start <= offset < s.end and tracks[i] < DRAWN_TRACKS}
            assert ids == covering
    response = client.get(reverse("text_window", args=[project.id, article.id]), {"start": 0})
    assert response["X-Annotation-Version"] == response["X-Annotation-Base"] == "7"


def test_a_window_must_start_where_one_does(client, project, analyst, huge):
    article, _, _ = huge
    client.force_login(analyst)
    url = reverse("text_window", args=[project.id, article.id])
    assert client.get(url, {"start": 5}).status_code == 404
    assert client.get(url, {"start": "x"}).status_code == 400


def test_the_list_loads_page_after_page_in_order(client, project, analyst, huge):
    article, annotation, labels = huge
    add(annotation, labels, random_spans(random.Random(3), TEXT, LIST_PAGE * 2 + 7))
    client.force_login(analyst)
    expected = list(annotation.spans.order_by("start", "-end", "id").values_list("id", flat=True))
    html, _ = get(client, "label_article", project, article)
    shown = [int(i) for i in re.findall(r'<li id="span-(\d+)"', html)]
    pages = 1
    while more := re.search(r'<li id="span-more"><button type="button" hx-get="([^"]+)"', html):
        html = client.get(more.group(1).replace("&amp;", "&"), headers=HTMX).content.decode()
        shown += [int(i) for i in re.findall(r'<li id="span-(\d+)"', html)]
        pages += 1
    assert shown == expected
    assert pages == 3
    assert "No spans yet" not in html


def test_spans_in_gives_every_span_its_track_from_all_spans(project, analyst, huge):
    article, annotation, labels = huge
    rng = random.Random(4)
    # Long and short spans, some across lines.
    add(annotation, labels, random_spans(rng, TEXT, 600, longest=30) + random_spans(rng, TEXT, 20, longest=1500))
    everything = list(annotation.spans.all())
    tracks = assign_tracks(everything)
    for _ in range(30):
        a = rng.randrange(len(TEXT) - 1)
        b = min(len(TEXT), a + rng.randint(1, 700))
        rows, lo, hi = spans_in(annotation.spans.all(), text=TEXT, start=a, end=b, fields=("id", "start", "end"), margin=50)
        assert lo <= a and b <= hi and (lo == 0 or TEXT[lo - 1] == "\n") and (hi == len(TEXT) or TEXT[hi] == "\n")
        got = {row[0] for row in rows}
        assert got == {s.id for s in everything if s.start < hi and s.end > lo}
        part = assign_tracks([Span(id=i, start=s, end=e) for i, s, e in rows])
        assert part == {i: tracks[i] for i in got}


def test_a_save_on_a_huge_article_reads_only_what_it_redraws(client, project, analyst, huge):
    article, annotation, labels = huge
    add(annotation, labels, random_spans(random.Random(5), TEXT, 3000))
    client.force_login(analyst)
    start = TEXT.index("words", 9000)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("span_create", args=[project.id, article.id]), {
            "label": labels[0].id, "start": start, "end": start + 5, "text": "words", "client_id": str(uuid.uuid4()),
        }, headers=HTMX)
    assert response.status_code == 201
    content = response.content.decode()
    line = TEXT.rfind("\n", 0, start) + 1
    assert re.findall(r'<p id="para-(\d+)"', content)[0] == str(line)
    assert len(content) < 60_000
    # No query reads every span of the annotation: each is bounded by offsets or a limit.
    for query in queries.captured_queries:
        sql = query["sql"]
        if 'FROM "labelling_span"' in sql and "COUNT" not in sql and "INSERT" not in sql and "UPDATE" not in sql:
            assert re.search(r'"start" (<|>|=|>=)|LIMIT|"id" = ', sql), sql


def test_a_links_choices_are_the_nearest_spans_it_can_go_to_either_side(client, project, analyst, huge):
    article, annotation, labels = huge
    claim, source = (next(label for label in labels if label.name == name) for name in ("Claim", "Source"))
    # Every fourth span a Source, the others Claims (a claim's source link goes to a Source span only).
    starts = range(0, 9000, 10)
    Span.objects.bulk_create(
        Span(annotation=annotation, label=source if n % 4 == 0 else claim, start=a, end=a + 4, text=TEXT[a : a + 4])
        for n, a in enumerate(starts)
    )
    middle = Span.objects.get(annotation=annotation, start=4500)
    client.force_login(analyst)
    response = client.get(f"{reverse('label_article', args=[project.id, article.id])}spans/{middle.id}/", headers=HTMX)
    assert response.status_code == 200
    choices = re.search(r'<select id="link-\d+" name="target">(.*?)</select>', response.content.decode(), re.S).group(1)
    offered = [int(i) for i in re.findall(r'<option value="(\d+)"', choices)]
    sources = list(annotation.spans.filter(label=source).order_by("start"))
    before = [s.id for s in sources if s.start < middle.start][-LINK_TARGETS:]
    after = [s.id for s in sources if s.start >= middle.start][:LINK_TARGETS]
    assert offered == before + after
    assert len(offered) == 2 * LINK_TARGETS
