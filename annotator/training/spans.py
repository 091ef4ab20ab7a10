"""The span model: a linear-chain CRF (CRFsuite, through python-crfsuite) per span label, tagging
the article's tokens B, I or O for that label.

Tokens are the snapshot tokenizer's (`datasets.formats.tokens`): what the token formats of an
export hold, so a model trained on an exported CoNLL file and this one see the same words. For
training, a token is split at a proclitic where a gold span's edge cuts it, as the exports do;
a gold span still not on token boundaries (or across a line break) cannot be a tag sequence and
is counted as `unaligned`, never moved. Each line is one sequence (a span never crosses one in
news text); whitespace tokens are left out. One CRF per label, so nested and overlapping spans
of different labels are each learned; spans of one label that overlap keep the longest (the
exports' CoNLL columns do the same).

CRF training grows with the tokens it sees, the topics' fits with articles: at most
`MAX_TRAIN_TOKENS` tokens of training articles (the split's order, a seeded shuffle) are learned
from and at most `MAX_TEST_TOKENS` of held-out ones scored, so 10,000 articles train in the
topics' time budget. The Model page says when a sample was used.

Scores are exact matches: a predicted span counts only with the gold span's label, start and end.
"""

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from sys import intern

import pycrfsuite


MAX_TRAIN_TOKENS = 120_000
MAX_TEST_TOKENS = 60_000
# L-BFGS with elastic-net regularisation. On 146k tokens of `bench.news` items, held-out F1 was
# 0.83 after 10 passes, 0.90 after 15, 0.946 after 25 and 30, 0.937 after 100: 30 passes, a
# third of the fitting time of 100.
PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 30, "feature.possible_transitions": True}

# Marks that open a quotation, that close one, and the straight ones that do either. A ’ alone
# as a token is a closing mark: the tokenizer keeps an apostrophe with its word (n’t, ’s).
OPENERS = set("“«„‹‘")
CLOSERS = set("”»›″’")
STRAIGHT = set('"')
_ARABIC = re.compile("[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")
# A conjunction written joined to an Arabic word (وقال, فأكد): the word without it is a feature too.
_CONJUNCTION = re.compile("^[وف](?=[\u0621-\u064A]{2,})")


@dataclass
class Sequence:
    """One line's tokens: their offsets and features, and per label its B/I/O tags (training)."""

    starts: list[int]
    ends: list[int]
    features: list[list[str]]
    tags: dict[int, list[str]] = field(default_factory=dict)


def _shape(word: str) -> str:
    if word in OPENERS or word in CLOSERS or word in STRAIGHT or word in "‘’'":
        return "q"
    if _ARABIC.search(word):
        return "ar"
    if word.isdigit():
        return "d"
    if word[0].isupper():
        return "Aa" if not word.isupper() or len(word) == 1 else "A"
    if word[0].isalpha():
        return "a"
    return "p"


def _features(words: list[str]) -> list[list[str]]:
    """Each token's features: itself, its neighbours, its shape, and whether it is inside a quotation.

    The strings are interned: a training sample repeats each a great many times, and the
    copies were most of its memory (measured on 120k workload tokens: 113 MB of features before, 54 MB after)."""
    lowered = [w.lower() for w in words]
    shapes = [_shape(w) for w in words]
    n = len(words)
    inside = []
    depth, straight = 0, False
    for word in words:
        before = depth > 0 or straight
        if word in OPENERS:
            depth += 1
        elif word in CLOSERS:
            depth = max(0, depth - 1)
        elif word in STRAIGHT:
            straight = not straight
        # Inside before and after it: a quotation's own marks are outside it.
        inside.append(before and (depth > 0 or straight))
    rows = []
    for i, word in enumerate(lowered):
        row = [
            "w=" + word, "s=" + shapes[i], "p2=" + word[:2], "x3=" + word[-3:],
            "in" if inside[i] else "out",
        ]
        stem = _CONJUNCTION.sub("", word)
        if stem != word:
            row.append("stem=" + stem)
        if i == 0:
            row.append("first")
        else:
            row += ["-1w=" + lowered[i - 1], "-1s=" + shapes[i - 1]]
            if i > 1:
                row.append("-2w=" + lowered[i - 2])
        if i + 1 == n:
            row.append("last")
        else:
            row += ["+1w=" + lowered[i + 1], "+1s=" + shapes[i + 1]]
            if i + 2 < n:
                row.append("+2w=" + lowered[i + 2])
        rows.append([intern(feature) for feature in row])
    return rows


