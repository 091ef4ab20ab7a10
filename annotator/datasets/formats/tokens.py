"""Tokens for the token-based formats (spaCy, CoNLL): one tokenizer and one policy for both.

Tokenizer: spaCy's blank pipeline for the article's language (`spacy.blank(lang)`; Arabic
varieties get "ar"), or the multi-language "xx" one when spaCy has no tokenizer for it (or the
article has no language), with quote marks and punctuation of every script split from words
(`make_nlp`); a snapshot ships it (`save_tokenizer`). Where a span's edge cuts a known Arabic
proclitic off a word, that token is split for the article (`tokenize` with the record's spans).
spaCy's character offsets are Python string offsets, code points, like ours. See
docs/tokenization.md.

A span is written only if its start and end fall on token boundaries (what
`doc.char_span(..., alignment_mode="strict")` accepts); the others are counted as unaligned.

Overlap policy, for formats that allow one label per token (CoNLL BIO tags, spaCy `doc.ents`):
the longest span wins; between equally long spans, the one that starts first, then the label
first in the schema. A span that overlaps one already kept is dropped and counted.
(`doc.spans["sc"]` in the spaCy files keeps every aligned span, overlapping or not.) `placed`
works an annotation's spans out once for every format: aligned, and in the NER column and
each label's column (CoNLL, Parquet).

An article is tokenized once, for all its annotations and for every token format of the
snapshot (`tokenize` remembers the last article, and its split tokens, and the writers get each
record in turn: `record_tokens`), and once for every snapshot after it: its text never changes,
so its tokens are kept (`Tokens.keep`, `datasets.kept`) and read back (`Tokens.kept`) as arrays.
spaCy's Doc is made only for the spaCy files (`Tokens.doc`).
"""

import functools
import hashlib
import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import numpy
import spacy
from spacy.attrs import IS_SPACE, LENGTH, SPACY

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

# `Tokens.keep`: a token's length, whether a space follows it and whether it is whitespace.
KEPT_DTYPE = numpy.dtype("<i4")


# Arabic varieties that language identification names apart (py3langid's ary, arz) are written
# in Arabic script with Arabic punctuation: they get the Arabic tokenizer.
TOKENIZER_LANGUAGE = {"ary": "ar", "arz": "ar", "apc": "ar", "acm": "ar", "ajp": "ar", "aeb": "ar", "afb": "ar"}

# Quote marks and punctuation of every script the corpus has, split from words whatever the
# language: spaCy's blank pipelines glue some of them to words (Arabic: `”.`, `».`, `لـ”رويترز`).
QUOTES = "“”‘’«»„‚‹›\"'"
ARABIC_PUNCT = "،؛؟٪٫٬"
TATWEEL = "ـ"
ARABIC_LETTERS = "\u0621-\u064A\u066E-\u06D3\u06D5\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF"
# Letters and the marks written over them (a word may end in a tanwin: `طفلاً.`).
ARABIC = ARABIC_LETTERS + "\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED"
_extra_prefixes = [f"[{re.escape(QUOTES + ARABIC_PUNCT + TATWEEL)}…]"]
_extra_suffixes = [
    f"[{re.escape(QUOTES + ARABIC_PUNCT + TATWEEL)}…]",
    # Sentence punctuation after an Arabic letter, digit, percent sign, closing quote or bracket
    # (spaCy's own rules only know cased letters before a full stop).
    f"(?<=[{ARABIC}0-9\u0660-\u0669{re.escape(QUOTES)}%٪)\\]}}])[.,:;!?]",
]
_extra_infixes = [
    # Double quote marks and guillemets are never part of a word; an apostrophe is only between
    # Arabic letters (`O'Brien`, `don't` keep theirs).
    "[“”«»„‹›\"]",
    f"(?<=[{ARABIC}])[‘’'](?=[{ARABIC_LETTERS}])",
    f"[{ARABIC_PUNCT}{TATWEEL}]",
    f"(?<=[{ARABIC}])[.,:;!?…](?=[{ARABIC_LETTERS}])",
    f"(?<=[{ARABIC}])[(\\[{{]",  # an opening bracket after a clitic: `و(سانا)`
]

