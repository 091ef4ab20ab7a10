"""CoNLL files with one BIO column per label, one file per split: `train.conll`, `validation.conll`, `test.conll`.

Each (article, annotation) is one document, in the order of the JSONL file (article id, then
gold, then analysts by name), started by a line saying whose it is, then a blank line:
`-DOCSTART- article_id=12 annotation_id=34 annotator=ana language=en` (`-` for a value there is
none of: the "agreed" consensus has no annotation id, an article may have no language; its
annotator is then named by its analysts, "ana+bob"). Readers of CoNLL-2003 files skip a line
that starts with `-DOCSTART-` (`datasets`' "conll" reader, whose call the card prints, does).

Then one token a line, columns separated by single spaces: the token, `_` (no part of speech),
`_` (no chunk), the NER column, then one column per label of the schema, in the schema's order:

    token _ _ NER Claim Quote Source

- NER: the CoNLL-2003 column, one tag a token, so overlapping spans cannot all be there: the
  overlap policy of `tokens` applies (the longest span wins); the others are counted in the card.
- One column per label (layered, as nested-NER corpora ship): every span of that label, in BIO
  (`B-Quote`, `I-Quote`, `O`), so a Quote inside a Claim is in the Quote column and the Claim in
  the Claim column. Only spans of the same label that overlap each other cannot share their
  column: the longest wins there too, and the others are counted in the card. Two spans of the
  same label on the same tokens are one entity in the column.

Tokens are spaCy's (see `tokens`); whitespace tokens are not written, and a blank line ends a
sentence at every line break of the text that is not inside a written span (of any column).
Whitespace inside a token (rare: only a tokenizer special case with a space makes one) is
written as `_` so the columns stay put. Spans not on token boundaries are in no column, counted.

An article's document with every tag `O` is made once, from slices of its text; an
annotation's document is that text with its spans' tags put in place of their words' `O`s, a
run of words with the same tags at a time (most words are `O` in every column, and a span's
inside words have the same tags as each other), never word by word.
"""

import functools
import re
from bisect import bisect_left
from dataclasses import dataclass

import numpy

from ..splits import SPLITS
from . import annotator_name, concatenate
from .tokens import placed, record_tokens, tokenizer_language, unaligned_labels

_SPACE = re.compile(r"\s")
# A word's line is the word, " _ _ ", its tags and "\n"; its tags start _TAG_AT characters after the word.
_TAG_AT = len(" _ _ ")


def docstart(record: dict, annotation: dict) -> str:
    """The line that starts an annotation's document, and the blank line after it."""
    fields = {
        "article_id": record["id"],
        "annotation_id": annotation.get("id"),
        "annotator": annotator_name(annotation),
        "language": record.get("language"),
    }
    values = " ".join(f"{key}={_SPACE.sub('_', str(value)) if value not in (None, '') else '-'}" for key, value in fields.items())
    return f"-DOCSTART- {values}\n\n"


class Words:
    """An article's words: the tokens written (not whitespace), and its line breaks: the
    whitespace tokens with a "\n". Shared by the CoNLL and Parquet writers (`words_of`)."""

    def __init__(self, tokens):
        self.tokens = tokens
        text = tokens.text
        is_space = tokens.is_space
        self.written = written = ~is_space  # a mask of the tokens that are words
        # words_before[t]: how many words come before token t (t up to the number of tokens): the
        # words of tokens [start, end) are words[words_before[start]:words_before[end]].
        self.words_before = memoryview(numpy.concatenate([[0], numpy.cumsum(written)]))  # a view, as `Tokens.starts`
        spaces = numpy.flatnonzero(is_space).tolist()
        self.breaks = [i for i in spaces if "\n" in text[tokens.starts[i] : tokens.ends[i]]]
        self.lengths = tokens.lengths[written]  # "_" for whitespace keeps a word's length
        self.count = len(self.lengths)

    @functools.cached_property
    def words(self) -> tuple[str, ...]:
        """The words as strings: made only for a writer that needs them (CoNLL), one Python
        string a word, sliced from the text."""
        text = self.tokens.text
        starts = self.tokens.start_array[self.written]
        words = [text[start:end] for start, end in zip(starts.tolist(), (starts + self.lengths).tolist())]
        joined = "".join(words)
        if joined.split(maxsplit=1) != [joined]:
            # Whitespace inside a token: "_" for each such character, so the columns stay put.
            words = [_SPACE.sub("_", word) for word in words]
        return tuple(words)

    def __len__(self) -> int:
        return self.count


_last_words: Words | None = None


def words_of(tokens) -> Words:
    """The article's words; the same object for the same `Tokens` given again straight after."""
    global _last_words
    if _last_words is None or _last_words.tokens is not tokens:
        _last_words = Words(tokens)
    return _last_words


