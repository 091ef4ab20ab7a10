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
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

SPLITS = ("train", "validation", "test")
SHINGLE_WORDS = 5
NUM_PERM = 128
_MERSENNE = np.uint64((1 << 61) - 1)
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


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Fixed, seeded in the code: a signature must mean the same in every run and on every machine.
    digest = b"".join(hashlib.sha256(f"annotator-minhash-{i}".encode()).digest() for i in range(NUM_PERM // 2))
    values = np.frombuffer(digest, dtype="<u8").reshape(2, NUM_PERM)
    return (values[0] % (_MERSENNE - np.uint64(1))) + np.uint64(1), values[1] % _MERSENNE


_A, _B = _permutations()


_SHINGLE_WEIGHTS = np.array(
    [(0x9E3779B97F4A7C15 * (j + 1) | 1) & 0xFFFFFFFFFFFFFFFF for j in range(SHINGLE_WORDS)], dtype=np.uint64
)


@functools.lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    # News reuses its words: a bounded cache makes most look-ups a dictionary hit.
    return zlib.crc32(word.encode("utf-8"))


def signature(text: str) -> np.ndarray:
    """The MinHash signature of the text's word 5-grams, computed without Python loops over them.

    Each word is hashed once (CRC-32); a 5-gram's hash is a fixed weighted sum of its words'
    hashes (mod 2^64). Deterministic everywhere, unlike Python's salted `hash`.
    """
    words = _WORD.findall(text.casefold())
    if not words:
        return np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    hashed = np.fromiter(map(_word_hash, words), dtype=np.uint64, count=len(words))
    size = min(SHINGLE_WORDS, len(hashed))
    count = len(hashed) - size + 1
    with np.errstate(over="ignore"):
        grams = sum(hashed[j : j + count] * _SHINGLE_WEIGHTS[j] for j in range(size))
        grams = np.unique(grams)
        permuted = (grams[:, None] * _A + _B) % _MERSENNE
    return permuted.min(axis=0)


def bands_for(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows): the most selective banding that still finds 99.5% of pairs at the threshold."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= 0.995:
            return bands, rows
    return num_perm, 1


class NearDuplicates:
    """Groups near-duplicate articles. Holds a few hundred bytes per article, never the texts."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.bands, self.rows = bands_for(threshold)
        self._buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
        self._candidates: set[tuple[int, int]] = set()

    def add(self, article_id: int, text: str) -> None:
        sig = signature(text)
        for band in range(self.bands):
            key = hashlib.blake2b(sig[band * self.rows : (band + 1) * self.rows].tobytes(), digest_size=8).digest()
            bucket = self._buckets[(band, key)]
            for other in bucket:
                self._candidates.add((min(other, article_id), max(other, article_id)))
            bucket.append(article_id)

    def groups(self, texts: Callable[[Sequence[int]], dict[int, str]]) -> list[list[int]]:
        """Groups of two or more articles (sorted ids), checking each candidate pair exactly.

        `texts(ids)` returns the texts of the given articles; it is called a few ids at a time.
        """
        self._buckets.clear()
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        pairs = sorted(self._candidates)
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


@dataclass
class Unit:
    """One article as the splitter sees it."""

    article_id: int
    sha256: str
    primary_topic: str  # "" when the article has no topic


def primary_topic(topic_lists: Iterable[Iterable[str]], topic_order: Sequence[str]) -> str:
    votes = Counter(topic for topics in topic_lists for topic in set(topics))
    if not votes:
        return ""
    rank = {topic: i for i, topic in enumerate(topic_order)}
    return min(votes, key=lambda t: (-votes[t], rank.get(t, len(rank)), t))


@dataclass
class Assignment:
    split_of: dict[int, str] = field(default_factory=dict)
    groups: list[list[int]] = field(default_factory=list)

    def articles(self, split: str) -> list[int]:
        return sorted(i for i, s in self.split_of.items() if s == split)


def assign(
    units: Sequence[Unit],
    groups: Sequence[Sequence[int]],
    ratios: dict[str, int],
    seed: int,
    topic_order: Sequence[str] = (),
) -> Assignment:
    """Give every unit a split; `ratios` are percentages for train, validation and test."""
    by_id = {u.article_id: u for u in units}
    grouped = {i for group in groups for i in group}
    members = [list(g) for g in groups if all(i in by_id for i in g)]
    members += [[u.article_id] for u in units if u.article_id not in grouped]

    strata: dict[str, list[list[int]]] = defaultdict(list)
    for group in members:
        stratum = primary_topic([[by_id[i].primary_topic] for i in group if by_id[i].primary_topic], topic_order)
        strata[stratum].append(group)

    def order(group: list[int]) -> str:
        content = min(by_id[i].sha256 for i in group)
        return hashlib.sha256(f"{seed}\0{content}".encode()).hexdigest()

    # Strata one after the other, each in its seeded order, and every group to the split furthest
    # below its share of all the groups so far: each stratum is spread over the splits in
    # proportion, and small strata still fill the smaller splits between them.
    split_of: dict[int, str] = {}
    counts = dict.fromkeys(SPLITS, 0)
    for stratum in sorted(strata):
        for group in sorted(strata[stratum], key=order):
            total = sum(counts.values()) + len(group)
            split = max(SPLITS, key=lambda s: (ratios[s] * total / 100 - counts[s], -SPLITS.index(s)))
            counts[split] += len(group)
            for article_id in group:
                split_of[article_id] = split
    return Assignment(split_of=split_of, groups=[sorted(g) for g in members if len(g) > 1])
