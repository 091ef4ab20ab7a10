"""The one place article text is normalised and offsets are defined.

An article's text is normalised once, at import, and never changes. Span offsets are
`[start, end)` in Unicode code points of that text, which is what Python's `str` indexes.
"""

import hashlib
import unicodedata


def normalise(text: str) -> str:
    """NFC, and every line break as a single `\\n`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def paragraphs(text: str) -> list[tuple[int, int]]:
    """`(start, end)` code-point ranges of the text's lines, without the `\\n` between them.

    Every character of the text is in exactly one range or is a separating `\\n`, so a page
    that renders each range as a block shows all of the text with offsets intact.
    """
    ranges = []
    start = 0
    while True:
        newline = text.find("\n", start)
        if newline == -1:
            ranges.append((start, len(text)))
            return ranges
        ranges.append((start, newline))
        start = newline + 1


def utf16_length(text: str) -> int:
    """How many UTF-16 code units a browser counts for this text."""
    return len(text.encode("utf-16-le")) // 2
