"""Agreement measures against values worked out by hand (the arithmetic is in the comments)."""

from collections import Counter

import pytest

from annotator.agreement.metrics import (
    NO_SHARED,
    NO_SPANS,
    NO_UNITS,
    NO_VARIATION,
    Coding,
    Figure,
    SpanMark,
    agreement,
    cohen_kappa,
    exact_matches,
    f1,
    mean,
    nominal_alpha,
    overlap_matches,
)

TOPICS = ["Armenia", "Syria"]
TARGETS = ["NATO"]
LABELS = ["Claim", "Quote"]


def units(rows: dict[str, list]) -> list[dict]:
    """Reliability data as coder -> values per unit (None = missing) to one dict per unit."""
    length = len(next(iter(rows.values())))
    return [{coder: values[i] for coder, values in rows.items() if values[i] is not None} for i in range(length)]


def by_pair(result, first, second):
    return next(p for p in result.pairs if (p.first, p.second) == (first, second))


def named(figures, name):
    return dict(figures)[name]


# Krippendorff's alpha -----------------------------------------------------------------------


def test_alpha_krippendorff_2011_nominal_example_with_missing_data():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x 12 units.
    # Unit 12 has one value and is not pairable: 11 units, 40 pairable values with
    # n_1 = 9, n_2 = 13, n_3 = 10, n_4 = 5, n_5 = 3.
    # Disagreeing coincidences (sum over units of ordered disagreeing pairs / (m_u - 1)):
    #   unit 2 (2,2,3,2): 6/3 = 2;  unit 6 (1,2,3,4): 12/3 = 4;  unit 8 (1,1,2,1): 6/3 = 2;  total 8.
    # Sum over c != k of n_c n_k = 40^2 - (81 + 169 + 100 + 25 + 9) = 1600 - 384 = 1216.
    # alpha = 1 - (n - 1) * 8 / 1216 = 1 - 39 * 8 / 1216 = 1 - 312/1216 = 0.74342...
    data = units(
        {
            "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
        }
    )
    figure = nominal_alpha(data)
    assert figure.value == pytest.approx(1 - 312 / 1216)
    assert round(figure.value, 3) == 0.743
    assert figure.n == 11


def test_alpha_is_exactly_zero_for_a_constructed_chance_table():
    # Two coders, four units, yes/no: (yes, no), (no, no), (no, no), (no, no).
    # Coincidences: o_yn = o_ny = 1, o_nn = 3 * 2 = 6; n_yes = 1, n_no = 7, n = 8.
    # D_o = (o_yn + o_ny) / n = 2/8 = 0.25;  D_e = 2 n_yes n_no / (n (n - 1)) = 14/56 = 0.25.
    # alpha = 1 - D_o / D_e = 0.
    figure = nominal_alpha(units({"A": [True, False, False, False], "B": [False, False, False, False]}))
    assert figure.value == pytest.approx(0.0)
    assert figure.n == 4


def test_alpha_on_a_balanced_table_includes_the_small_sample_correction():
    # (yes, yes), (yes, no), (no, yes), (no, no): o_yy = 2, o_yn = o_ny = 2, o_nn = 2; n_y = n_n = 4.
    # D_o = 4/8 = 0.5;  D_e = 2 * 4 * 4 / (8 * 7) = 32/56;  alpha = 1 - 0.5 * 56/32 = 1 - 0.875 = 0.125
    # (Cohen's kappa on the same table is 0: see below).
    figure = nominal_alpha(units({"A": [True, True, False, False], "B": [True, False, True, False]}))
    assert figure.value == pytest.approx(0.125)


def test_alpha_is_one_for_perfect_agreement():
    figure = nominal_alpha(units({"A": ["x", "y", "x"], "B": ["x", "y", "x"], "C": ["x", "y", None]}))
    assert figure == Figure(1.0, 3)


def test_alpha_is_undefined_without_variation_or_without_pairable_units():
    assert nominal_alpha(units({"A": [1, 1], "B": [1, 1]})) == Figure(None, 2, NO_VARIATION)
    # Variation only in a unit with one coder does not count: that unit cannot be paired.
    assert nominal_alpha(units({"A": [1, 2], "B": [1, None]})) == Figure(None, 1, NO_VARIATION)
    assert nominal_alpha(units({"A": [1, None], "B": [None, 2]})) == Figure(None, 0, NO_UNITS)
    assert nominal_alpha([]) == Figure(None, 0, NO_UNITS)


