"""Where analysts disagree, on plain span-like objects (no database)."""

from types import SimpleNamespace

from annotator.review.compare import disagreement_kinds, span_groups, stance_rows, topic_rows

QUOTE, CLAIM, SOURCE = 1, 2, 3


def s(start, end, label=QUOTE, **attributes):
    return SimpleNamespace(start=start, end=end, label_id=label, attributes=attributes)


def groups_by_offsets(analysts, gold=()):
    return {(g.start, g.end): g for g in span_groups(analysts, gold)}


def test_same_spans_agree():
    groups = groups_by_offsets([[s(0, 6, SOURCE), s(12, 40)], [s(0, 6, SOURCE), s(12, 40)]])
    assert set(groups) == {(0, 6), (12, 40)}
    assert all(not g.kinds for g in groups.values())
    assert all(cell.state == "same" for g in groups.values() for cell in g.cells)


def test_nested_spans_of_other_labels_are_not_a_boundary_difference():
    # Both analysts mark a quote and the source inside it: overlapping, but identical work.
    work = [s(0, 40), s(0, 6, SOURCE)]
    assert disagreement_kinds([work, list(work)], [set(), set()], [{}, {}]) == set()


def test_label_difference_at_the_same_offsets():
    groups = groups_by_offsets([[s(12, 40, QUOTE)], [s(12, 40, CLAIM)]])
    assert groups[(12, 40)].kinds == {"label"}
    assert [c.state for c in groups[(12, 40)].cells] == ["same", "same"]


def test_boundary_difference_is_an_overlapping_span_of_the_same_label():
    groups = groups_by_offsets([[s(12, 40)], [s(13, 40)]])
    wide, narrow = groups[(12, 40)], groups[(13, 40)]
    assert wide.kinds == {"boundary"} and narrow.kinds == {"boundary"}
    assert [c.state for c in wide.cells] == ["same", "boundary"]
    assert [(n.start, n.end) for n in wide.cells[1].near] == [(13, 40)]


def test_missing_when_an_analyst_has_nothing_like_it():
    groups = groups_by_offsets([[s(12, 40), s(50, 60, CLAIM)], [s(12, 40)], [s(12, 40)]])
    assert groups[(12, 40)].kinds == set()
    assert groups[(50, 60)].kinds == {"missing"}
    assert [c.state for c in groups[(50, 60)].cells] == ["same", "missing", "missing"]


def test_overlap_with_another_label_is_missing_not_boundary():
    groups = groups_by_offsets([[s(12, 40, QUOTE)], [s(12, 38, CLAIM)]])
    assert groups[(12, 40)].kinds == {"missing"}
    assert groups[(12, 38)].kinds == {"missing"}


def test_attribute_difference():
    groups = groups_by_offsets([[s(12, 40, speaker="Lavrov")], [s(12, 40, speaker="Zakharova")]])
    assert groups[(12, 40)].kinds == {"attributes"}
    groups = groups_by_offsets([[s(12, 40, speaker="Lavrov")], [s(12, 40, speaker="Lavrov")]])
    assert groups[(12, 40)].kinds == set()


def test_gold_only_spans_get_a_group_but_make_no_disagreement():
    groups = groups_by_offsets([[s(0, 6)], [s(0, 6)]], gold=[s(70, 80, CLAIM)])
    assert groups[(70, 80)].kinds == set()
    assert [g.label_id for g in groups[(70, 80)].gold] == [CLAIM]
    assert groups[(70, 80)].analyst_labels == set()


def test_one_analyst_cannot_disagree():
    assert disagreement_kinds([[s(0, 6)]], [{1}], [{1: 2}]) == set()


def test_topics_and_stance_differences():
    assert disagreement_kinds([[], []], [{1, 2}, {1}], [{}, {}]) == {"topics"}
    assert disagreement_kinds([[], []], [{1}, {1}], [{7: 1}, {7: 2}]) == {"stance"}
    assert disagreement_kinds([[], []], [{1}, {1}], [{7: 1}, {}]) == {"stance"}
    assert disagreement_kinds([[], []], [{1}, {1}], [{7: 1}, {7: 1}]) == set()


def test_topic_and_stance_rows_mark_the_rows_that_differ():
    topics = [SimpleNamespace(id=1, name="Armenia"), SimpleNamespace(id=2, name="Syria")]
    rows = topic_rows(topics, [{1, 2}, {1}], {2})
    assert [(r.topic.name, r.chosen, r.differs, r.gold) for r in rows] == [
        ("Armenia", [True, True], False, False),
        ("Syria", [True, False], True, True),
    ]
    targets = [SimpleNamespace(id=7, name="NATO"), SimpleNamespace(id=8, name="the West")]
    rows = stance_rows(targets, [{7: 1, 8: 2}, {7: 1}], {8: 2})
    assert [(r.values, r.differs, r.gold) for r in rows] == [([1, 1], False, None), ([2, None], True, 2)]
