"""Property tests: normalisation and code-point offsets over hostile Unicode."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.corpus.text import normalise, paragraphs, sha256, utf16_length

TRICKY = [
    "👩‍👩‍👧‍👦",  # ZWJ sequence of astral characters
    "🇦🇲",  # regional-indicator flag
    "e\u0301",  # combining acute accent
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",  # Arabic
    "\u064b",  # Arabic combining mark (fathatan)
    "𝕏",  # astral, non-emoji
    "\r\n",
    "\r",
    "\n",
    "“quoted”",
    "\u200f",  # right-to-left mark
    " ",
]
text_strategy = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=5)), max_size=30).map("".join)


@given(text_strategy)
def test_normalise_is_idempotent_nfc_and_has_only_newline_breaks(raw):
    text = normalise(raw)
    assert normalise(text) == text
    assert "\r" not in text
    assert unicodedata.is_normalized("NFC", text)
    assert text.count("\n") == raw.count("\r\n") + (raw.count("\r") - raw.count("\r\n")) + (raw.count("\n") - raw.count("\r\n"))


@given(text_strategy)
def test_paragraphs_cover_every_character_once(raw):
    text = normalise(raw)
    ranges = paragraphs(text)
    assert "\n".join(text[a:b] for a, b in ranges) == text
    assert all("\n" not in text[a:b] for a, b in ranges)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(text)


@given(text_strategy, st.data())
def test_code_point_offsets_survive_utf16_round_trip(raw, data):
    """What the browser does: count UTF-16 units before a point, convert to code points."""
    text = normalise(raw)
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    units_before = utf16_length(text[:start])
    encoded = text.encode("utf-16-le")
    prefix = encoded[: units_before * 2].decode("utf-16-le")
    assert len(prefix) == start  # a code-point count, whatever the astral characters before it
    assert text[start:end] == text[len(prefix) : len(prefix) + (end - start)]


@given(text_strategy)
@settings(max_examples=50)
def test_sha256_is_of_the_normalised_text(raw):
    assert sha256(normalise(raw)) == sha256(normalise(normalise(raw)))
    assert len(sha256(raw)) == 64
