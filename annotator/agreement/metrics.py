"""Inter-annotator agreement on plain data: no database, no Django.

The input is one `Coding` per submitted analyst annotation. An analyst who skipped an article,
or never did it, simply has no coding for it: every measure here treats that as missing data,
never as a "no".

Every figure comes with `n`, the number of items it rests on, and is `None` (with a `note`
saying why) where the measure is undefined rather than a misleading 0 or 1.
"""

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from itertools import combinations
from operator import itemgetter
from statistics import fmean

import krippendorff
import numpy as np

NO_UNITS = "no article has answers from two or more analysts"
NO_VARIATION = "no variation: every answer was the same"
NO_SHARED = "no articles both analysts submitted"
NO_SPANS = "no spans with this label"
NONE_DEFINED = "no figure above is defined"


@dataclass(frozen=True)
class Figure:
    value: float | None
    n: int
    note: str = ""

    @property
    def defined(self) -> bool:
        return self.value is not None


class SpanMark(NamedTuple):
    # A tuple, not a dataclass: spans are hashed and compared by the hundred thousand. A plain
    # (label, start, end) tuple is equal to it and is read the same way (a snapshot's card makes
    # those, in C, from its records' spans).
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Coding:
    """One analyst's submitted annotation of one article."""

    article: Hashable
    analyst: str
    topics: frozenset[str] = frozenset()
    stances: Mapping[str, str] = field(default_factory=dict)  # stance target -> value
    spans: tuple[SpanMark, ...] = ()


class NominalUnits:
    """Units for Krippendorff's alpha (nominal), added one at a time, kept as distinct value counts.

    Alpha depends only on how often each unit's multiset of values occurs, so what is kept is
    how often each distinct tuple of values came (a handful for yes/no questions), not the
    articles. The tuples are kept as given, coders in order, and made multisets (`rows`) only
    when alpha is asked for: a snapshot's card adds a unit per topic and stance target of every
    article, and sorting each one's values as it came was a fifth of the agreement's count
    (a profile of a 10k snapshot's).
    """

    def __init__(self):
        self.seen: Counter[tuple] = Counter()

    def add(self, unit: Mapping[Hashable, Hashable]) -> None:
        """One unit: coder -> value. Coders absent from it are missing data; a unit with one value cannot be compared."""
        self.add_values(tuple(unit.values()))

    def add_values(self, values: tuple) -> None:
        """One unit, as the values its coders gave (absent coders left out)."""
        if len(values) >= 2:
            self.seen[values] += 1

    def merge(self, other: "NominalUnits") -> None:
        """Add another's units, as if they had been added here."""
        self.seen.update(other.seen)

    @property
    def rows(self) -> Counter[tuple]:
        """How many units had each multiset of values: ((value, count), ...) in a fixed order."""
        rows: Counter[tuple] = Counter()
        for values, units in self.seen.items():
            rows[tuple(sorted(Counter(values).items(), key=repr))] += units
        return rows

    def alpha(self) -> Figure:
        rows = self.rows
        pairable = sum(rows.values())
        if not pairable:
            return Figure(None, 0, NO_UNITS)
        domain = sorted({value for row in rows for value, _ in row}, key=repr)
        if len(domain) < 2:
            # The expected disagreement is 0, so alpha is 0/0.
            return Figure(None, pairable, NO_VARIATION)
        index = {value: i for i, value in enumerate(domain)}
        distinct = np.zeros((len(rows), len(domain)), dtype=np.int64)
        for row, values in enumerate(rows):
            for value, count in values:
                distinct[row, index[value]] = count
        counts = np.repeat(distinct, list(rows.values()), axis=0)
        value = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
        return Figure(float(value), pairable)


def nominal_alpha(units: Iterable[Mapping[Hashable, Hashable]]) -> Figure:
    """Krippendorff's alpha for nominal data; each unit maps a coder to the value they gave.

    Coders absent from a unit are missing data. `n` counts the pairable units (two or more
    values); a unit with one value cannot be compared and does not count.
    """
    tally = NominalUnits()
    for unit in units:
        tally.add(unit)
    return tally.alpha()


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]] | Mapping[tuple[Hashable, Hashable], int]) -> Figure:
    """Cohen's kappa for two raters; `pairs` holds (first rater's value, second's) per item,
    or is a table of how many items had each such pair.

    In integer counts, kappa = (n·agreements − Σ a_k·b_k) / (n² − Σ a_k·b_k), the same as
    (p_o − p_e) / (1 − p_e) multiplied through by n², so "no variation" (p_e = 1) is an exact
    zero denominator rather than a floating-point near miss.
    """
    table = pairs if isinstance(pairs, Mapping) else Counter(pairs)
    n = sum(table.values())
    if n == 0:
        return Figure(None, 0, NO_SHARED)
    first, second = Counter(), Counter()
    for (a, b), count in table.items():
        first[a] += count
        second[b] += count
    agreements = sum(count for (a, b), count in table.items() if a == b)
    chance = sum(first[k] * second[k] for k in first)
    denominator = n * n - chance
    if denominator == 0:
        return Figure(None, n, NO_VARIATION)
    return Figure((n * agreements - chance) / denominator, n)