def word_codes(words: Words, columns: list[list[tuple[dict, int, int]]], index: dict[str, int]):
    """Each word's tag in each column as a code (0 for O, 2k+1 for B and 2k+2 for I of label k),
    a (columns, words) array: a column's codes are contiguous, so what is asked of every word's
    tags (any span? a B? the same as the word before?) is a few operations on whole rows; how
    many spans of each column had no word (whitespace only); and the line breaks inside a span
    that has words."""
    words_before, breaks = words.words_before, words.breaks
    # int32: 2k+2 for any schema's labels, and half the memory of int64 in Parquet's row groups.
    codes = numpy.zeros((len(columns), len(words)), numpy.int32)
    empty = [0] * len(columns)
    inside = set()
    for column, spans in enumerate(columns):
        for span, start, end in spans:
            first, after = words_before[start], words_before[end]
            if first == after:
                empty[column] += 1
                continue
            label = index[span["label"]]
            codes[column, first] = 2 * label + 1
            codes[column, first + 1 : after] = 2 * label + 2
            i = bisect_left(breaks, start)
            while i < len(breaks) and breaks[i] < end:
                inside.add(breaks[i])
                i += 1
    return codes, empty, inside


@dataclass(frozen=True)
class Layered:
    """An annotation's spans on the article's words: what the CoNLL and Parquet writers write."""

    aligned: list  # (span, first token, token after the last) of each span on token boundaries
    unaligned: int  # spans not on token boundaries
    left_out: int  # spans the NER column leaves out (overlaps)
    overlapping: int  # spans a label column leaves out (inside or across a longer one of that label)
    codes: numpy.ndarray  # `word_codes`: read it, never change it (both writers share it)
    empty: list[int]
    inside: set[int]


_layered: dict = {"words": None, "labels": None, "annotations": {}}


def layered(tokens, words: Words, annotation: dict, labels: list[str], index: dict[str, int]) -> Layered:
    """The annotation's `Layered`, worked out once for both writers: a snapshot hands each record,
    the same objects, to its writers in turn, so this keeps the current article's until the next."""
    if _layered["words"] is not words or _layered["labels"] != labels:
        _layered.update(words=words, labels=list(labels), annotations={})
    # Keyed by the annotation's id(), with the annotation kept so that its id cannot be reused.
    kept = _layered["annotations"].get(id(annotation))
    if kept is not None and kept[0] is annotation:
        return kept[1]
    spans = placed(tokens, annotation, labels)
    codes, empty, inside = word_codes(words, spans.columns, index)
    result = Layered(spans.aligned, spans.unaligned, spans.left_out, spans.overlapping, codes, empty, inside)
    _layered["annotations"][id(annotation)] = (annotation, result)
    return result


class Losses:
    """What an annotation's token columns could not hold, added up per split, and the spans given
    and not aligned per tokenizer language and label: the one report of the CoNLL and Parquet
    writers, which write the same columns (`layered`)."""

    def __init__(self):
        self.unaligned, self.out_of_ner, self.same_label, self.wordless, self.clitic_splits = (
            dict.fromkeys(SPLITS, 0) for _ in range(5)
        )
        self.spans = {}  # tokenizer language -> spans given
        self.unaligned_labels = {}  # tokenizer language -> label -> spans not on token boundaries

    def article(self, tokens, split: str) -> None:
        self.clitic_splits[split] += tokens.clitic_splits

    def add(self, record: dict, annotation: dict, layer: "Layered", split: str) -> None:
        language = tokenizer_language(record["language"])
        self.unaligned[split] += layer.unaligned
        self.out_of_ner[split] += layer.left_out + layer.empty[0]
        self.same_label[split] += layer.overlapping
        self.wordless[split] += sum(layer.empty[1:])
        self.spans[language] = self.spans.get(language, 0) + len(annotation["spans"])
        if layer.unaligned:
            missed = self.unaligned_labels.setdefault(language, {})
            for label, n in unaligned_labels(annotation["spans"], layer.aligned).items():
                missed[label] = missed.get(label, 0) + n

    def report(self) -> dict:
        return {
            "unaligned_spans": self.unaligned,
            "overlapping_spans_left_out_of_the_ner_column": self.out_of_ner,
            "same_label_overlaps_left_out_of_their_label_column": self.same_label,
            "spans_on_whitespace_only": self.wordless,
            "clitic_splits": self.clitic_splits,
            "spans_by_language": self.spans,
            "unaligned_by_language": self.unaligned_labels,
        }


