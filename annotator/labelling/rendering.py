"""Turn an article's text and spans into paragraphs of pieces the template can print.

Each paragraph is one line of the text, with its code-point range. Each piece is a run of
characters covered by the same set of spans, so nested and overlapping spans both show:
the template wraps a piece in one <mark> per covering span. Every span keeps one `track`
(its depth in the drawing) along its whole length, so its underline stays on one level.

A change to one span redraws only the paragraphs whose drawing it changes (`redrawn`), so a
save can answer with those paragraphs instead of the whole text.

A huge document (issue #17: 50,000 spans on 50 KB) stays fast because nothing here needs all of
an article's spans. Tracks are assigned greedily in order of start, and a point of the text that no
span strictly crosses frees every track, so the spans of a stretch of text "closed" under overlap
(`labelling.queries.spans_in`) get the same tracks as from all the spans. The page draws its text in
windows of whole lines (`windows`), the first with its highlights and the rest as plain text that
loads its highlights when it scrolls into view; and only the first `DRAWN_TRACKS` tracks are drawn
(nobody can tell a ninth underline from an eighth; every span is still in the list).
"""

import heapq
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotator.corpus.text import paragraphs

# Underlines drawn under one character at most: deeper spans are left out of the text's drawing.
DRAWN_TRACKS = 8
# A window of the text: whole lines, at least this many characters (the last may be shorter).
WINDOW_CHARS = 1000


@dataclass
class Piece:
    text: str
    start: int
    spans: list = field(default_factory=list)  # outermost (highest track) first


@dataclass
class Paragraph:
    start: int
    end: int
    pieces: list[Piece]


def _order(span):
    return (span.start, -span.end, span.id)


def assign_tracks(spans) -> dict[int, int]:
    """The lowest free track for each span, in order of start (longest first on ties).

    A track is free from where its last span ends; starts only grow, so a free track stays free
    until it is taken. Two heaps (busy tracks by end, free tracks by number) make this
    O(n log depth) rather than a scan of every track per span.
    """
    tracks: dict[int, int] = {}
    busy: list[tuple[int, int]] = []  # (end, track)
    free: list[int] = []
    depth = 0
    for span in sorted(spans, key=_order):
        while busy and busy[0][0] <= span.start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            track = heapq.heappop(free)
        else:
            track = depth
            depth += 1
        heapq.heappush(busy, (span.end, track))
        tracks[span.id] = track
    return tracks


def _touches(ranges, start: int, end: int) -> bool:
    return any(a < end and b > start for a, b in ranges)


def windows(text: str, size: int = WINDOW_CHARS) -> list[tuple[int, int]]:
    """`[start, end)` ranges of whole lines, each at least `size` characters (but the last), in order.

    Consecutive windows are separated by exactly the one `\n` between their lines.
    """
    result = []
    first = None
    for start, end in paragraphs(text):
        first = start if first is None else first
        if end - first >= size:
            result.append((first, end))
            first = None
    if first is not None:
        result.append((first, len(text)))
    return result


def layout(text: str, spans, within: list[tuple[int, int]] | None = None) -> list[Paragraph]:
    """The paragraphs of the text; with `within`, only those that a `[start, end)` range there
    reaches. Tracks always come from all the spans, so a paragraph is drawn the same either way."""
    spans = sorted(spans, key=_order)
    tracks = assign_tracks(spans)
    for span in spans:
        span.track = tracks[span.id]

    spans = [s for s in spans if s.track < DRAWN_TRACKS]

    result = []
    open_spans: list = []  # spans that start before the paragraph's end and may reach into it
    next_span = 0
    for para_start, para_end in paragraphs(text):
        while next_span < len(spans) and spans[next_span].start < para_end:
            open_spans.append(spans[next_span])
            next_span += 1
        open_spans = [s for s in open_spans if s.end > para_start]
        if within is not None and not _touches(within, para_start, para_end):
            continue
        result.append(_paragraph(text, para_start, para_end, open_spans))
    return result


def _paragraph(text: str, para_start: int, para_end: int, spans: list) -> Paragraph:
    """One line, cut wherever one of the `spans` (all of which reach into it, in order of start)
    starts or ends.

    One pass over the cuts: the spans covering a piece are kept by track (two spans that share a
    character never share one), so a piece's list costs its own length, not the line's spans.
    """
    if para_end == para_start:
        return Paragraph(start=para_start, end=para_end, pieces=[])
    inside = {p for s in spans for p in (s.start, s.end) if para_start < p < para_end}
    cuts = [para_start, *sorted(inside), para_end]
    active: dict[int, object] = {}  # track -> the span covering the current piece on it
    following = 0
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        for track in [t for t, s in active.items() if s.end <= a]:
            del active[track]
        while following < len(spans) and spans[following].start <= a:
            if spans[following].end > a:
                active[spans[following].track] = spans[following]
            following += 1
        covering = [active[t] for t in sorted(active, reverse=True)]
        pieces.append(Piece(text=text[a:b], start=a, spans=covering))
    return Paragraph(start=para_start, end=para_end, pieces=pieces)


def redrawn(before, after) -> list[tuple[int, int]]:
    """The ranges of the spans drawn differently after a change: added, removed, relabelled, or
    moved to another track by one of those. Every paragraph outside them is drawn as it was."""
    def drawing(spans):
        tracks = assign_tracks(spans)
        return {s.id: (s.start, s.end, s.label_id, tracks[s.id]) for s in spans}

    old, new = drawing(before), drawing(after)
    changed = {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}
    return sorted({(d[0], d[1]) for i in changed for d in (old.get(i), new.get(i)) if d})


def text_html(paragraphs: list[Paragraph], editing_id: int | None = None, oob: bool = False) -> str:
    """The article text as HTML: one `<p dir="auto">` a line, one `<mark>` per covering span.

    Built here rather than in a template loop: a 50 KB article with 500 spans has thousands of
    pieces, and every character of article text and label name goes through `escape`.
    Nothing but the text may stand inside a paragraph (no white space between tags): the
    browser's offsets are counted from these text nodes. Each paragraph's id comes from its
    start, which never changes, so a save can replace paragraphs out of band (`oob`).
    """
    out = []
    swap = ' hx-swap-oob="true"' if oob else ""
    for para in paragraphs:
        blank = ' class="blank"' if para.start == para.end else ""
        out.append(f'<p id="para-{para.start}" dir="auto" data-start="{para.start}" data-end="{para.end}"{blank}{swap}>')
        for piece in para.pieces:
            for s in piece.spans:
                editing = " editing" if s.id == editing_id else ""
                out.append(
                    f'<mark class="span label-{s.label_id} track-{s.track}{editing}" '
                    f'data-span="{s.id}" title="{escape(s.label.name)}">'
                )
            out.append(escape(piece.text))
            out.append("</mark>" * len(piece.spans))
        out.append("</p>")
    return mark_safe("".join(out))


def window_html(start: int, end: int, lines_html: str, load_url: str | None = None) -> str:
    """One window of the text (its lines' HTML): with `load_url`, plain lines that load their
    highlights once the window comes into view, swapped in whole (the lines keep their offsets)."""
    load = (
        f' hx-get="{escape(load_url)}" hx-trigger="intersect once" hx-swap="outerHTML"'
        if load_url else ""
    )
    return mark_safe(f'<div class="text-window" id="window-{start}" data-start="{start}" data-end="{end}"{load}>'
                     f"{lines_html}</div>")
