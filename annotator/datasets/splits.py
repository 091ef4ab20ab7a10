"""Train / validation / test splits by article: deterministic, stratified, near-duplicates kept together.

Policy:
- The unit of splitting is a group of articles. Articles that are the same story lightly edited
  (word 5-gram shingle Jaccard similarity ≥ the threshold, 0.8 by default), and an excerpt and
  the story it comes from (at least the threshold's share of the excerpt's 5-grams are in the
  story, the excerpt having at least MIN_EXCERPT of them), form one group, and a group never
  straddles two splits, so a model is not tested on a copy, or a piece, of its training data.
  Candidates are found with MinHash and banding (LSH) for Jaccard, and with shared 5-gram
  samples for excerpts (`NearDuplicates`); every candidate pair is then checked exactly
  (`near_duplicates`), so the grouping has no false positives.
- Stratification is by primary topic: the topic most of the article's exported annotations
  chose (ties go to the topic first in the schema); articles without a topic form their own
  stratum. A group's stratum is its members' most common primary topic.
- Within a stratum, groups are ordered by a hash of the seed and the group's content (the
  smallest SHA-256 of its texts). Strata are taken one after the other (systematic allocation)
  and each group goes to the split furthest below its share of all groups so far, so every
  stratum is spread in proportion and the overall ratios are met to within one group. The
  result depends only on the texts, topics, ratios and seed: not on ids, order of import or
  the database.
- A split that gets no article has no files.
"""

import functools
import hashlib
import re
import tempfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "validation", "test")
SHINGLE_WORDS = 5
MIN_EXCERPT = 20  # 5-grams (a passage of about 24 words): shorter texts are grouped by Jaccard only
NUM_PERM = 128
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    words = _WORD.findall(text.casefold())
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(first: set[str], second: set[str]) -> float:
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)


def containment(first: set[str], second: set[str]) -> float:
    """The share of the smaller set's 5-grams that are in the other (1.0 for an exact excerpt)."""
    smaller = min(len(first), len(second))
    return len(first & second) / smaller if smaller else 1.0


def near_duplicates(first: set[str], second: set[str], threshold: float) -> bool:
    """The same story lightly edited (Jaccard), or one an excerpt of the other (containment).

    An excerpt must be at least MIN_EXCERPT 5-grams: a sentence or a boilerplate line found in
    two stories would otherwise join them, and through them every story that has it.
    """
    if jaccard(first, second) >= threshold:
        return True
    return min(len(first), len(second)) >= MIN_EXCERPT and containment(first, second) >= threshold


_U64 = np.uint64
_MAX = np.iinfo(np.uint64).max
_BIN_BITS = NUM_PERM.bit_length() - 1  # 128 bins: the top 7 bits of a 5-gram's hash pick its bin
_VALUE_MASK = _U64((1 << (64 - _BIN_BITS)) - 1)


def _odd_weights(count: int) -> np.ndarray:
    """Fixed odd multipliers (multiples of the golden ratio's 64-bit constant) to combine hashes."""
    return np.array([(0x9E3779B97F4A7C15 * (j + 1) | 1) & 0xFFFFFFFFFFFFFFFF for j in range(count)], dtype=np.uint64)


_SHINGLE_WEIGHTS = _odd_weights(SHINGLE_WORDS)
# One 5-gram in 2^SAMPLE_BITS is a containment sample: an excerpt of 20 5-grams keeps 2.5 on average.
SAMPLE_BITS = 3
_SAMPLE_MASK = _U64((1 << SAMPLE_BITS) - 1)
_LOW32 = _U64(0xFFFFFFFF)
_BASE = 0x100000001B3  # odd, so it has an inverse modulo 2^64


@functools.cache
def _tables(length: int) -> tuple[np.ndarray, np.ndarray]:
    """Powers of the base and of its inverse modulo 2^64, for texts up to `length` code points."""
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(length, _BASE, dtype=np.uint64), dtype=np.uint64)
        inverses = np.cumprod(np.full(length, pow(_BASE, -1, 1 << 64), dtype=np.uint64), dtype=np.uint64)
    one = np.ones(1, dtype=np.uint64)
    return np.concatenate((one, powers[:-1])), np.concatenate((one, inverses[:-1]))


