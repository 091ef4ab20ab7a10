"""Turn an article's text and spans into paragraphs of pieces the template can print.

Each paragraph is one line of the text, with its code-point range. Each piece is a run of
characters covered by the same set of spans, so nested and overlapping spans both show:
the template wraps a piece in one <mark> per covering span. Every span keeps one `track`
(its depth in the drawing) along its whole length, so its underline stays on one level.
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


def assign_tracks(spans) -> dict[int, int]:
    """The lowest free track for each span, in order of start (longest first on ties)."""
    tracks: dict[int, int] = {}
    track_ends: list[int] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.id)):
        for track, busy_until in enumerate(track_ends):
            if busy_until <= span.start:
                track_ends[track] = span.end
                break
        else:
            track = len(track_ends)
            track_ends.append(span.end)
        tracks[span.id] = track
    return tracks


def layout(text: str, spans) -> list[Paragraph]:
    spans = sorted(spans, key=lambda s: (s.start, -s.end, s.id))
    tracks = assign_tracks(spans)
    for span in spans:
        span.track = tracks[span.id]
    boundaries = sorted({p for span in spans for p in (span.start, span.end)})

    result = []
    active: dict[int, object] = {}
    next_span = 0
    for para_start, para_end in paragraphs(text):
        inside = [p for p in boundaries if para_start < p < para_end]
        cuts = [para_start, *inside, para_end] if para_end > para_start else []
        pieces = []
        for a, b in zip(cuts, cuts[1:]):
            while next_span < len(spans) and spans[next_span].start <= a:
                active[spans[next_span].id] = spans[next_span]
                next_span += 1
            for span_id in [i for i, s in active.items() if s.end <= a]:
                del active[span_id]
            covering = sorted(active.values(), key=lambda s: -s.track)
            pieces.append(Piece(text=text[a:b], start=a, spans=covering))
        result.append(Paragraph(start=para_start, end=para_end, pieces=pieces))
    return result


def text_html(paragraphs: list[Paragraph], editing_id: int | None = None) -> str:
    """The article text as HTML: one `<p dir="auto">` a line, one `<mark>` per covering span.

    Built here rather than in a template loop: a 50 KB article with 500 spans has thousands of
    pieces, and every character of article text and label name goes through `escape`.
    Nothing but the text may stand inside a paragraph (no white space between tags): the
    browser's offsets are counted from these text nodes.
    """
    out = []
    for para in paragraphs:
        blank = ' class="blank"' if para.start == para.end else ""
        out.append(f'<p dir="auto" data-start="{para.start}" data-end="{para.end}"{blank}>')
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
