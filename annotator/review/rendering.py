"""The review page's article text: every analyst's spans and the gold's, layered, as HTML.

The same paragraphs as the labelling page (`labelling.rendering.layout`, one
`<p dir="auto" data-start data-end>` a line, so a selection maps to the same offsets and each
paragraph finds its own direction), built in Python for the same reason as `text_html` there:
several analysts' spans over a long article make thousands of pieces. Each mark says whose
span it is (`analyst-<n>` or `gold`, and its title) and which row of the side-by-side table
it belongs to (`data-group`), and which span it draws (`data-span`, where the links' arrows end).
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from annotator.labelling.rendering import Paragraph


def review_text_html(paragraphs: list[Paragraph]) -> str:
    """Spans need `style` ("analyst-<n>" or "gold") and `owner` (the name in the title) set."""
    out = []
    for para in paragraphs:
        blank = ' class="blank"' if para.start == para.end else ""
        out.append(f'<p dir="auto" data-start="{para.start}" data-end="{para.end}"{blank}>')
        for piece in para.pieces:
            for s in piece.spans:
                out.append(
                    f'<mark class="rspan {s.style} label-{s.label_id} track-{s.track}" '
                    f'data-group="{s.start}-{s.end}" title="{escape(s.owner)}: {escape(s.label.name)}" data-span="{s.id}">'
                )
            out.append(escape(piece.text))
            out.append("</mark>" * len(piece.spans))
        out.append("</p>")
    return mark_safe("".join(out))