@functools.cache
def _is_word_bmp() -> np.ndarray:
    # What `\w` matches, for every code point of the Basic Multilingual Plane.
    return np.array([chr(i).isalnum() or i == 0x5F for i in range(0x10000)], dtype=bool)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the whole 64-bit hash."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _words(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, position of the first character) of every word in casefolded code points.

    Words are runs of word characters (`\\w`). A word's hash is its polynomial hash: prefix
    sums of code point × base^position, differenced over the word and brought back to
    position 0 by the inverse power (the base is odd, so it is invertible), so the same word
    hashes alike wherever it stands.
    """
    n = len(codes)
    if not n:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.intp)
    # Whether each code point is a word character, between a non-word one before and after the
    # text, so that every word has a start and an end edge. The arrays are made in place (`out=`):
    # a batch is some 130,000 code points, and the temporary copies were half of this function's time.
    word = np.zeros(n + 2, dtype=bool)
    np.take(_is_word_bmp(), np.minimum(codes, 0xFFFF), out=word[1:-1])  # U+FFFF is not a word character
    if codes.max() > 0xFFFF:
        astral = np.flatnonzero(codes > 0xFFFF)
        word[astral + 1] = [chr(c).isalnum() for c in codes[astral].tolist()]
    edges = np.flatnonzero(word[1:] != word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    powers, inverses = _tables(1 << max(12, (n - 1).bit_length()))
    prefix = np.zeros(n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.multiply(codes, powers[:n], out=prefix[1:])
        np.cumsum(prefix[1:], out=prefix[1:])
        return _mix((prefix[ends] - prefix[starts]) * inverses[starts]), starts


def word_hashes(text: str) -> np.ndarray:
    """A 64-bit hash of each word of the text (the words `shingles` uses), without a Python loop."""
    return _words(_code_points(text.casefold()))[0]


def signature(text: str) -> np.ndarray:
    return signatures([text])[0]


def signatures(texts: Sequence[str]) -> np.ndarray:
    return sketches(texts)[0]


def sketches(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(MinHash signatures, containment samples) of the texts' word 5-grams.

    The samples are the 5-grams a text keeps for finding excerpts: those whose hash has its low
    SAMPLE_BITS bits 0, so that the same 5-gram is kept by every text that has it. Each text's
    distinct ones are one uint64 each: the hash's top 32 bits, then the text's index in `texts`
    (one value sorts them by 5-gram; two 5-grams of a corpus share their top 32 bits about
    once per 100 million pairs, which at worst makes a candidate the exact check then drops).

    MinHash signatures of the texts' word 5-grams, one row a text: one permutation hashing, densified.

    Each 5-gram is hashed once (a fixed weighted sum of its words' hashes, mixed); the top bits
    of the hash pick one of NUM_PERM bins and the bin keeps its smallest value (Li, Owen and
    Zhang 2012). Two texts' bins agree with probability about their Jaccard similarity, as
    with NUM_PERM separate permutations, for a fraction of the work. A bin no 5-gram fell in
    (short texts) takes the next filled bin's value, offset by the distance (densification
    by rotation, Shrivastava and Li 2014). A text of fewer than five words is one shingle of
    all of them, and a text without words has every bin empty (the largest value).
    Deterministic everywhere, unlike Python's `hash`.

    The texts are hashed together, joined by spaces (no word runs across two), so numpy's
    cost per call is paid once a batch rather than once a text.
    """
    folded = [text.casefold() for text in texts]
    count = len(folded)
    sig = np.full((count, NUM_PERM), _MAX, dtype=np.uint64)
    if not count:
        return sig, np.empty(0, dtype=np.uint64)
    lengths = np.array([len(text) + 1 for text in folded], dtype=np.intp)
    words, starts = _words(_code_points(" ".join(folded)))
    owner = np.searchsorted(np.cumsum(lengths), starts, side="right")  # which text each word is in
    per_text = np.bincount(owner, minlength=count)
    first_word = np.cumsum(per_text) - per_text
    size = np.minimum(per_text, SHINGLE_WORDS)
    per_text_grams = np.where(per_text > 0, per_text - size + 1, 0)
    gram_owner = np.repeat(np.arange(count), per_text_grams)
    gram_offset = np.arange(len(gram_owner)) - np.repeat(np.cumsum(per_text_grams) - per_text_grams, per_text_grams)
    gram_first = first_word[gram_owner] + gram_offset
    gram_size = size[gram_owner]
    padded = np.append(words, _U64(0))  # a gram of fewer words takes 0 for the words it lacks
    short = gram_size < SHINGLE_WORDS
    hashes = np.zeros(len(gram_owner), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(SHINGLE_WORDS):
            index = gram_first + j
            if short.any():
                index[gram_size <= j] = len(words)
            hashes += padded[index] * _SHINGLE_WEIGHTS[j]
    grams = _mix(hashes)
    cells = gram_owner * NUM_PERM + (grams >> _U64(64 - _BIN_BITS)).astype(np.intp)
    np.minimum.at(sig.reshape(-1), cells, grams & _VALUE_MASK)
    kept = (grams & _SAMPLE_MASK) == 0  # the low bits: the top ones chose the bin
    samples = np.unique(grams[kept] >> _U64(32) << _U64(32) | gram_owner[kept].astype(np.uint64))

    empty = sig == _MAX
    rows = np.flatnonzero(empty.any(axis=1) & ~empty.all(axis=1))
    if len(rows):
        # Each empty bin takes the next filled bin, going round: the first filled position at
        # or after it in the row written out twice.
        filled = np.tile(~empty[rows], 2)
        position = np.where(filled, np.arange(2 * NUM_PERM), 2 * NUM_PERM)
        source = np.minimum.accumulate(position[:, ::-1], axis=1)[:, ::-1][:, :NUM_PERM]
        distance = (source - np.arange(NUM_PERM)).astype(np.uint64)
        partial = sig[rows]
        moved = np.take_along_axis(partial, source % NUM_PERM, axis=1) + distance * (_VALUE_MASK + _U64(1))
        sig[rows] = np.where(empty[rows], moved, partial)
    return sig, samples


# An article's sketch, as a snapshot keeps it for the next (`kept_sketches`): its MinHash
# signature's bytes (NUM_PERM uint64), then its containment samples' top 32 bits (uint32).
# SKETCH_VERSION names the `sketches` that made it: one made otherwise is made again. Change the
# last number whenever `sketches` gives other values for the same text (the test of
# `tests/datasets/test_kept_sketches.py` holds a text's sketch digest, and fails until it is).
SKETCH_VERSION = f"minhash-{NUM_PERM}-{SHINGLE_WORDS}-{SAMPLE_BITS}-1"
_SIGNATURE_BYTES = NUM_PERM * 8


def article_sketches(signatures_: np.ndarray, samples: np.ndarray) -> list[bytes]:
    """`sketches`' result cut into each article's sketch (its samples' tops ascending)."""
    count = len(signatures_)
    owner = (samples & _LOW32).astype(np.intp)
    order = np.argsort(owner, kind="stable")  # the samples are sorted: each article's stay ascending
    tops = (samples[order] >> _U64(32)).astype(np.uint32)
    bounds = np.searchsorted(owner[order], np.arange(count + 1)).tolist()
    return [signatures_[i].tobytes() + tops[bounds[i] : bounds[i + 1]].tobytes() for i in range(count)]


def joined(sketches_: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Articles' sketches as `sketches` gives them for those articles' texts together: the same
    signatures, and the same samples (their order aside, which nothing reads)."""
    count = len(sketches_)
    signatures_ = np.frombuffer(b"".join(sketch[:_SIGNATURE_BYTES] for sketch in sketches_), dtype=np.uint64)
    tops = [np.frombuffer(sketch, dtype=np.uint32, offset=_SIGNATURE_BYTES) for sketch in sketches_]
    owner = np.repeat(np.arange(count, dtype=np.uint64), [len(t) for t in tops])
    samples = np.concatenate(tops).astype(np.uint64) << _U64(32) | owner if count else np.empty(0, dtype=np.uint64)
    return signatures_.reshape(count, NUM_PERM), samples


def bands_for(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows): the most selective banding that still finds 99.5% of pairs at the threshold."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= 0.995:
            return bands, rows
    return num_perm, 1


class NearDuplicates:
    """Groups near-duplicate articles, keeping 8 bytes per article in memory.

    Each article's signature goes to a temporary file (1 KB each, on disk, never the texts),
    computed a small batch of texts at a time (numpy works on a batch at once), or given as the
    article's sketch an earlier snapshot kept (`add`'s `sketch`; `made` gives those computed, to
    keep). `groups` then reads the file one band at a time to find the articles that share a band's
    key (the LSH candidates), and keeps a candidate pair only if its signatures agree on about
    as many bins as a near-duplicate's would (at least the threshold minus ESTIMATE_MARGIN)
    before checking it exactly. Unrelated articles with a few common phrases share a band now
    and then, and a corpus of 100,000 has many such pairs: the estimate drops them without
    reading their texts. With 128 bins the estimate's standard deviation at the threshold is
    under 0.04, so the margin loses no true pair in practice, and the exact check means no
    false one is ever grouped.

    Excerpts have a low Jaccard similarity with their story (a fifth of a story, copied, is at
    about 0.2; the issue's excerpt at 0.12), which MinHash bands cannot find, so each article
    also writes its containment samples (one 5-gram in 8, chosen by hash, so the same ones in
    every article: `sketches`) to a second file, 8 bytes each, and `_excerpt_candidates` pairs
    articles that share enough of them. On the bench workload this reads about 80 samples an
    article and takes about a tenth of the band search's time and memory per sample, with no
    extra query. Of excerpts at containment 0.8, it finds about 84 % of those of 20 5-grams,
    96 % of 40, 99.8 % of 100 and all but a few in a million of 200 (the chance that too few of
    their samples fall inside the story).

    datasketch's LSH Ensemble answers containment queries from MinHash signatures, and was the
    library to try first, but it does not fit here: it keeps every article in memory in
    partitions of banded hash tables (one MinHashLSH a row count, up to num_perm of them a
    partition: hundreds of Python dict entries an article), where this class keeps 8 bytes an
    article in memory and the rest on disk, and it would need signatures from MinHash's own
    permutations, several times slower than the one-permutation ones here. Consistent 5-gram
    sampling (Broder's "mod-m" sample, which estimates containment without bias) reuses the
    hashes already made for the signatures and streams from disk like the bands.
    """

    ESTIMATE_MARGIN = 0.2
    READ_ROWS = 4096
    READ_SAMPLES = 1 << 21  # containment samples held at once (16 MB)
    # A pair is an excerpt candidate when it shares this share of the samples of the one with
    # fewer: at containment 0.8 a true excerpt falls below it rarely (see above), and two
    # unrelated stories share this much only through boilerplate, which the exact check drops.
    EXCERPT_SHARE = 0.4
    COMMON_SAMPLE = 32  # a sample more articles have is a formula or boilerplate, not a copy
    # Texts whose signatures are computed together; a batch stays under about 1 MB of text.
    BATCH_TEXTS = 32
    BATCH_CHARS = 1 << 18

    def __init__(self, threshold: float, directory=None, keep: bool = False):
        self.threshold = threshold
        # With `keep`, the sketch of each article sketched here (not one given), for `made`.
        self._made: list[tuple[int, bytes]] | None = [] if keep else None
        self.bands, self.rows = bands_for(threshold)
        self._ids = array("q")
        self._signatures = tempfile.TemporaryFile(dir=directory)
        self._samples = tempfile.TemporaryFile(dir=directory)  # (hash's top 32 bits, position), 8 bytes each
        self._sample_rows = 0
        self._written = 0  # signature rows written: the position of the next batch's first article
        self._band_weights = _odd_weights(self.rows)
        self._waiting: list[str | bytes] = []  # texts to sketch, and sketches given, in the order added
        self._waiting_chars = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._signatures.close()
        self._samples.close()

    def add(self, article_id: int, text: str, sketch: bytes | None = None) -> None:
        """The article, by its text; or by its `sketch` when one was kept (`kept_sketches`),
        which its text would give: then the text is not sketched again."""
        self._ids.append(article_id)
        if sketch is not None:
            self._waiting.append(sketch)
        else:
            self._waiting.append(text)
            self._waiting_chars += len(text)
        if len(self._waiting) >= self.BATCH_TEXTS or self._waiting_chars >= self.BATCH_CHARS:
            self._flush()

    def made(self) -> list[tuple[int, bytes]]:
        """(article id, sketch) of the articles sketched from their texts since the last call:
        to keep for the next snapshot (none unless this NearDuplicates was made with `keep`)."""
        if self._made is None:
            return []
        self._flush()
        made, self._made = self._made, []
        return made

    def sketched(self) -> tuple[array, bytes, bytes]:
        """The ids, signatures and containment samples of the articles added so far, for a
        NearDuplicates of more articles to `take` (a snapshot's shards sketch theirs apart)."""
        self._flush()
        self._signatures.seek(0)
        self._samples.seek(0)
        return self._ids, self._signatures.read(), self._samples.read()

    def take(self, ids: array, signatures: bytes, samples: bytes) -> None:
        """Add articles another NearDuplicates sketched (`sketched`), as if added here one by one."""
        self._flush()
        self._ids.extend(ids)
        self._write(np.frombuffer(signatures, dtype=np.uint64), np.frombuffer(samples, dtype=np.uint64).copy())

    def _flush(self) -> None:
        batch, self._waiting, self._waiting_chars = self._waiting, [], 0
        if not batch:
            return
        texts = [i for i, item in enumerate(batch) if isinstance(item, str)]
        if len(texts) == len(batch) and self._made is None:
            self._write(*sketches(batch))
            return
        if texts:
            made = article_sketches(*sketches([batch[i] for i in texts]))
            for i, sketch in zip(texts, made, strict=True):
                batch[i] = sketch
            if self._made is not None:
                first = len(self._ids) - len(batch)
                self._made.extend((self._ids[first + i], batch[i]) for i in texts)
        self._write(*joined(batch))

    def _write(self, sig: np.ndarray, samples: np.ndarray) -> None:
        samples += _U64(self._written)  # the batch's text index, made the article's position
        self._signatures.write(sig.tobytes())
        self._samples.write(samples.tobytes())
        self._written += sig.size // NUM_PERM
        self._sample_rows += len(samples)

    def _band_keys(self, band: int) -> np.ndarray:
        """A 32-bit key of every article's band `band`, read from the signature file in blocks."""
        keys = np.empty(len(self._ids), dtype=np.uint32)
        self._signatures.seek(0)
        block = NUM_PERM * 8
        for start in range(0, len(self._ids), self.READ_ROWS):
            count = min(self.READ_ROWS, len(self._ids) - start)
            sigs = np.frombuffer(self._signatures.read(count * block), dtype=np.uint64).reshape(count, NUM_PERM)
            rows = sigs[:, band * self.rows : (band + 1) * self.rows]
            with np.errstate(over="ignore"):
                keys[start : start + count] = ((rows * self._band_weights).sum(axis=1, dtype=np.uint64) >> _U64(32)).astype(np.uint32)
        return keys

    def _signature_at(self, position: int) -> np.ndarray:
        self._signatures.seek(position * NUM_PERM * 8)
        return np.frombuffer(self._signatures.read(NUM_PERM * 8), dtype=np.uint64)

    def _candidates(self) -> np.ndarray:
        """Positions (a, b), a < b, of the article pairs that share at least one band key."""
        codes = array("q")
        for band in range(self.bands):
            keys = self._band_keys(band)
            order = np.argsort(keys, kind="stable")
            ordered = keys[order]
            same = np.flatnonzero(ordered[1:] == ordered[:-1])
            if not len(same):
                continue
            # Runs of equal keys: every pair within a run is a candidate.
            for start in same[np.concatenate(([True], same[1:] != same[:-1] + 1))].tolist():
                end = start + 1
                while end < len(ordered) and ordered[end] == ordered[start]:
                    end += 1
                members = sorted(order[start:end].tolist())
                codes.extend(a << 32 | b for i, a in enumerate(members) for b in members[i + 1 :])
        return np.unique(np.frombuffer(codes, dtype=np.int64)) if codes else np.empty(0, dtype=np.int64)

    def _excerpt_candidates(self) -> np.ndarray:
        """Positions (a, b), a < b, of the pairs where one article may lie mostly inside the other.

        MinHash estimates Jaccard similarity, which an excerpt does not have with its source (a
        fifth of a story, all of it copied, is at about 0.2), so excerpts are found from the
        containment samples: the 5-grams every article keeps by the same rule (`sketches`).
        When most of A's 5-grams are in B, most of A's samples are among B's, so a pair is a
        candidate when they share at least EXCERPT_SHARE of the samples of the one with fewer.
        A sample in more than COMMON_SAMPLE articles (a formula, a dateline, boilerplate) says
        nothing about copying and is left out of both counts; this also bounds the pairs one
        sample can make. The price: an excerpt of a story the selection holds more than
        COMMON_SAMPLE copies of is found only if it is also close by Jaccard. The samples are
        read in ranges of their hash, at most READ_SAMPLES at a time, so memory does not grow
        with the corpus beyond 8 bytes an article.
        """
        n = len(self._ids)
        informative = np.zeros(n, dtype=np.int64)
        codes = []
        passes = max(1, -(-self._sample_rows // self.READ_SAMPLES))
        for part in range(passes):
            keys = np.sort(self._sample_range(part, passes))
            if not len(keys):
                continue
            hashes, positions = keys >> _U64(32), (keys & _LOW32).astype(np.int64)
            starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
            lengths = np.diff(np.append(starts, len(hashes)))
            counted = np.repeat(lengths <= self.COMMON_SAMPLE, lengths)
            informative += np.bincount(positions[counted], minlength=n)
            for m in np.unique(lengths[(lengths >= 2) & (lengths <= self.COMMON_SAMPLE)]).tolist():
                # Every pair within each run of m articles sharing a sample, for all such runs at once.
                first, second = np.triu_indices(m, 1)
                run = starts[lengths == m][:, None]
                a, b = positions[run + first].ravel(), positions[run + second].ravel()
                codes.append(np.minimum(a, b) << 32 | np.maximum(a, b))
        if not codes:
            return np.empty(0, dtype=np.int64)
        pairs, shared = np.unique(np.concatenate(codes), return_counts=True)
        fewer = np.minimum(informative[pairs >> 32], informative[pairs & 0xFFFFFFFF])
        return pairs[shared >= self.EXCERPT_SHARE * fewer]

    def _sample_range(self, part: int, passes: int) -> np.ndarray:
        """The samples whose hash falls in the part-th of `passes` equal ranges."""
        kept = []
        self._samples.seek(0)
        while block := self._samples.read(self.READ_SAMPLES * 8):
            keys = np.frombuffer(block, dtype=np.uint64)
            if passes > 1:
                keys = keys[(keys >> _U64(32)) * _U64(passes) >> _U64(32) == _U64(part)]
            kept.append(keys)
        return np.concatenate(kept) if kept else np.empty(0, dtype=np.uint64)

    def groups(self, texts: Callable[[Sequence[int]], dict[int, str]]) -> list[list[int]]:
        """Groups of two or more articles (sorted ids), checking each candidate pair exactly.

        `texts(ids)` returns the texts of the given articles; it is called a few ids at a time.
        """
        try:
            self._flush()
            pairs = set()
            for code in self._candidates().tolist():
                a, b = code >> 32, code & 0xFFFFFFFF
                if np.mean(self._signature_at(a) == self._signature_at(b)) >= self.threshold - self.ESTIMATE_MARGIN:
                    pairs.add(tuple(sorted((self._ids[a], self._ids[b]))))
            for code in self._excerpt_candidates().tolist():
                pairs.add(tuple(sorted((self._ids[code >> 32], self._ids[code & 0xFFFFFFFF]))))
        finally:
            self._signatures.close()
            self._samples.close()
        pairs = sorted(pairs)

        parent: dict[int, int] = {}

        def find(x: int) -> int:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for start in range(0, len(pairs), 200):
            # A pair already joined through others needs no check: with many copies of one
            # story, this keeps the exact comparisons near one per article instead of per pair.
            chunk = [(a, b) for a, b in pairs[start : start + 200] if find(a) != find(b)]
            if not chunk:
                continue
            loaded = texts(sorted({i for pair in chunk for i in pair}))
            cache = {i: shingles(text) for i, text in loaded.items()}
            for a, b in chunk:
                if find(a) != find(b) and near_duplicates(cache[a], cache[b], self.threshold):
                    root_a, root_b = find(a), find(b)
                    if root_a != root_b:
                        parent[max(root_a, root_b)] = min(root_a, root_b)
        members: dict[int, list[int]] = defaultdict(list)
        for article_id in parent:
            members[find(article_id)].append(article_id)
        return sorted(sorted(group) for group in members.values() if len(group) > 1)


@dataclass(frozen=True)
class Unit:
    """One article as the splitter sees it."""

    article_id: int
    sha256: str
    primary_topic: str  # "" when the article has no topic


class Units:
    """The articles to split, about 50 bytes each: id, SHA-256 and primary topic in flat arrays."""

    def __init__(self):
        self._ids = array("q")
        self._sha = bytearray()
        self._topics = array("h")
        self.names = [""]  # primary topics seen; index 0 is "no topic"
        self._index = {"": 0}

    def add(self, article_id: int, sha256: str, primary_topic: str) -> None:
        self._ids.append(article_id)
        self._sha += bytes.fromhex(sha256)
        index = self._index.get(primary_topic)
        if index is None:
            index = self._index[primary_topic] = len(self.names)
            self.names.append(primary_topic)
        self._topics.append(index)

    def __len__(self) -> int:
        return len(self._ids)

    def extend(self, other: "Units") -> None:
        """Add another table's units after these (a snapshot's shards select theirs apart)."""
        for name in other.names:
            if name not in self._index:
                self._index[name] = len(self.names)
                self.names.append(name)
        index = [self._index[name] for name in other.names]
        self._ids.extend(other._ids)
        self._sha += other._sha
        self._topics.extend(index[topic] for topic in other._topics)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, sha256 digests, topic indexes), sorted by id."""
        ids = np.array(self._ids, dtype=np.int64)
        sha = np.frombuffer(bytes(self._sha), dtype=np.uint8).reshape(-1, 32)
        topics = np.array(self._topics, dtype=np.int16)
        order = np.argsort(ids, kind="stable")
        return ids[order], sha[order], topics[order]

    @classmethod
    def of(cls, units: Iterable[Unit]) -> "Units":
        table = cls()
        for unit in units:
            table.add(unit.article_id, unit.sha256, unit.primary_topic)
        return table


def primary_topic(topic_lists: Iterable[Iterable[str]], topic_order: Sequence[str]) -> str:
    votes = Counter(topic for topics in topic_lists for topic in set(topics))
    if not votes:
        return ""
    rank = {topic: i for i, topic in enumerate(topic_order)}
    return min(votes, key=lambda t: (-votes[t], rank.get(t, len(rank)), t))


@dataclass
class Assignment:
    """Each article's split: article ids in order, and the index (into SPLITS) of each one's split."""

    ids: np.ndarray
    splits: np.ndarray
    groups: list[list[int]] = field(default_factory=list)

    def splits_of(self, article_ids) -> list[str]:
        """The split of each of these articles, all of them split (one search for them all)."""
        positions = np.searchsorted(self.ids, np.asarray(article_ids, dtype=np.int64))
        if len(positions) and not np.array_equal(self.ids[np.minimum(positions, len(self.ids) - 1)], article_ids):
            raise ValueError("An article without a split.")
        return [SPLITS[s] for s in self.splits[positions].tolist()]

    def split_of(self, article_id: int) -> str | None:
        i = int(np.searchsorted(self.ids, article_id))
        if i < len(self.ids) and self.ids[i] == article_id:
            return SPLITS[self.splits[i]]
        return None

    def articles(self, split: str) -> list[int]:
        return self.ids[self.splits == SPLITS.index(split)].tolist()

    def as_dict(self) -> dict[int, str]:
        return {article_id: SPLITS[s] for article_id, s in zip(self.ids.tolist(), self.splits.tolist())}


def assign(
    units: Units,
    groups: Sequence[Sequence[int]],
    ratios: dict[str, int],
    seed: int,
    topic_order: Sequence[str] = (),
) -> Assignment:
    """Give every unit a split; `ratios` are percentages for train, validation and test."""
    ids, sha, topics = units.arrays()
    n = len(ids)
    # Each article's group, as the position of the group's first member (itself if alone).
    leader = np.arange(n)
    members = []
    for group in groups:
        positions = np.searchsorted(ids, group)
        positions = [int(p) for p, i in zip(positions, group) if p < n and ids[p] == i]
        if len(positions) == len(group):  # a group whose articles are all being split
            leader[positions] = min(positions)
            members.append(positions)
    leaders = np.flatnonzero(leader == np.arange(n))
    size = np.bincount(leader, minlength=n)

    # A group's stratum is its members' most common primary topic; strata are taken in name order.
    stratum = topics.copy()
    for positions in members:
        chosen = primary_topic([[units.names[topics[p]]] for p in positions if topics[p]], topic_order)
        stratum[positions[0]] = units.names.index(chosen)
    rank = {name: r for r, name in enumerate(sorted(units.names))}
    stratum_rank = np.array([rank[name] for name in units.names], dtype=np.int64)[stratum[leaders]]

    # Within a stratum, groups in an order seeded by the group's content (its smallest SHA-256).
    smallest = {positions[0]: min(sha[p].tobytes() for p in positions) for positions in members}
    order_key = np.empty(len(leaders), dtype="S32")  # digests sort like their hex strings
    for i, p in enumerate(leaders.tolist()):
        content = smallest.get(p) or sha[p].tobytes()
        order_key[i] = hashlib.sha256(f"{seed}\0{content.hex()}".encode()).digest()
    ordered = leaders[np.lexsort((order_key, stratum_rank))]

    # Strata one after the other, each in its seeded order, and every group to the split furthest
    # below its share of all the groups so far: each stratum is spread over the splits in
    # proportion, and small strata still fill the smaller splits between them.
    counts = [0, 0, 0]
    percent = [ratios[s] for s in SPLITS]
    split_of_leader = np.zeros(n, dtype=np.int8)
    for p, members_count in zip(ordered.tolist(), size[ordered].tolist()):
        total = counts[0] + counts[1] + counts[2] + members_count
        split = max(range(3), key=lambda s: (percent[s] * total / 100 - counts[s], -s))
        counts[split] += members_count
        split_of_leader[p] = split
    grouped = [sorted(int(ids[p]) for p in positions) for positions in members]
    return Assignment(ids=ids, splits=split_of_leader[leader], groups=sorted(grouped))