def sequences(text: str, language: str, spans: list[dict] | None = None, *, split: bool = True,
              ) -> tuple[list[Sequence], list[dict]]:
    """The article's lines as sequences (on tokens split for `spans` as the exports are, unless
    not `split`), tagged with `spans`, and the spans that are not on token boundaries within one line."""
    from annotator.datasets.formats.tokens import tokenize  # spaCy: loaded by what tokenizes, not by every process

    tokens = tokenize(text, language, spans if split and spans else None)
    result, current = [], None
    line_of = []  # each token's sequence index and position, -1 for whitespace
    for start, end in zip(tokens.starts, tokens.ends):
        word = text[start:end]
        if word.isspace():
            line_of.append(None)
            if "\n" in word:
                current = None
            continue
        if current is None:
            current = Sequence([], [], [])
            result.append(current)
        line_of.append((len(result) - 1, len(current.starts)))
        current.starts.append(start)
        current.ends.append(end)
    for sequence in result:
        sequence.features = _features([text[s:e] for s, e in zip(sequence.starts, sequence.ends)])
    unaligned = []
    if spans:
        aligned, _ = tokens.align(spans)
        placed = {id(span) for span, first, after in aligned if _same_line(line_of, first, after)}
        unaligned = [span for span in spans if id(span) not in placed]
        for sequence in result:
            sequence.tags = {}
        labels = sorted({span["label"] for span in spans})
        # Longest first, so a shorter span of the same label inside a longer one is the one left out.
        ordered = sorted((item for item in aligned if id(item[0]) in placed), key=lambda i: (i[1] - i[2], i[1]))
        for label in labels:
            for sequence in result:
                sequence.tags[label] = ["O"] * len(sequence.starts)
            for span, first, after in ordered:
                if span["label"] != label:
                    continue
                index, position = line_of[first]
                last = line_of[after - 1][1]
                tags = result[index].tags[label]
                if any(tag != "O" for tag in tags[position : last + 1]):
                    continue
                tags[position] = "B"
                for k in range(position + 1, last + 1):
                    tags[k] = "I"
    return result, unaligned


def _same_line(line_of: list, first: int, after: int) -> bool:
    a, b = line_of[first], line_of[after - 1]
    return a is not None and b is not None and a[0] == b[0]


def _decode(sequence: Sequence, tags: list[str]) -> list[tuple[int, int, int, int]]:
    """(start offset, end offset, first token, last token) of each B I* run."""
    found = []
    begin = None
    for k, tag in enumerate([*tags, "O"]):
        if begin is not None and tag != "I":
            found.append((sequence.starts[begin], sequence.ends[k - 1], begin, k - 1))
            begin = None
        if tag == "B" or (tag == "I" and begin is None):
            begin = k
    return found


@dataclass
class SpanData:
    """An article's sequences, gold spans (label id, start, end) and how many could not align."""

    sequences: list[Sequence]
    gold: set[tuple[int, int, int]]
    unaligned: dict[int, int]
    tokens: int


def article_data(text: str, language: str, spans: Iterable[tuple[int, int, int]], *, held_out: bool = False) -> SpanData:
    """A training article's sequences, tagged (on tokens split for its spans, as exports are);
    or a held-out one's, on its tokens as a new article has them (gold must not shape them),
    its spans only the truth to score against."""
    records = [{"label": label, "start": start, "end": end, "id": k} for k, (label, start, end) in enumerate(spans)]
    built, unaligned = sequences(text, language, records, split=not held_out)
    missed: dict[int, int] = {}
    for span in unaligned:
        missed[span["label"]] = missed.get(span["label"], 0) + 1
    return SpanData(built, {(r["label"], r["start"], r["end"]) for r in records}, missed,
                    sum(len(s.starts) for s in built))


