"""Turn an article's text and spans into paragraphs of pieces the template can print.

Each paragraph is one line of the text, with its code-point range. Each piece is a run of
characters covered by the same set of spans, so nested and overlapping spans both show:
the template wraps a piece in one <mark> per covering span. Every span keeps one `track`
(its depth in the drawing) along its whole length, so its underline stays on one level.

A change to one span redraws only the paragraphs whose drawing it changes (`redrawn`), so a
save can answer with those paragraphs instead of the whole text.
"""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotator.corpus.text import paragraphs


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
    """The lowest free track for each span, in order of start (longest first on ties)."""
    tracks: dict[int, int] = {}
    track_ends: list[int] = []
    for span in sorted(spans, key=_order):
        for track, busy_until in enumerate(track_ends):
            if busy_until <= span.start:
                track_ends[track] = span.end
                break
        else:
            track = len(track_ends)
            track_ends.append(span.end)
        tracks[span.id] = track
    return tracks


def _touches(ranges, start: int, end: int) -> bool:
    return any(a < end and b > start for a, b in ranges)


def layout(text: str, spans, within: list[tuple[int, int]] | None = None) -> list[Paragraph]:
    """The paragraphs of the text; with `within`, only those that a `[start, end)` range there
    reaches. Tracks always come from all the spans, so a paragraph is drawn the same either way."""
    spans = sorted(spans, key=_order)
    tracks = assign_tracks(spans)
    for span in spans:
        span.track = tracks[span.id]

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
    """One line, cut wherever one of the `spans` (all of which reach into it) starts or ends."""
    if para_end == para_start:
        return Paragraph(start=para_start, end=para_end, pieces=[])
    inside = {p for s in spans for p in (s.start, s.end) if para_start < p < para_end}
    cuts = [para_start, *sorted(inside), para_end]
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        covering = sorted((s for s in spans if s.start <= a < s.end), key=lambda s: -s.track)
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