# Arabic proclitics written joined to the next word: a conjunction (و ف), then a preposition
# (ب ل ك) or ل with the article's ل (`للوزير`), maybe drawn out with a tatweel (`لـ`).
PROCLITIC = re.compile("(?:[وف]?(?:[بك]|لل?)|[وف])ـ?")
_ARABIC_LETTER = re.compile(f"[{ARABIC_LETTERS}]")


@functools.cache
def tokenizer_language(language: str) -> str:
    """The spaCy language code whose tokenizer an article in `language` gets ("xx" if none)."""
    code = re.split(r"[-_]", (language or "").lower())[0]
    code = TOKENIZER_LANGUAGE.get(code, code)
    if not code or code == "xx":
        return "xx"
    try:
        spacy.blank(code)  # once per language: the answer is cached
    except Exception:  # spaCy has no tokenizer for it, or it needs a package we don't ship (ja, zh, …)
        return "xx"
    return code


def make_nlp(code: str):
    """A new blank pipeline for spaCy language `code` with this module's punctuation rules; its
    tokenizer's rules are regular expressions, so `nlp.to_disk` saves them and `spacy.load`
    gives them back."""
    nlp = spacy.blank(code)
    tokenizer = nlp.tokenizer
    defaults = nlp.Defaults
    tokenizer.prefix_search = spacy.util.compile_prefix_regex([*(defaults.prefixes or []), *_extra_prefixes]).search
    tokenizer.suffix_search = spacy.util.compile_suffix_regex([*(defaults.suffixes or []), *_extra_suffixes]).search
    tokenizer.infix_finditer = spacy.util.compile_infix_regex([*(defaults.infixes or []), *_extra_infixes]).finditer
    return nlp


# Raise when `make_nlp` changes what it does (not only its rules' lists): `tokenizer_version`
# names the saved tokenizers that builds copy, and an old one must not be copied for a new one.
MAKE_NLP_VERSION = 1


@functools.cache
def tokenizer_version(code: str) -> str:
    """A name for what `save_tokenizer(code, …)` writes: a digest of what its files depend on
    (spaCy's version, whose rules for the language it keeps, and this module's rules)."""
    made_of = [MAKE_NLP_VERSION, spacy.__version__, code, _extra_prefixes, _extra_suffixes, _extra_infixes]
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False).encode()).hexdigest()[:16]


def save_tokenizer(code: str, directory: Path) -> None:
    """The blank pipeline of spaCy language `code`, with these rules, saved for `spacy.load`:
    a new one, so that its files hold no string of the articles tokenized before (no `vocab/`:
    spaCy makes an empty one when it loads the pipeline)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    make_nlp(code).to_disk(directory, exclude=["vocab"])


@functools.cache
def blank(language: str):
    nlp = make_nlp(tokenizer_language(language))
    nlp.tokenizer.max_cache_size = CACHE_SIZE
    return nlp


@functools.cache
def _seen(language: str) -> set[str]:
    """Chunks of text already given to `blank(language)`'s tokenizer cache."""
    return set()


def _tokenize(text: str, language: str):
    tokenizer = blank(language).tokenizer
    seen = _seen(language)
    chunks = text.split()
    if seen.issuperset(chunks):  # most articles, once the corpus's words have been seen
        return tokenizer(text)
    new = set(chunks)
    new -= seen
    if len(seen) + len(new) > CACHE_SIZE:
        blank.cache_clear()
        _seen.cache_clear()
        tokenizer, seen = blank(language).tokenizer, _seen(language)
        new = set(chunks)
    for chunk in new:
        tokenizer(chunk)
    seen |= new
    return tokenizer(text)