def fit(data: list[SpanData], label_ids: list[int]) -> dict[int, bytes]:
    """One CRF per label seen in `data`, as the bytes of its model file."""
    models = {}
    items = [(pycrfsuite.ItemSequence(s.features), s) for d in data for s in d.sequences]
    for label_id in label_ids:
        if not any(label_id in s.tags and "B" in s.tags[label_id] for _, s in items):
            continue  # never in gold: nothing to learn
        trainer = pycrfsuite.Trainer(verbose=False)
        trainer.set_params(PARAMS)
        for xseq, sequence in items:
            trainer.append(xseq, sequence.tags.get(label_id) or ["O"] * len(sequence.starts))
        handle, path = tempfile.mkstemp(suffix=".crfsuite")
        os.close(handle)
        try:
            trainer.train(path)
            with open(path, "rb") as file:
                models[label_id] = file.read()
        finally:
            trainer.clear()  # its copy of the data, before the next label's
            os.unlink(path)
    return models


class Tagger:
    """The fitted CRFs, opened once, that tag an article's sequences."""

    def __init__(self, models: dict[int, bytes]):
        self.taggers = {}
        self.models = models  # the taggers read the bytes in place
        for label_id, data in models.items():
            tagger = pycrfsuite.Tagger()
            tagger.open_inmemory(data)
            self.taggers[label_id] = tagger

    def spans(self, sequences: list[Sequence], scores: bool = False) -> list[tuple[int, int, int, float]]:
        """(label id, start, end, score) of every span the models tag; the score is the mean of
        the span's tokens' marginal probability of their tags (1.0 when `scores` is off)."""
        found = []
        for sequence in sequences:
            xseq = None
            for label_id, tagger in self.taggers.items():
                if xseq is None:
                    xseq = pycrfsuite.ItemSequence(sequence.features)
                tags = tagger.tag(xseq)
                if "B" not in tags and "I" not in tags:
                    continue
                for start, end, first, last in _decode(sequence, tags):
                    score = 1.0
                    if scores:
                        marginals = [tagger.marginal(tags[k], k) for k in range(first, last + 1)]
                        score = sum(marginals) / len(marginals)
                    found.append((label_id, start, end, min(1.0, max(0.0, score))))
        return found


def score(tagger: Tagger, data: list[SpanData], label_ids: list[int], names: dict[int, str]) -> tuple[list[dict], float | None]:
    """Per label precision, recall, F1 (exact match) and how many gold spans could not align;
    and the micro F1 over all labels."""
    counts = {label_id: [0, 0, 0, 0] for label_id in label_ids}  # true positives, predicted, gold, unaligned
    for item in data:
        predicted = {(label, start, end) for label, start, end, _ in tagger.spans(item.sequences)}
        for label, start, end in predicted:
            if label in counts:
                counts[label][1] += 1
                counts[label][0] += (label, start, end) in item.gold
        for label, _, _ in item.gold:
            if label in counts:
                counts[label][2] += 1
        for label, missed in item.unaligned.items():
            if label in counts:
                counts[label][3] += missed
    rows = []
    for label_id in label_ids:
        tp, predicted, gold, unaligned = counts[label_id]
        rows.append({"label": names[label_id], **_prf(tp, predicted, gold), "support": gold, "unaligned": unaligned,
                     "trained": label_id in tagger.taggers})
    tp, predicted, gold = (sum(c[i] for c in counts.values()) for i in range(3))
    return rows, (_prf(tp, predicted, gold)["f1"] if gold else None)


def _prf(tp: int, predicted: int, gold: int) -> dict:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


_taggers: dict[int, tuple[dict, Tagger]] = {}


def predict(models: dict[int, bytes], text: str, language: str) -> list[tuple[int, int, int, float]]:
    """The spans the models find in a new article (on its tokens, unsplit: no spans to split for)."""
    kept = _taggers.get(id(models))
    if kept is None or kept[0] is not models:
        if len(_taggers) >= 4:
            _taggers.clear()
        kept = _taggers[id(models)] = (models, Tagger(models))  # the models kept, so their id is not reused
    built, _ = sequences(text, language)
    return kept[1].spans(built, scores=True)