class _Article:
    """An article's CoNLL document (after its -DOCSTART- line) with every tag `O`, and where
    each word's tags are in it. A sentence ends at a line break unless it is empty or the break
    is inside a written span."""

    def __init__(self, words: Words, columns: int):
        self.words = words
        self.rest = " _ _ " + " ".join("O" * columns) + "\n"  # what follows a word while its tags are O
        self.tags_width = 2 * columns - 1
        self.text, self.tag_at = self.document(words.breaks)

    def document(self, breaks: list[int]) -> tuple[str, list[int]]:
        """The document when these line breaks may end a sentence: its text, and where each
        word's tags are in it."""
        rest, words_before, words, lengths = self.rest, self.words.words_before, self.words.words, self.words.lengths
        sentence_ends, last = [], 0
        for token in breaks:
            before = words_before[token]
            if before > last:
                sentence_ends.append(before)
                last = before
        if len(words) > last:
            sentence_ends.append(len(words))
        parts, previous = [], 0
        for end in sentence_ends:
            parts.append(rest.join(words[previous:end]))
            parts.append(rest + "\n")
            previous = end
        # Each line before a word's adds its length and that of `rest`; each sentence ended before
        # it adds one blank line.
        line_starts = numpy.cumsum(lengths + len(rest)) - (lengths + len(rest))
        blank_lines = numpy.searchsorted(numpy.asarray(sentence_ends, numpy.int64), numpy.arange(len(words)), side="right")
        tag_at = line_starts + blank_lines + lengths + _TAG_AT
        return "".join(parts), tag_at.tolist()

    def tagged(self, codes, inside: set[int], tags) -> str:
        """The document with each word's tags (`word_codes`); `tags(row)` is a row's text."""
        if inside:
            text, tag_at = self.document([token for token in self.words.breaks if token not in inside])
        else:
            text, tag_at = self.text, self.tag_at
        touched = codes.any(axis=0)
        # Runs of words with the same tags, none of them a B: a run's words are consecutive lines
        # with no blank line between them (a span's I continues over them, and a line break inside
        # a written span ends no sentence), so a run is one join.
        changed = numpy.ones(len(touched), bool)
        changed[1:] = (codes[:, 1:] != codes[:, :-1]).any(axis=0)
        run_starts = touched & (changed | (codes & 1).any(axis=0))
        firsts = numpy.flatnonzero(run_starts)
        if not len(firsts):
            return text
        boundaries = numpy.append(numpy.flatnonzero(~touched | run_starts), len(touched))
        afters = boundaries[numpy.searchsorted(boundaries, firsts, side="right")]
        parts, position, words, width = [], 0, self.words.words, self.tags_width
        for first, after, row in zip(firsts.tolist(), afters.tolist(), codes[:, firsts].T.tolist()):
            line_tags = tags(row)
            parts.append(text[position : tag_at[first]])
            parts.append(line_tags)
            if after - first > 1:
                inside_line = f" _ _ {line_tags}"
                parts.append("\n")
                parts.append(f"{inside_line}\n".join(words[first + 1 : after]))
                parts.append(inside_line)
            position = tag_at[after - 1] + width
        parts.append(text[position:])
        return "".join(parts)


class Writer:
    format = "conll"

    def __init__(self, output, schema: dict):
        self.labels = [label["name"] for label in schema["labels"]]
        self.index = {label: i for i, label in enumerate(self.labels)}
        # A space in a label's name would split its tags' column in two.
        self.tag_names = ["O"] + [f"{bio}-{_SPACE.sub('_', label)}" for label in self.labels for bio in "BI"]
        self.row_tags: dict[tuple, str] = {}
        self.output = output
        self.handles = {}
        self.losses = Losses()
        self._article = None

    def tags(self, row: list[int]) -> str:
        """A word's tags, " "-separated, from its codes (`word_codes`): the same rows recur, each is made once."""
        key = tuple(row)
        text = self.row_tags.get(key)
        if text is None:
            text = self.row_tags[key] = " ".join(self.tag_names[code] for code in row)
        return text

    def add(self, record: dict, split: str) -> None:
        tokens = record_tokens(record)
        words = words_of(tokens)
        if self._article is None or self._article.words is not words:
            self._article = _Article(words, 1 + len(self.labels))
        self.losses.article(tokens, split)
        if split not in self.handles:
            self.handles[split] = self.output.open(f"{split}.conll", self.format, "w", encoding="utf-8", newline="\n")
        handle = self.handles[split]
        for annotation in record["annotations"]:
            layer = layered(tokens, words, annotation, self.labels, self.index)
            self.losses.add(record, annotation, layer, split)
            handle.write(docstart(record, annotation))
            handle.write(self._article.tagged(layer.codes, layer.inside, self.tags))

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return self.losses.report()


def join(parts: list, into, schema: dict) -> None:
    concatenate(parts, into, Writer.format)
