"""Tokens for the token-based formats (spaCy, CoNLL): one tokenizer and one policy for both.

Tokenizer: spaCy's blank pipeline for the article's language (`spacy.blank(lang)`), or the
multi-language "xx" one when spaCy has no tokenizer for it (or the article has no language).
spaCy's character offsets are Python string offsets, code points, like ours.

A span is written only if its start and end fall on token boundaries
(`doc.char_span(..., alignment_mode="strict")`); the others are counted as unaligned.

Overlap policy, for formats that allow one label per token (CoNLL BIO tags, spaCy `doc.ents`):
the longest span wins; between equally long spans, the one that starts first, then the label
first in the schema. A span that overlaps one already kept is dropped and counted.
(`doc.spans["sc"]` in the spaCy files keeps every aligned span, overlapping or not.)
"""

import functools
import re


@functools.cache
def blank(language: str):
    import spacy

    code = re.split(r"[-_]", (language or "").lower())[0]
    if code and code != "xx":
        try:
            return spacy.blank(code)
        except Exception:  # spaCy has no tokenizer for it, or it needs a package we don't ship
            pass
    return spacy.blank("xx")


def align(doc, spans: list[dict]) -> tuple[list[tuple[dict, object]], int]:
    """(span record, spaCy span) for each span on token boundaries, and how many were not."""
    aligned, unaligned = [], 0
    for span in spans:
        token_span = doc.char_span(span["start"], span["end"], label=span["label"], alignment_mode="strict")
        if token_span is None:
            unaligned += 1
        else:
            aligned.append((span, token_span))
    return aligned, unaligned


def longest_first(aligned: list[tuple[dict, object]], label_order: list[str]) -> tuple[list[tuple[dict, object]], int]:
    """The non-overlapping spans the overlap policy keeps, in text order, and how many it dropped."""
    rank = {label: i for i, label in enumerate(label_order)}
    ordered = sorted(
        aligned,
        key=lambda pair: (-(pair[0]["end"] - pair[0]["start"]), pair[0]["start"], rank.get(pair[0]["label"], len(rank)), pair[0]["id"]),
    )
    kept: list[tuple[dict, object]] = []
    for pair in ordered:
        span = pair[1]
        if all(span.end <= other.start or span.start >= other.end for _, other in kept):
            kept.append(pair)
    kept.sort(key=lambda pair: pair[1].start)
    return kept, len(aligned) - len(kept)
