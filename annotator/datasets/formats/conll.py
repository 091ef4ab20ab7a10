"""CoNLL-2003 style BIO files, one per split: `train.conll`, `validation.conll`, `test.conll`.

Each (article, annotation) is one document, started by the line `-DOCSTART- -X- -X- O` and a
blank line, in the order of the JSONL file (article id, then gold, then analysts by name).
Then one token a line, four columns separated by single spaces: the token, `_` (no part of
speech), `_` (no chunk) and the tag: `B-Label`, `I-Label` or `O`. Tokens are spaCy's (see
`tokens`); whitespace tokens are not written, and a blank line ends a sentence at every line
break of the text that is not inside a kept span. Whitespace inside a token (rare: only a
tokenizer special case with a space makes one) is written as `_` so the columns stay four.

Overlaps: one tag per token, so the overlap policy of `tokens` applies: the longest span wins,
overlapping ones are dropped and counted in the card with the spans not on token boundaries.

An article's document with every tag `O` is made once, from slices of its text; an
annotation's document is that text with its spans' tags put in place of their tokens' `O`.
"""

import re
from bisect import bisect_left
from itertools import compress
from operator import itemgetter

import numpy

from ..splits import SPLITS
from .tokens import longest_first, record_tokens, tokenizer_language, unaligned_labels

DOCSTART = "-DOCSTART- -X- -X- O\n"
_SPACE = re.compile(r"\s")
# A word's line is the word, " _ _ ", its tag and "\n": _REST follows the word while its tag
# is O, and the tag starts _TAG_AT characters after the word.
_REST = " _ _ O\n"
_TAG_AT = len(" _ _ ")


class _Article:
    """An article's CoNLL document with every tag `O`, and where each word's tag is in it.

    Words are the tokens written (not whitespace); line breaks are the whitespace tokens with a
    "\n", after which a sentence ends unless it is empty or the break is inside a kept span.
    """

    def __init__(self, tokens):
        from spacy.attrs import IS_SPACE

        self.tokens = tokens
        text = tokens.text
        is_space = tokens.doc.to_array(IS_SPACE).astype(bool) if len(tokens) else numpy.zeros(0, bool)
        written = ~is_space
        self.word_tokens = numpy.flatnonzero(written).tolist()
        spaces = numpy.flatnonzero(is_space).tolist()
        self.breaks = [i for i in spaces if "\n" in text[tokens.starts[i] : tokens.ends[i]]]
        slices = list(map(slice, compress(tokens.starts, written), compress(tokens.ends, written)))
        words = itemgetter(*slices)(text) if len(slices) > 1 else tuple(text[s] for s in slices)
        joined = "".join(words)
        if joined.split(maxsplit=1) != [joined]:
            # Whitespace inside a token: "_" for each such character, so the columns stay four.
            words = tuple(_SPACE.sub("_", word) for word in words)
        self.words = words
        self.lengths = numpy.fromiter(map(len, words), numpy.int64, len(words))
        self.text, self.tag_at = self.document(self.breaks)

    def document(self, breaks: list[int]) -> tuple[str, list[int]]:
        """The document when these line breaks may end a sentence: its text, and where each
        word's tag is in it."""
        sentence_ends, last = [], 0
        for token in breaks:
            words_before = bisect_left(self.word_tokens, token)
            if words_before > last:
                sentence_ends.append(words_before)
                last = words_before
        if len(self.words) > last:
            sentence_ends.append(len(self.words))
        parts, previous = [DOCSTART, "\n"], 0
        for end in sentence_ends:
            parts.append(_REST.join(self.words[previous:end]))
            parts.append(_REST + "\n")
            previous = end
        # Each line before a word's adds its length and that of _REST; each sentence ended before
        # it adds one blank line.
        line_starts = numpy.cumsum(self.lengths + len(_REST)) - (self.lengths + len(_REST))
        blank_lines = numpy.searchsorted(numpy.asarray(sentence_ends, numpy.int64), numpy.arange(len(self.words)), side="right")
        tag_at = len(DOCSTART) + 1 + line_starts + blank_lines + self.lengths + _TAG_AT
        return "".join(parts), tag_at.tolist()

    def tagged(self, kept: list[tuple[dict, int, int]]) -> tuple[str, int]:
        """The document with the kept spans' tags, and how many kept spans had no word to tag."""
        empty = 0
        spans = []
        suppressed = set()
        word_tokens, breaks = self.word_tokens, self.breaks
        for span, start, end in kept:
            first, after = bisect_left(word_tokens, start), bisect_left(word_tokens, end)
            if first == after:
                empty += 1
                continue
            spans.append((span["label"], first, after))
            i = bisect_left(breaks, start)
            while i < len(breaks) and breaks[i] < end:
                suppressed.add(breaks[i])
                i += 1
        if suppressed:
            text, tag_at = self.document([token for token in breaks if token not in suppressed])
        else:
            text, tag_at = self.text, self.tag_at
        # A span's words are consecutive lines with no blank line between them (a line break
        # inside a kept span ends no sentence), so its tagged lines are one join.
        parts, position, words = [], 0, self.words
        for label, first, after in spans:
            parts.append(text[position : tag_at[first]])
            parts.append(f"B-{label}")
            if after - first > 1:
                inside = f" _ _ I-{label}"
                parts.append("\n")
                parts.append(f"{inside}\n".join(words[first + 1 : after]))
                parts.append(inside)
            position = tag_at[after - 1] + 1
        parts.append(text[position:])
        return "".join(parts), empty


class Writer:
    format = "conll"
    concatenable = True  # a document per (article, annotation), one after another

    def __init__(self, output, schema: dict):
        self.labels = [label["name"] for label in schema["labels"]]
        self.output = output
        self.handles = {}
        self.unaligned = dict.fromkeys(SPLITS, 0)
        self.overlapping = dict.fromkeys(SPLITS, 0)
        self.clitic_splits = dict.fromkeys(SPLITS, 0)
        self.spans = {}  # tokenizer language -> spans given
        self.unaligned_labels = {}  # tokenizer language -> label -> spans not on token boundaries
        self._article = None

    def add(self, record: dict, split: str) -> None:
        tokens = record_tokens(record)
        if self._article is None or self._article.tokens is not tokens:
            self._article = _Article(tokens)
        language = tokenizer_language(record["language"])
        self.clitic_splits[split] += tokens.clitic_splits
        if split not in self.handles:
            self.handles[split] = self.output.open(f"{split}.conll", self.format, "w", encoding="utf-8", newline="\n")
        handle = self.handles[split]
        for annotation in record["annotations"]:
            aligned, unaligned = tokens.align(annotation["spans"])
            kept, dropped = longest_first(aligned, self.labels)
            document, empty = self._article.tagged(kept)
            self.unaligned[split] += unaligned
            self.overlapping[split] += dropped + empty
            self.spans[language] = self.spans.get(language, 0) + len(annotation["spans"])
            if unaligned:
                missed = self.unaligned_labels.setdefault(language, {})
                for label, n in unaligned_labels(annotation["spans"], aligned).items():
                    missed[label] = missed.get(label, 0) + n
            handle.write(document)

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return {
            "unaligned_spans": self.unaligned,
            "overlapping_spans_dropped": self.overlapping,
            "clitic_splits": self.clitic_splits,
            "spans_by_language": self.spans,
            "unaligned_by_language": self.unaligned_labels,
        }
