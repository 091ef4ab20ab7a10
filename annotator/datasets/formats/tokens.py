"""Tokens for the token-based formats (spaCy, CoNLL): one tokenizer and one policy for both.

Tokenizer: spaCy's blank pipeline for the article's language (`spacy.blank(lang)`), or the
multi-language "xx" one when spaCy has no tokenizer for it (or the article has no language).
spaCy's character offsets are Python string offsets, code points, like ours.

A span is written only if its start and end fall on token boundaries (what
`doc.char_span(..., alignment_mode="strict")` accepts); the others are counted as unaligned.

Overlap policy, for formats that allow one label per token (CoNLL BIO tags, spaCy `doc.ents`):
the longest span wins; between equally long spans, the one that starts first, then the label
first in the schema. A span that overlaps one already kept is dropped and counted.
(`doc.spans["sc"]` in the spaCy files keeps every aligned span, overlapping or not.)

An article is tokenized once, for all its annotations and for every token format of the
snapshot (`tokenize` remembers the last article, and the writers get each record in turn).
"""

import functools
import re
from bisect import bisect_left

import numpy
import spacy
from spacy.attrs import LENGTH, SPACY

# spaCy caches the tokens of each whitespace-separated chunk of text, but stops adding to the
# cache for the rest of a text at its first special case (`Tokenizer._save_cached`), and a line
# break is a special case: for an article almost nothing was cached, and chunk after chunk went
# through the prefix, suffix and infix regular expressions again, most of an export's time. So
# each chunk not seen before is first tokenized on its own, which caches it (unless it holds a
# special case itself), and the article is then tokenized as before, from the cache. The tokens
# are spaCy's either way: the cache only holds what spaCy computed for that chunk. The cache
# is made larger than spaCy's 10,000 chunks: 10,000 news articles have about 20,000.
# A pipeline's vocabulary and cache only grow (every new string stays), and a worker builds
# snapshot after snapshot: after CACHE_SIZE new chunks the pipeline is dropped for a fresh one,
# so memory stays bounded however many articles go through (measured: 100k articles took a
# CoNLL export from 143 to 220 MB before this).
CACHE_SIZE = 20_000


@functools.cache
def blank(language: str):
    code = re.split(r"[-_]", (language or "").lower())[0]
    nlp = None
    if code and code != "xx":
        try:
            nlp = spacy.blank(code)
        except Exception:  # spaCy has no tokenizer for it, or it needs a package we don't ship
            pass
    if nlp is None:
        nlp = spacy.blank("xx")
    nlp.tokenizer.max_cache_size = CACHE_SIZE
    return nlp


@functools.cache
def _seen(language: str) -> set[str]:
    """Chunks of text already given to `blank(language)`'s tokenizer cache."""
    return set()


def _tokenize(text: str, language: str):
    tokenizer = blank(language).tokenizer
    seen = _seen(language)
    new = set(text.split())
    new -= seen
    if len(seen) + len(new) > CACHE_SIZE:
        blank.cache_clear()
        _seen.cache_clear()
        tokenizer, seen = blank(language).tokenizer, _seen(language)
        new = set(text.split())
    for chunk in new:
        tokenizer(chunk)
    seen |= new
    return tokenizer(text)


class Tokens:
    """An article's text as spaCy tokens, with each token's code-point offsets.

    `doc` is shared by every annotation of the article and every format: read it, never change it.
    """

    def __init__(self, text: str, language: str):
        self.text = text
        self.doc = doc = _tokenize(text, language)
        self.vocab = doc.vocab
        # Each token is followed by its own single space, if any, and then by the next token.
        lengths = doc.to_array([LENGTH, SPACY]).astype(numpy.int64).reshape(-1, 2)
        widths = lengths.sum(axis=1)
        following = numpy.cumsum(widths)
        if (following[-1] if len(doc) else 0) != len(text):
            raise RuntimeError("spaCy's tokens do not cover the text")
        starts = following - widths
        self.starts = starts.tolist()
        self.ends = (starts + lengths[:, 0]).tolist()

    def __len__(self) -> int:
        return len(self.starts)

    def align(self, spans: list[dict]) -> tuple[list[tuple[dict, int, int]], int]:
        """(span record, first token, token after the last) for each span on token boundaries,
        in the spans' order, and how many spans were not on token boundaries."""
        aligned = []
        starts, ends = self.starts, self.ends
        count = len(starts)
        for span in spans:
            start = bisect_left(starts, span["start"])
            if start == count or starts[start] != span["start"]:
                continue
            last = bisect_left(ends, span["end"])
            if last == count or ends[last] != span["end"]:
                continue
            aligned.append((span, start, last + 1))
        return aligned, len(spans) - len(aligned)


_last: tuple[str, str, Tokens] | None = None


def tokenize(text: str, language: str) -> Tokens:
    """The article's tokens; the same object for the same article given again straight after."""
    global _last
    last = _last
    if last is not None and last[1] == language and last[0] == text:
        return last[2]
    tokens = Tokens(text, language)
    _last = (text, language, tokens)
    return tokens


def longest_first(aligned: list[tuple[dict, int, int]], label_order: list[str]) -> tuple[list[tuple[dict, int, int]], int]:
    """The non-overlapping spans the overlap policy keeps, in text order, and how many it dropped."""
    rank = {label: i for i, label in enumerate(label_order)}
    ordered = sorted(
        aligned,
        key=lambda item: (-(item[0]["end"] - item[0]["start"]), item[0]["start"], rank.get(item[0]["label"], len(rank)), item[0]["id"]),
    )
    taken = bytearray(max((end for _, _, end in aligned), default=0))
    kept = []
    for item in ordered:
        _, start, end = item
        if taken.find(1, start, end) < 0:
            taken[start:end] = b"\x01" * (end - start)
            kept.append(item)
    kept.sort(key=lambda item: item[1])
    return kept, len(aligned) - len(kept)
