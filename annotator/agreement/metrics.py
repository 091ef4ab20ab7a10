"""Inter-annotator agreement on plain data: no database, no Django.

The input is one `Coding` per submitted analyst annotation. An analyst who skipped an article,
or never did it, simply has no coding for it: every measure here treats that as missing data,
never as a "no".

Every figure comes with `n`, the number of items it rests on, and is `None` (with a `note`
saying why) where the measure is undefined rather than a misleading 0 or 1.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
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


@dataclass(frozen=True)
class SpanMark:
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


def nominal_alpha(units: Iterable[Mapping[Hashable, Hashable]]) -> Figure:
    """Krippendorff's alpha for nominal data; each unit maps a coder to the value they gave.

    Coders absent from a unit are missing data. `n` counts the pairable units (two or more
    values); a unit with one value cannot be compared and does not count.
    """
    pairable = [list(unit.values()) for unit in units if len(unit) >= 2]
    if not pairable:
        return Figure(None, 0, NO_UNITS)
    domain = sorted({value for values in pairable for value in values}, key=repr)
    if len(domain) < 2:
        # The expected disagreement is 0, so alpha is 0/0.
        return Figure(None, len(pairable), NO_VARIATION)
    index = {value: i for i, value in enumerate(domain)}
    counts = np.zeros((len(pairable), len(domain)), dtype=np.int64)
    for row, values in enumerate(pairable):
        for value in values:
            counts[row, index[value]] += 1
    value = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    return Figure(float(value), len(pairable))


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> Figure:
    """Cohen's kappa for two raters; `pairs` holds (first rater's value, second's) per item.

    In integer counts, kappa = (n·agreements − Σ a_k·b_k) / (n² − Σ a_k·b_k), the same as
    (p_o − p_e) / (1 − p_e) multiplied through by n², so "no variation" (p_e = 1) is an exact
    zero denominator rather than a floating-point near miss.
    """
    n = len(pairs)
    if n == 0:
        return Figure(None, 0, NO_SHARED)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    agreements = sum(1 for a, b in pairs if a == b)
    chance = sum(first[k] * second[k] for k in first)
    denominator = n * n - chance
    if denominator == 0:
        return Figure(None, n, NO_VARIATION)
    return Figure((n * agreements - chance) / denominator, n)


def exact_matches(first: Iterable[SpanMark], second: Iterable[SpanMark]) -> int:
    """Spans with the same label, start and end; a duplicate is matched at most once."""
    return sum((Counter(first) & Counter(second)).values())


def overlap_matches(first: Sequence[SpanMark], second: Sequence[SpanMark]) -> int:
    """Same-label spans whose ranges intersect, paired one to one, greedily.

    Candidates are taken in order of the longest intersection, then the smallest union, so an
    identical span always wins over a merely overlapping one: the overlap count is never below
    the exact count.
    """
    candidates = []
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            if a.label != b.label:
                continue
            intersection = min(a.end, b.end) - max(a.start, b.start)
            if intersection > 0:
                union = max(a.end, b.end) - min(a.start, b.start)
                candidates.append((-intersection, union, a.start, a.end, b.start, b.end, i, j))
    candidates.sort()
    used_first, used_second = set(), set()
    for *_, i, j in candidates:
        if i not in used_first and j not in used_second:
            used_first.add(i)
            used_second.add(j)
    return len(used_first)


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
        grouped[span.label].append(span)
    return grouped


def agreement(
    codings: Iterable[Coding], *, topics: Sequence[str], targets: Sequence[str], labels: Sequence[str]
) -> Agreement:
    """Every agreement figure of a project, for its schema's topics, stance targets and labels."""
    by_article: dict[Hashable, dict[str, Coding]] = defaultdict(dict)
    for coding in codings:
        by_article[coding.article][coding.analyst] = coding
    articles = list(by_article.values())
    analysts = sorted({analyst for coded in articles for analyst in coded})

    # A topic is a yes/no question asked of every article an analyst submitted.
    topic_alpha = [
        (topic, nominal_alpha({a: topic in c.topics for a, c in coded.items()} for coded in articles))
        for topic in topics
    ]
    # An analyst who gave no stance toward a target has no value for it: missing, not a value.
    def stances_toward(target):
        return ({a: c.stances[target] for a, c in coded.items() if target in c.stances} for coded in articles)

    stance_alpha = [(target, nominal_alpha(stances_toward(target))) for target in targets]
    spans_by_label = {
        (article, analyst): _by_label(coding.spans)
        for article, coded in by_article.items()
        for analyst, coding in coded.items()
    }

    pairs = []
    matched = {label: Counter() for label in labels}
    for first, second in combinations(analysts, 2):
        shared = [(coded[first], coded[second]) for coded in articles if first in coded and second in coded]
        topic_kappa = [(t, cohen_kappa([(t in a.topics, t in b.topics) for a, b in shared])) for t in topics]
        stance_kappa = [
            (t, cohen_kappa([(a.stances[t], b.stances[t]) for a, b in shared if t in a.stances and t in b.stances]))
            for t in targets
        ]
        pairs.append(
            PairAgreement(first, second, len(shared), topic_kappa, mean(f for _, f in topic_kappa), stance_kappa)
        )
        for a, b in shared:
            a_labels, b_labels = spans_by_label[a.article, a.analyst], spans_by_label[b.article, b.analyst]
            for label in labels:
                a_spans, b_spans = a_labels.get(label, []), b_labels.get(label, [])
                # Micro-average: counts add up over pairs and articles before any division.
                matched[label]["spans"] += len(a_spans) + len(b_spans)
                matched[label]["exact"] += exact_matches(a_spans, b_spans)
                matched[label]["overlap"] += overlap_matches(a_spans, b_spans)

    total = sum(matched.values(), Counter())
    return Agreement(
        analysts=analysts,
        annotations=sum(len(coded) for coded in articles),
        articles=len(articles),
        shared_articles=sum(1 for coded in articles if len(coded) >= 2),
        topic_alpha=topic_alpha,
        topic_alpha_mean=mean(f for _, f in topic_alpha),
        stance_alpha=stance_alpha,
        pairs=pairs,
        spans=[
            SpanAgreement(label, f1(c["exact"], c["spans"]), f1(c["overlap"], c["spans"]))
            for label, c in matched.items()
        ],
        spans_overall=SpanAgreement("", f1(total["exact"], total["spans"]), f1(total["overlap"], total["spans"])),
    )