_start = itemgetter(1)


def _without_identical(first: Iterable[SpanMark], second: Iterable[SpanMark]) -> tuple[list[SpanMark], list[SpanMark]]:
    """The spans of each side that no identical span of the other side pairs with (a duplicate
    pairs with at most one copy)."""
    left: dict[SpanMark, int] = {}
    for span in first:
        left[span] = left.get(span, 0) + 1
    rest_second = []
    for span in second:
        if left.get(span):
            left[span] -= 1
        else:
            rest_second.append(span)
    return [span for span, count in left.items() for _ in range(count)], rest_second


def span_matches(first: Sequence[SpanMark], second: Sequence[SpanMark]) -> tuple[int, int]:
    """(exact, overlap) matches between two analysts' spans.

    Exact: spans with the same label, start and end; a duplicate is matched at most once.
    Overlap: same-label spans whose ranges intersect, paired one to one, greedily: candidates
    are taken in order of the longest intersection, then the smallest union, so an identical
    span always wins over a merely overlapping one and the overlap count is never below the
    exact count. No candidate can come before an identical pair and take one of its spans (its
    intersection would be longer than the span, or as long with a larger union), so the
    identical pairs are matched first, as the exact ones, and only the rest compared pair by pair.
    """
    rest_first, rest_second = _without_identical(first, second)
    exact = len(first) - len(rest_first)
    if not rest_first or not rest_second:
        return exact, exact
    # The other side's spans by start: those that may intersect [a_start, a_end) start before
    # a_end, and after a_start minus the longest of them.
    rest_second.sort(key=_start)
    starts = [span[1] for span in rest_second]
    longest = max(end - start for _, start, end in rest_second)
    candidates = []
    for i, (label, a_start, a_end) in enumerate(rest_first):
        for j in range(bisect_right(starts, a_start - longest), bisect_left(starts, a_end)):
            b_label, b_start, b_end = rest_second[j]
            if a_start < b_end and label == b_label:  # they intersect
                intersection = (a_end if a_end < b_end else b_end) - (a_start if a_start > b_start else b_start)
                union = (a_end if a_end > b_end else b_end) - (a_start if a_start < b_start else b_start)
                candidates.append((-intersection, union, a_start, a_end, b_start, b_end, i, j))
    candidates.sort()
    used_first, used_second = set(), set()
    for *_, i, j in candidates:
        if i not in used_first and j not in used_second:
            used_first.add(i)
            used_second.add(j)
    return exact, exact + len(used_first)


def exact_matches(first: Sequence[SpanMark], second: Sequence[SpanMark]) -> int:
    """`span_matches`' exact count."""
    return span_matches(first, second)[0]


def overlap_matches(first: Sequence[SpanMark], second: Sequence[SpanMark]) -> int:
    """`span_matches`' overlap count."""
    return span_matches(first, second)[1]


def f1(matches: int, spans: int) -> Figure:
    """F1 between two sets of spans: 2·TP / (|A| + |B|), symmetric in A and B."""
    if spans == 0:
        return Figure(None, 0, NO_SPANS)
    return Figure(2 * matches / spans, spans)


def mean(figures: Iterable[Figure]) -> Figure:
    """The mean of the defined figures; `n` is how many were averaged."""
    values = [f.value for f in figures if f.defined]
    if not values:
        return Figure(None, 0, NONE_DEFINED)
    return Figure(fmean(values), len(values))


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    shared: int  # articles both submitted
    topic_kappa: list[tuple[str, Figure]]
    topic_kappa_mean: Figure
    stance_kappa: list[tuple[str, Figure]]


@dataclass(frozen=True)
class SpanAgreement:
    label: str
    exact: Figure
    overlap: Figure


@dataclass(frozen=True)
class Agreement:
    analysts: list[str]
    annotations: int
    articles: int  # with at least one submitted annotation
    shared_articles: int  # with two or more
    topic_alpha: list[tuple[str, Figure]]
    topic_alpha_mean: Figure
    stance_alpha: list[tuple[str, Figure]]
    pairs: list[PairAgreement]
    spans: list[SpanAgreement]
    spans_overall: SpanAgreement


def _by_label(spans: Iterable[SpanMark]) -> dict[str, list[SpanMark]]:
    grouped = defaultdict(list)
    for span in spans:
        grouped[span[0]].append(span)  # its label (a plain (label, start, end) tuple is a span too)
    return grouped


class _PairTally:
    def __init__(self, topics: Sequence[str], targets: Sequence[str]):
        self.shared = 0
        self.topics = {topic: Counter() for topic in topics}
        self.stances = {target: Counter() for target in targets}

    def merge(self, other: "_PairTally") -> None:
        self.shared += other.shared
        for mine, theirs in ((self.topics, other.topics), (self.stances, other.stances)):
            for key, table in theirs.items():
                mine[key].update(table)