# Cohen's kappa ------------------------------------------------------------------------------


def test_kappa_on_a_two_by_two_table_worked_by_hand():
    #              B yes  B no
    #   A yes        20     5     (A yes 25/50 = 0.5)
    #   A no         10    15     (B yes 30/50 = 0.6)
    # p_o = (20 + 15)/50 = 0.7;  p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5;  kappa = (0.7 - 0.5)/(1 - 0.5) = 0.4
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == Figure(pytest.approx(0.4), 50)


def test_kappa_is_zero_at_chance():
    # (y,y), (y,n), (n,y), (n,n): p_o = 2/4 = 0.5;  p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5;  kappa = 0.
    assert cohen_kappa([("y", "y"), ("y", "n"), ("n", "y"), ("n", "n")]).value == pytest.approx(0.0)
    # The table alpha is 0 on above: p_o = 3/4;  p_e = (1/4)(0/4) + (3/4)(4/4) = 0.75;  kappa = 0.
    assert cohen_kappa([("y", "n"), ("n", "n"), ("n", "n"), ("n", "n")]).value == pytest.approx(0.0)


def test_kappa_perfect_and_undefined():
    assert cohen_kappa([("a", "a"), ("b", "b"), ("a", "a")]) == Figure(1.0, 3)
    assert cohen_kappa([("a", "a"), ("a", "a")]) == Figure(None, 2, NO_VARIATION)
    assert cohen_kappa([]) == Figure(None, 0, NO_SHARED)


def test_kappa_can_be_negative():
    # (y,n), (n,y): p_o = 0;  p_e = 0.5 * 0.5 + 0.5 * 0.5 = 0.5;  kappa = (0 - 0.5)/0.5 = -1.
    assert cohen_kappa([("y", "n"), ("n", "y")]).value == pytest.approx(-1.0)


# Span matching and F1 -----------------------------------------------------------------------


def test_exact_and_overlap_differ_on_a_boundary_disagreement():
    first = [SpanMark("Claim", 0, 10), SpanMark("Quote", 20, 30)]
    second = [SpanMark("Claim", 0, 10), SpanMark("Quote", 20, 28)]
    assert exact_matches(first, second) == 1
    assert overlap_matches(first, second) == 2
    # Exact: 2 * 1 / (2 + 2) = 0.5;  overlap: 2 * 2 / 4 = 1.
    assert f1(1, 4).value == 0.5
    assert f1(2, 4).value == 1.0


def test_overlap_matching_is_one_to_one_and_needs_the_same_label():
    # One long claim against two halves: only one half can be its match.
    assert overlap_matches([SpanMark("Claim", 0, 10)], [SpanMark("Claim", 0, 5), SpanMark("Claim", 5, 10)]) == 1
    assert overlap_matches([SpanMark("Claim", 0, 10)], [SpanMark("Quote", 0, 10)]) == 0
    # Touching is not intersecting: [0, 5) and [5, 9) share no character.
    assert overlap_matches([SpanMark("Claim", 0, 5)], [SpanMark("Claim", 5, 9)]) == 0
    # Duplicates in one annotation are matched once each.
    assert exact_matches([SpanMark("Claim", 0, 5)] * 2, [SpanMark("Claim", 0, 5)]) == 1


def test_overlap_prefers_the_identical_span_so_it_never_counts_fewer_than_exact():
    # a1 = [0, 20) overlaps b1 = [5, 15) by 10; a2 = [5, 15) is identical to b1 (also 10), and
    # b2 = [0, 4) overlaps only a1. Taking a1-b1 first would leave a2 and b2 unmatched (1 match);
    # the identical pair wins the tie on the smaller union, then a1-b2 pairs up: 2 matches.
    first = [SpanMark("Claim", 0, 20), SpanMark("Claim", 5, 15)]
    second = [SpanMark("Claim", 5, 15), SpanMark("Claim", 0, 4)]
    assert exact_matches(first, second) == 1
    assert overlap_matches(first, second) == 2