class Tokens:
    """An article's text as spaCy's tokens: each token's code-point offsets and length, whether a
    space follows it and whether it is whitespace, as arrays; and spaCy's `doc` of them, made
    only when a writer asks for it (the spaCy files): the CoNLL and Parquet writers need only the
    arrays, which a snapshot may read from an earlier one's (`kept`, `ArticleTokens`).

    `doc` is shared by every annotation of the article and every format: read it, never change it.
    `clitic_splits` is how many tokens were cut at a proclitic for the spans (see `tokenize`).
    """

    def __init__(self, text: str, language: str, lengths, spaces, is_space, make_doc, clitic_splits: int = 0):
        self.text = text
        self.language = language
        self.clitic_splits = clitic_splits
        self._make_doc = make_doc
        # Each token is followed by its own single space, if any, and then by the next token.
        widths = lengths + spaces
        following = numpy.cumsum(widths)
        if (following[-1] if len(widths) else 0) != len(text):
            raise RuntimeError("The tokens do not cover the text")
        starts = following - widths
        self.lengths = lengths  # each token's length in code points, as an array
        self.spaces = spaces  # 1 where a space follows the token, as an array
        self.is_space = is_space  # True where the token is whitespace, as an array
        self.start_array = starts
        # Each token's start and end for lookups one at a time (`align`'s bisects): views of the
        # arrays, not lists, which made and freed a Python int a token for the few dozen looked
        # up (docs/performance.md, fifteenth session).
        self.starts = memoryview(starts)
        self.ends = memoryview(starts + lengths)

    @classmethod
    def of(cls, text: str, language: str) -> "Tokens":
        """The text as the language's tokenizer (`blank`) cuts it."""
        return cls.from_doc(text, language, _tokenize(text, language))

    @classmethod
    def from_doc(cls, text: str, language: str, doc, clitic_splits: int = 0) -> "Tokens":
        lengths, spaces, is_space = doc.to_array([LENGTH, SPACY, IS_SPACE]).astype(numpy.int64).reshape(-1, 3).T
        return cls(text, language, lengths, spaces, is_space != 0, lambda: doc, clitic_splits)

    @classmethod
    def kept(cls, text: str, language: str, kept: bytes) -> "Tokens | None":
        """The tokens `keep()` gave for this text and language, or None if they do not cover it."""
        if len(kept) % KEPT_DTYPE.itemsize:
            return None
        packed = numpy.frombuffer(kept, KEPT_DTYPE).astype(numpy.int64)
        lengths, spaces, is_space = packed >> 2, (packed >> 1) & 1, (packed & 1) != 0
        if int(lengths.sum() + spaces.sum()) != len(text):
            return None
        return cls(text, language, lengths, spaces, is_space, lambda: _tokenize(text, language))

    def keep(self) -> bytes:
        """The tokens as bytes to keep for the next snapshot: each token's length, whether a
        space follows it and whether it is whitespace, in one 32-bit integer a token."""
        return ((self.lengths << 2) | (self.spaces << 1) | self.is_space).astype(KEPT_DTYPE).tobytes()

    @functools.cached_property
    def doc(self):
        """spaCy's Doc of these tokens (made now if the tokens were kept)."""
        return self._make_doc()

    @property
    def vocab(self):
        return self.doc.vocab

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

    def clitic_cuts(self, spans) -> dict[int, list[int]]:
        """Token -> the offsets inside it where a span edge cuts a proclitic off an Arabic word
        (`لقناة` for a span that starts at `قناة`). Other edges inside a token are left alone.

        Most edges are on token boundaries: those inside a token are found for all the edges at
        once, as arrays, and only they are looked at one by one."""
        cuts: dict[int, list[int]] = {}
        if not spans or not len(self.starts):
            return cuts
        edges = numpy.fromiter((edge for span in spans for edge in (span["start"], span["end"])), numpy.int64, 2 * len(spans))
        tokens = numpy.searchsorted(self.start_array, edges, side="right") - 1
        ends = self.start_array[tokens] + self.lengths[tokens]
        within = (tokens >= 0) & (edges < ends) & (self.start_array[tokens] != edges)
        starts, text = self.starts, self.text
        for token, edge in zip(tokens[within].tolist(), edges[within].tolist()):
            if PROCLITIC.fullmatch(text, starts[token], edge) and _ARABIC_LETTER.match(text, edge):
                cuts.setdefault(token, []).append(edge)
        return cuts

    def split_at(self, cuts: dict[int, list[int]]) -> "Tokens":
        """These tokens with each token in `cuts` split at its offsets; its `doc` is a copy of
        this one's split there (`doc.retokenize().split`): the shared one is never changed."""
        # Each token cut: its start, the cuts, its end.
        bounds = {token: [self.starts[token], *sorted(set(cuts[token])), self.ends[token]] for token in sorted(cuts)}
        lengths, spaces, is_space = [], [], []
        previous = 0
        for token, edges in bounds.items():
            lengths.append(self.lengths[previous:token])
            spaces.append(self.spaces[previous:token])
            is_space.append(self.is_space[previous:token])
            pieces = numpy.diff(edges)
            lengths.append(pieces)
            # The last piece keeps the token's space; the pieces of a word are not whitespace.
            spaces.append(numpy.append(numpy.zeros(len(pieces) - 1, numpy.int64), self.spaces[token]))
            is_space.append(numpy.zeros(len(pieces), bool))
            previous = token + 1
        lengths.append(self.lengths[previous:])
        spaces.append(self.spaces[previous:])
        is_space.append(self.is_space[previous:])
        lengths = numpy.concatenate(lengths)
        return Tokens(
            self.text, self.language, lengths, numpy.concatenate(spaces), numpy.concatenate(is_space),
            functools.partial(self._split_doc, bounds), len(lengths) - len(self),
        )

    def _split_doc(self, bounds: dict[int, list[int]]):
        doc = self.doc.copy()
        with doc.retokenize() as retokenizer:
            for token, edges in bounds.items():
                pieces = [self.text[a:b] for a, b in zip(edges, edges[1:])]
                retokenizer.split(doc[token], pieces, heads=[(doc[token], i) for i in range(len(pieces))])
        return doc