class Tally:
    """Every agreement figure, added up one article at a time.

    What it keeps is counts (distinct alpha units, kappa tables, span matches per label), so its
    memory does not grow with the number of articles: a snapshot's card adds its articles a
    chunk at a time. Every measure here decomposes into such counts.
    """

    def __init__(self, *, topics: Sequence[str], targets: Sequence[str], labels: Sequence[str]):
        self.topics, self.targets, self.labels = list(topics), list(targets), list(labels)
        self.analysts: set[str] = set()
        self.annotations = self.articles = self.shared_articles = 0
        # A topic is a yes/no question asked of every article an analyst submitted.
        self.topic_units = {topic: NominalUnits() for topic in self.topics}
        self.stance_units = {target: NominalUnits() for target in self.targets}
        self.pairs: dict[tuple[str, str], _PairTally] = {}
        self.matched = {label: Counter() for label in self.labels}

    def add(self, coded: Mapping[str, Coding]) -> None:
        """One article's codings, by analyst."""
        if not coded:
            return
        self.analysts.update(coded)
        self.annotations += len(coded)
        self.articles += 1
        self.shared_articles += len(coded) >= 2
        codings = list(coded.values())
        for topic in self.topics:
            self.topic_units[topic].add_values(tuple(topic in c.topics for c in codings))
        # An analyst who gave no stance toward a target has no value for it: missing, not a value.
        for target in self.targets:
            self.stance_units[target].add_values(tuple(c.stances[target] for c in codings if target in c.stances))
        if len(coded) < 2:
            return
        spans = {analyst: _by_label(coding.spans) for analyst, coding in coded.items()}
        for first, second in combinations(sorted(coded), 2):
            a, b = coded[first], coded[second]
            pair = self.pairs.get((first, second)) or self.pairs.setdefault((first, second), _PairTally(self.topics, self.targets))
            pair.shared += 1
            for topic in self.topics:
                pair.topics[topic][topic in a.topics, topic in b.topics] += 1
            for target in self.targets:
                if target in a.stances and target in b.stances:
                    pair.stances[target][a.stances[target], b.stances[target]] += 1
            for label in self.labels:
                a_spans, b_spans = spans[first].get(label, ()), spans[second].get(label, ())
                if not a_spans and not b_spans:
                    continue
                exact, overlap = span_matches(a_spans, b_spans)
                # Micro-average: counts add up over pairs and articles before any division.
                matched = self.matched[label]
                matched["spans"] += len(a_spans) + len(b_spans)
                matched["exact"] += exact
                matched["overlap"] += overlap

    def merge(self, other: "Tally") -> None:
        """Add another tally of the same schema (other articles), as if they had been added here."""
        self.analysts |= other.analysts
        self.annotations += other.annotations
        self.articles += other.articles
        self.shared_articles += other.shared_articles
        for mine, theirs in ((self.topic_units, other.topic_units), (self.stance_units, other.stance_units)):
            for key, units in theirs.items():
                mine[key].merge(units)
        for key, pair in other.pairs.items():
            self.pairs.setdefault(key, _PairTally(self.topics, self.targets)).merge(pair)
        for label, counts in other.matched.items():
            self.matched[label].update(counts)

    def result(self) -> Agreement:
        analysts = sorted(self.analysts)
        topic_alpha = [(topic, self.topic_units[topic].alpha()) for topic in self.topics]
        pairs = []
        for first, second in combinations(analysts, 2):
            pair = self.pairs.get((first, second)) or _PairTally(self.topics, self.targets)
            topic_kappa = [(t, cohen_kappa(pair.topics[t])) for t in self.topics]
            stance_kappa = [(t, cohen_kappa(pair.stances[t])) for t in self.targets]
            pairs.append(
                PairAgreement(first, second, pair.shared, topic_kappa, mean(f for _, f in topic_kappa), stance_kappa)
            )
        total = sum(self.matched.values(), Counter())
        return Agreement(
            analysts=analysts,
            annotations=self.annotations,
            articles=self.articles,
            shared_articles=self.shared_articles,
            topic_alpha=topic_alpha,
            topic_alpha_mean=mean(f for _, f in topic_alpha),
            stance_alpha=[(target, self.stance_units[target].alpha()) for target in self.targets],
            pairs=pairs,
            spans=[
                SpanAgreement(label, f1(c["exact"], c["spans"]), f1(c["overlap"], c["spans"]))
                for label, c in self.matched.items()
            ],
            spans_overall=SpanAgreement("", f1(total["exact"], total["spans"]), f1(total["overlap"], total["spans"])),
        )


def by_article(codings: Iterable[Coding]) -> dict[Hashable, dict[str, Coding]]:
    grouped: dict[Hashable, dict[str, Coding]] = defaultdict(dict)
    for coding in codings:
        grouped[coding.article][coding.analyst] = coding
    return grouped


def agreement(
    codings: Iterable[Coding], *, topics: Sequence[str], targets: Sequence[str], labels: Sequence[str]
) -> Agreement:
    """Every agreement figure of a project, for its schema's topics, stance targets and labels."""
    tally = Tally(topics=topics, targets=targets, labels=labels)
    for coded in by_article(codings).values():
        tally.add(coded)
    return tally.result()