def greedy_overlaps(first, second) -> int:
    """The overlap matching as its definition reads: every intersecting same-label pair a
    candidate, longest intersection first, then smallest union, each span used once."""
    candidates = sorted(
        (-(min(a[2], b[2]) - max(a[1], b[1])), max(a[2], b[2]) - min(a[1], b[1]), a[1], a[2], b[1], b[2], i, j)
        for i, a in enumerate(first)
        for j, b in enumerate(second)
        if a[0] == b[0] and b[1] < a[2] and a[1] < b[2]
    )
    used_first, used_second = set(), set()
    for *_, i, j in candidates:
        if i not in used_first and j not in used_second:
            used_first.add(i)
            used_second.add(j)
    return len(used_first)


@pytest.mark.parametrize("seed", range(300))
def test_span_matches_count_as_the_definition_does(seed):
    # `span_matches` matches the identical pairs first and compares only the spans near each
    # other: on nested, overlapping, duplicated spans of two labels, in any order, it counts
    # what the all-pairs greedy matching counts. Plain tuples are spans too (a card makes those).
    import random

    from annotator.agreement.metrics import span_matches

    rng = random.Random(seed)

    def spans():
        made = []
        for _ in range(rng.randint(0, 12)):
            start = rng.randint(0, 60)
            made.append(SpanMark(rng.choice(LABELS), start, start + rng.choice([1, 2, 3, 5, 8, 30])))
        made += rng.sample(made, min(len(made), rng.randint(0, 2)))  # duplicates
        rng.shuffle(made)
        return made

    first, second = spans(), spans()
    if seed % 2:
        second += rng.sample(first, len(first) // 2)  # some spans both analysts marked
    exact = sum((Counter(first) & Counter(second)).values())
    assert span_matches(first, second) == (exact, greedy_overlaps(first, second))
    assert span_matches([tuple(s) for s in first], [tuple(s) for s in second]) == span_matches(first, second)


def test_f1_without_spans_is_undefined():
    assert f1(0, 0) == Figure(None, 0, NO_SPANS)


def test_mean_skips_undefined_figures():
    assert mean([Figure(1.0, 3), Figure(None, 3, NO_VARIATION), Figure(0.5, 3)]) == Figure(0.75, 2)
    assert mean([Figure(None, 3, NO_VARIATION)]).value is None


# The whole report ---------------------------------------------------------------------------


def test_perfect_agreement_gives_one_everywhere():
    spans = (SpanMark("Claim", 0, 10), SpanMark("Quote", 12, 20))
    codings = [
        Coding(article, analyst, frozenset(topics), {"NATO": stance}, spans)
        for analyst in ("ann", "ben", "cat")
        for article, topics, stance in [(1, {"Armenia"}, "critical"), (2, {"Syria"}, "neutral"), (3, set(), "critical")]
    ]
    result = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    assert [f.value for _, f in result.topic_alpha] == [1.0, 1.0]
    assert result.topic_alpha_mean == Figure(1.0, 2)
    assert named(result.stance_alpha, "NATO") == Figure(1.0, 3)
    assert [(p.first, p.second) for p in result.pairs] == [("ann", "ben"), ("ann", "cat"), ("ben", "cat")]
    for pair in result.pairs:
        assert pair.shared == 3
        assert [f.value for _, f in pair.topic_kappa + pair.stance_kappa] == [1.0, 1.0, 1.0]
    spans = [(s.label, s.exact.value, s.overlap.value) for s in result.spans]
    assert spans == [("Claim", 1.0, 1.0), ("Quote", 1.0, 1.0)]
    # 3 pairs x 3 articles x 2 spans each side = 36 spans.
    assert result.spans_overall.exact == Figure(1.0, 36)


def test_three_analysts_with_a_skipped_article():
    # Topic Armenia, yes = 1, no = 0; cat skipped article 3 (no coding):
    #   article 1: ann 1, ben 1, cat 1
    #   article 2: ann 0, ben 0, cat 1
    #   article 3: ann 1, ben 0, cat -
    # Alpha coincidences: article 1 (m = 3): o_11 += 6/2 = 3; article 2 (m = 3): o_00 += 2/2,
    # o_01 += 2/2, o_10 += 2/2; article 3 (m = 2): o_01 += 1, o_10 += 1.
    # o_00 = 1, o_01 = o_10 = 2, o_11 = 3;  n_0 = 3, n_1 = 5, n = 8.
    # alpha = 1 - (n - 1)(o_01 + o_10) / (2 n_0 n_1) = 1 - 7 * 4 / 30 = 1/15.
    # Kappa ann & ben on articles 1-3: (1,1), (0,0), (1,0): p_o = 2/3;
    #   p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9;  kappa = (2/3 - 4/9)/(5/9) = 0.4.
    # Kappa ann & cat on articles 1-2: (1,1), (0,1): p_o = 1/2;  p_e = (1/2)(1) + (1/2)(0) = 1/2;  kappa = 0.
    # Kappa ben & cat: the same table as ann & cat, so 0.
    # Syria nobody chose: no variation, alpha undefined, and the topic mean is Armenia's alone.
    codings = [
        Coding(1, "ann", frozenset({"Armenia"})),
        Coding(1, "ben", frozenset({"Armenia"})),
        Coding(1, "cat", frozenset({"Armenia"})),
        Coding(2, "ann"),
        Coding(2, "ben"),
        Coding(2, "cat", frozenset({"Armenia"})),
        Coding(3, "ann", frozenset({"Armenia"})),
        Coding(3, "ben"),
    ]
    result = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    assert named(result.topic_alpha, "Armenia") == Figure(pytest.approx(1 / 15), 3)
    assert named(result.topic_alpha, "Syria") == Figure(None, 3, NO_VARIATION)
    assert result.topic_alpha_mean == Figure(pytest.approx(1 / 15), 1)
    assert (result.annotations, result.articles, result.shared_articles) == (8, 3, 3)

    ann_ben = by_pair(result, "ann", "ben")
    assert ann_ben.shared == 3
    assert named(ann_ben.topic_kappa, "Armenia") == Figure(pytest.approx(0.4), 3)
    assert named(ann_ben.topic_kappa, "Syria") == Figure(None, 3, NO_VARIATION)
    for first in ("ann", "ben"):
        pair = by_pair(result, first, "cat")
        assert pair.shared == 2
        assert named(pair.topic_kappa, "Armenia") == Figure(pytest.approx(0.0), 2)


def test_stance_missing_values_are_missing_not_disagreement():
    # Article 1: ann critical, ben critical, cat gave no stance (missing);
    # article 2: ann neutral, ben neutral, cat neutral; article 3: only ann has a value.
    # Pairable units are 1 and 2, with full agreement and two values in use: alpha = 1, n = 2.
    codings = [
        Coding(1, "ann", stances={"NATO": "critical"}),
        Coding(1, "ben", stances={"NATO": "critical"}),
        Coding(1, "cat"),
        Coding(2, "ann", stances={"NATO": "neutral"}),
        Coding(2, "ben", stances={"NATO": "neutral"}),
        Coding(2, "cat", stances={"NATO": "neutral"}),
        Coding(3, "ann", stances={"NATO": "critical"}),
        Coding(3, "ben"),
    ]
    result = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    assert named(result.stance_alpha, "NATO") == Figure(1.0, 2)
    # ann & cat share articles 1 and 2, but only article 2 has a value from both: one item,
    # one category, so kappa is undefined rather than 1.
    assert named(by_pair(result, "ann", "cat").stance_kappa, "NATO") == Figure(None, 1, NO_VARIATION)
    assert named(by_pair(result, "ann", "ben").stance_kappa, "NATO") == Figure(1.0, 2)


def test_span_f1_is_micro_averaged_over_pairs_on_shared_articles():
    # Article 1: ann and ben mark Claim [0, 10), cat marks Claim [0, 8).
    #   ann & ben: exact 1, overlap 1, spans 2;  ann & cat: exact 0, overlap 1, spans 2;  ben & cat: the same.
    # Article 2, which cat skipped: ann marks Quote [0, 5), ben nothing: ann & ben spans 1, no match.
    # Claim: exact 2 * 1 / 6 = 1/3, overlap 2 * 3 / 6 = 1;  Quote: 2 * 0 / 1 = 0 both ways.
    # All labels: exact 2 * 1 / 7 = 2/7, overlap 2 * 3 / 7 = 6/7.
    codings = [
        Coding(1, "ann", spans=(SpanMark("Claim", 0, 10),)),
        Coding(1, "ben", spans=(SpanMark("Claim", 0, 10),)),
        Coding(1, "cat", spans=(SpanMark("Claim", 0, 8),)),
        Coding(2, "ann", spans=(SpanMark("Quote", 0, 5),)),
        Coding(2, "ben"),
    ]
    result = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    claim, quote = result.spans
    assert (claim.label, claim.exact, claim.overlap) == ("Claim", Figure(pytest.approx(1 / 3), 6), Figure(1.0, 6))
    assert (quote.label, quote.exact, quote.overlap) == ("Quote", Figure(0.0, 1), Figure(0.0, 1))
    assert result.spans_overall.exact == Figure(pytest.approx(2 / 7), 7)
    assert result.spans_overall.overlap == Figure(pytest.approx(6 / 7), 7)


def test_one_analyst_gives_no_pairs_and_undefined_figures():
    result = agreement([Coding(1, "ann", frozenset({"Armenia"}))], topics=TOPICS, targets=TARGETS, labels=LABELS)
    assert result.pairs == []
    assert named(result.topic_alpha, "Armenia") == Figure(None, 0, NO_UNITS)
    assert result.spans_overall.exact == Figure(None, 0, NO_SPANS)


# Agreement added up one article at a time ----------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_alpha_from_distinct_units_equals_krippendorff_on_the_raw_data(seed):
    # NominalUnits keeps each distinct multiset of values once, with a count: alpha must be the
    # library's alpha of the full units x values table, not an approximation of it.
    import random

    import krippendorff
    import numpy as np

    rng = random.Random(seed)
    coders, values = ["A", "B", "C"], ["x", "y", "z"]
    # Coders in any order: a unit is its multiset of values, however its coders came.
    data = [{c: rng.choice(values) for c in rng.sample(coders, 3) if rng.random() < 0.8} for _ in range(300)]
    table = np.array([[unit.get(c, np.nan) for unit in data] for c in coders], dtype=object)
    reliability = np.vectorize(lambda v: np.nan if v is np.nan else values.index(v), otypes=[float])(table)
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    figure = nominal_alpha(data)
    assert figure.value == pytest.approx(expected, abs=1e-12)
    assert figure.n == sum(1 for unit in data if len(unit) >= 2)


def random_codings(seed: int) -> list[Coding]:
    """Three analysts' codings of 60 articles, each coded with probability 0.8."""
    import random

    rng = random.Random(seed)
    return [
        Coding(
            article=article,
            analyst=analyst,
            topics=frozenset(t for t in TOPICS if rng.random() < 0.5),
            stances={"NATO": rng.choice(["pro", "anti"])} if rng.random() < 0.7 else {},
            spans=tuple(SpanMark(rng.choice(LABELS), s, s + rng.randint(1, 5)) for s in rng.sample(range(40), 4)),
        )
        for article in range(60)
        for analyst in ["ann", "bob", "cat"]
        if rng.random() < 0.8
    ]


def test_tally_fed_in_chunks_gives_the_same_figures_as_all_at_once():
    from annotator.agreement.metrics import Tally, by_article

    codings = random_codings(4)
    whole = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    tally = Tally(topics=TOPICS, targets=TARGETS, labels=LABELS)
    grouped = by_article(codings)
    for article in sorted(grouped, reverse=True):  # any order, one article at a time
        tally.add(grouped[article])
    assert tally.result() == whole
    assert whole.articles == len(grouped) and whole.topic_alpha_mean.defined


@pytest.mark.parametrize("cut", [0, 1, 17, 59])
def test_two_tallies_merged_give_the_same_figures_as_one(cut):
    # A snapshot's build and its helper process each add up part of the articles.
    from annotator.agreement.metrics import Tally, by_article

    codings = random_codings(cut)
    whole = agreement(codings, topics=TOPICS, targets=TARGETS, labels=LABELS)
    first, second = (Tally(topics=TOPICS, targets=TARGETS, labels=LABELS) for _ in range(2))
    for article, coded in sorted(by_article(codings).items()):
        (first if article < cut else second).add(coded)
    first.merge(second)
    assert first.result() == whole