_last: tuple[str, str, Tokens] | None = None
_last_split: tuple[Tokens, tuple, Tokens] | None = None


def tokenize(text: str, language: str, spans=None, kept: Tokens | None = None) -> Tokens:
    """The article's tokens; the same object for the same article given again straight after.
    `kept`: its tokens kept from an earlier snapshot (`Tokens.kept`), which spare tokenizing it.

    With `spans` (every span of the article's record, of all its annotations), a token that a
    span's edge cuts a known Arabic proclitic off is split there, so the span aligns without
    being moved; every writer given the same record gets the same tokens.
    """
    global _last, _last_split
    last = _last
    if last is not None and last[1] == language and last[0] == text:
        tokens = last[2]
    else:
        tokens = kept or Tokens.of(text, language)
        _last = (text, language, tokens)
    if not spans:
        return tokens
    cuts = tokens.clitic_cuts(spans)
    if not cuts:
        return tokens
    key = tuple(sorted((token, tuple(sorted(set(edges)))) for token, edges in cuts.items()))
    last_split = _last_split
    if last_split is not None and last_split[0] is tokens and last_split[1] == key:
        return last_split[2]
    split = tokens.split_at(cuts)
    _last_split = (tokens, key, split)
    return split


_last_record: tuple[dict, Tokens] | None = None


