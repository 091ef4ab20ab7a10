"""Train / validation / test splits by article: deterministic, stratified, near-duplicates kept together.

Policy:
- The unit of splitting is a group of articles. Articles that are the same story lightly edited
  (word 5-gram shingle Jaccard similarity ≥ the threshold, 0.8 by default) form one group, and a
  group never straddles two splits, so a model is not tested on a copy of its training data.
  Candidates are found with MinHash and banding (LSH); every candidate pair is then checked with
  the exact Jaccard similarity, so the grouping has no false positives.
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
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "validation", "test")
SHINGLE_WORDS = 5
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


_U64 = np.uint64
_MAX = np.iinfo(np.uint64).max
_BIN_BITS = NUM_PERM.bit_length() - 1  # 128 bins: the top 7 bits of a 5-gram's hash pick its bin
_VALUE_MASK = _U64((1 << (64 - _BIN_BITS)) - 1)


def _odd_weights(count: int) -> np.ndarray:
    """Fixed odd multipliers (multiples of the golden ratio's 64-bit constant) to combine hashes."""
    return np.array([(0x9E3779B97F4A7C15 * (j + 1) | 1) & 0xFFFFFFFFFFFFFFFF for j in range(count)], dtype=np.uint64)


_SHINGLE_WEIGHTS = _odd_weights(SHINGLE_WORDS)
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
    word = _is_word_bmp()[np.minimum(codes, 0xFFFF)]  # U+FFFF is not a word character
    if codes.max() > 0xFFFF:
        astral = np.flatnonzero(codes > 0xFFFF)
        word[astral] = [chr(c).isalnum() for c in codes[astral].tolist()]
    edges = np.flatnonzero(np.diff(word.view(np.int8), prepend=0, append=0))
    starts, ends = edges[0::2], edges[1::2]
    powers, inverses = _tables(1 << max(12, (n - 1).bit_length()))
    with np.errstate(over="ignore"):
        prefix = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(codes * powers[:n], dtype=np.uint64)))
        return _mix((prefix[ends] - prefix[starts]) * inverses[starts]), starts


def word_hashes(text: str) -> np.ndarray:
    """A 64-bit hash of each word of the text (the words `shingles` uses), without a Python loop."""
    return _words(_code_points(text.casefold()))[0]


def signature(text: str) -> np.ndarray:
    return signatures([text])[0]


def signatures(texts: Sequence[str]) -> np.ndarray:
    """MinHash signatures of the texts' word 5-grams, one row a text: one permutation hashing, densified.

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
        return sig
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
    return sig


def bands_for(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows): the most selective banding that still finds 99.5% of pairs at the threshold."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= 0.995:
            return bands, rows
    return num_perm, 1


class NearDuplicates:
    """Groups near-duplicate articles, keeping 8 bytes per article in memory.

    Each article's signature goes to a temporary file (1 KB each, on disk, never the texts), computed
    a small batch of texts at a time: by `pool` when one is given (another process, so that the
    signatures are worked out while the caller goes on reading the database), else here.
    `groups` then reads the file one band at a time to find the articles that share a band's
    key (the LSH candidates), and keeps a candidate pair only if its signatures agree on about
    as many bins as a near-duplicate's would (at least the threshold minus ESTIMATE_MARGIN)
    before checking it exactly. Unrelated articles with a few common phrases share a band now
    and then, and a corpus of 100,000 has many such pairs: the estimate drops them without
    reading their texts. With 128 bins the estimate's standard deviation at the threshold is
    under 0.04, so the margin loses no true pair in practice, and the exact check means no
    false one is ever grouped.
    """

    ESTIMATE_MARGIN = 0.2
    READ_ROWS = 4096
    # Texts whose signatures are computed together; a batch stays under about 1 MB of text.
    BATCH_TEXTS = 32
    BATCH_CHARS = 1 << 18
    IN_FLIGHT = 8  # batches handed to the pool and not written yet

    def __init__(self, threshold: float, directory=None, pool: Executor | None = None):
        self.threshold = threshold
        self._pool = pool  # computes the signatures while the caller goes on, if given
        self._pending: deque[Future] = deque()
        self.bands, self.rows = bands_for(threshold)
        self._ids = array("q")
        self._signatures = tempfile.TemporaryFile(dir=directory)
        self._band_weights = _odd_weights(self.rows)
        self._waiting: list[str] = []
        self._waiting_chars = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for pending in self._pending:
            pending.cancel()
        self._signatures.close()

    def add(self, article_id: int, text: str) -> None:
        self._ids.append(article_id)
        self._waiting.append(text)
        self._waiting_chars += len(text)
        if len(self._waiting) >= self.BATCH_TEXTS or self._waiting_chars >= self.BATCH_CHARS:
            self._flush()

    def _flush(self, wait: bool = False) -> None:
        batch, self._waiting, self._waiting_chars = self._waiting, [], 0
        if batch and self._pool is None:
            self._signatures.write(signatures(batch).tobytes())
        elif batch:
            self._pending.append(self._pool.submit(signatures, batch))
        # In order, so row i of the file is article i; at most IN_FLIGHT batches wait in memory.
        while self._pending and (wait or len(self._pending) > self.IN_FLIGHT or self._pending[0].done()):
            self._signatures.write(self._pending.popleft().result().tobytes())

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

    def groups(self, texts: Callable[[Sequence[int]], dict[int, str]]) -> list[list[int]]:
        """Groups of two or more articles (sorted ids), checking each candidate pair exactly.

        `texts(ids)` returns the texts of the given articles; it is called a few ids at a time.
        """
        try:
            self._flush(wait=True)
            pairs = []
            for code in self._candidates().tolist():
                a, b = code >> 32, code & 0xFFFFFFFF
                if np.mean(self._signature_at(a) == self._signature_at(b)) >= self.threshold - self.ESTIMATE_MARGIN:
                    pairs.append(tuple(sorted((self._ids[a], self._ids[b]))))
        finally:
            self._signatures.close()
        pairs.sort()

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
                if find(a) != find(b) and jaccard(cache[a], cache[b]) >= self.threshold:
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
