"""The one place article text is normalised and offsets are defined.

An article's text is normalised once, at import, and never changes. Span offsets are
`[start, end)` in Unicode code points of that text, which is what Python's `str` indexes.
"""

import hashlib
import re
import unicodedata
from typing import Any

import regex
from django.core.exceptions import ValidationError

# Extended grapheme clusters by the `regex` module's `\X`: it follows Unicode's segmentation
# rules (UAX #29: emoji ZWJ sequences, flags, skin tones, Indic conjuncts) and is re-released for
# each Unicode version, unlike `grapheme` (stuck at Unicode 13) or `uniseg` (fewer users).
_CLUSTER = regex.compile(r"\X")

# Control characters (Unicode category Cc) other than tab and line breaks. No text a person types
# or a text file holds has one; one means binary data or a wrong decoding upstream, and NUL
# cannot even be stored by PostgreSQL (a bare 500 where it got that far).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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


# What never starts a cluster of its own, by UAX #29's rules GB9 and GB9a: it joins the character
# before it (a combining mark, a skin tone, a joiner, a vowel sign).
_JOINS_PREVIOUS = regex.compile(
    r"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}\p{Grapheme_Cluster_Break=SpacingMark}]"
)
# What joins the character after it (GB9b): a few signs such as U+0600 ARABIC NUMBER SIGN.
_JOINS_NEXT = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")


def _certain_boundary(text: str, offset: int) -> bool:
    """Whether a cluster boundary at `offset` follows from the two characters around it alone.

    Around a line break there always is one (GB4, GB5; "\r" never survives `normalise`). A
    printable ASCII character is an "Other" for every rule of UAX #29: there is a boundary after
    one unless the next character joins it, and before one unless the character before joins it.
    So the spaces between words give a certain boundary every few characters, in Arabic as in English.
    """
    before, here = text[offset - 1], text[offset]
    if before == "\n" or (here == "\n" and before != "\r"):
        return True
    if " " <= before <= "~":
        return here < "\u0300" or not _JOINS_PREVIOUS.match(here)
    if " " <= here <= "~":
        return not _JOINS_NEXT.match(before)
    return False


def cluster_around(text: str, offset: int) -> tuple[int, int] | None:
    """The extended grapheme cluster `[start, end)` that `offset` falls strictly inside, or None.

    None means the offset is a cluster boundary (the text's ends included), where a span may
    start or end. Clusters are found from the nearest earlier certain boundary, so a check reads
    a few characters, not the whole article.
    """
    if offset <= 0 or offset >= len(text):
        return None
    if " " <= text[offset - 1] <= "~" and text[offset] < "\u0300":
        return None  # the common case, decided without a call: see `_certain_boundary`
    if _certain_boundary(text, offset):
        return None
    origin = offset - 1
    while origin > 0 and not _certain_boundary(text, origin):
        origin -= 1
    for cluster in _CLUSTER.finditer(text, origin):
        if cluster.end() > offset:
            return None if cluster.start() == offset else cluster.span()
    return None


def control_character(value: Any) -> str | None:
    """The first control character in `value`, a string or JSON-like lists and dicts of them (keys
    included), or None. Raises RecursionError for data nested deeper than Python recurses."""
    if isinstance(value, str):
        found = CONTROL.search(value)
        return found.group() if found else None
    items = value.items() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        for part in item if isinstance(value, dict) else (item,):
            found = control_character(part)
            if found is not None:
                return found
    return None


def refuse_control_characters(value: Any, *, what: str) -> None:
    """Every way text comes in refuses control characters with this one message, naming the field."""
    found = control_character(value)
    if found is not None:
        raise ValidationError(
            f"{what} contains the control character U+{ord(found):04X}, which text cannot hold: remove it "
            "(tabs and line breaks are fine).",
            code="control_character",
        )