def record_tokens(record: dict, kept: Tokens | None = None) -> Tokens:
    """`tokenize` for a record: its text and language, split at proclitics for all its spans;
    the same object for the same record given again straight after (to the next writer)."""
    global _last_record
    last = _last_record
    if last is not None and last[0] is record:
        return last[1]
    spans = [span for annotation in record["annotations"] for span in annotation["spans"]]
    tokens = tokenize(record["text"], record["language"], spans, kept)
    _last_record = (record, tokens)
    return tokens


def unaligned_labels(spans: list[dict], aligned: list[tuple[dict, int, int]]) -> dict[str, int]:
    """How many spans of each label `align` left out."""
    missed: dict[str, int] = {}
    kept = {id(span) for span, _, _ in aligned}
    for span in spans:
        if id(span) not in kept:
            missed[span["label"]] = missed.get(span["label"], 0) + 1
    return missed


def _first_token(item: tuple[dict, int, int]) -> int:
    return item[1]


def _non_overlapping(ordered: list[tuple[dict, int, int]], size: int) -> list[tuple[dict, int, int]]:
    """The spans of `ordered` (policy order) that overlap none before them, in text order."""
    taken = bytearray(size)
    kept = []
    for item in ordered:
        _, start, end = item
        if taken.find(1, start, end) < 0:
            taken[start:end] = b"\x01" * (end - start)
            kept.append(item)
    kept.sort(key=_first_token)
    return kept


def _policy_order(aligned: list[tuple[dict, int, int]], label_order: list[str]) -> list[tuple[dict, int, int]]:
    """The spans in the order the overlap policy takes them: longest first, then the one that
    starts first, then the label first in the schema, then the oldest."""
    rank = {label: i for i, label in enumerate(label_order)}
    unknown = len(rank)
    return sorted(
        aligned,
        key=lambda item: (item[0]["start"] - item[0]["end"], item[0]["start"], rank.get(item[0]["label"], unknown), item[0]["id"]),
    )


@dataclass(frozen=True)
class Placed:
    """An annotation's spans on the article's tokens, worked out once for every token format."""

    aligned: list  # (span, first token, token after the last) of each span on token boundaries, in the spans' order
    unaligned: int  # spans not on token boundaries
    columns: list  # the NER column's spans (the overlap policy), then each label's; each in text order
    left_out: int  # spans the NER column leaves out (overlaps)
    overlapping: int  # spans a label column leaves out (inside or across a longer one of that label)


_placed: dict = {"tokens": None, "labels": None, "annotations": {}}


def placed(tokens: Tokens, annotation: dict, labels: list[str]) -> Placed:
    """The annotation's spans on these tokens: aligned, and in the NER column and each label's
    column. A snapshot hands each record, the same objects, to its writers in turn, so this keeps
    the current article's until the next.

    One sort in the policy's order serves every column: the NER column takes from it every span
    that overlaps none taken before; a label's column does the same with that label's spans,
    those on the same tokens being one entity of the column.
    """
    if _placed["tokens"] is not tokens or _placed["labels"] != labels:
        _placed.update(tokens=tokens, labels=list(labels), annotations={})
    # Keyed by the annotation's id(), with the annotation kept so that its id cannot be reused.
    kept = _placed["annotations"].get(id(annotation))
    if kept is not None and kept[0] is annotation:
        return kept[1]
    aligned, unaligned = tokens.align(annotation["spans"])
    size = max((end for _, _, end in aligned), default=0)
    ordered = _policy_order(aligned, labels)
    ner = _non_overlapping(ordered, size)
    by_label: dict[str, dict] = {label: {} for label in labels}
    for item in ordered:
        same = by_label.get(item[0]["label"])
        if same is not None:
            same.setdefault(item[1:], item)
    columns, overlapping = [ner], 0
    for same in by_label.values():
        column = _non_overlapping(list(same.values()), size)
        overlapping += len(same) - len(column)
        columns.append(column)
    result = Placed(aligned, unaligned, columns, len(aligned) - len(ner), overlapping)
    _placed["annotations"][id(annotation)] = (annotation, result)
    return result
