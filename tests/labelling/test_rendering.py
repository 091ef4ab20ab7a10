"""rendering.layout: paragraphs of pieces that reproduce the text, with the spans covering each piece."""

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.labelling.rendering import assign_tracks, layout, redrawn, text_html

TEXT = "Lavrov said “the West is trying”.\n\nسيرغي لافروف قال 👩\u200d👩\u200d👧 q\u0307.\nEnd."


def span(id, start, end):
    return SimpleNamespace(id=id, start=start, end=end)


def at(text, phrase, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


def covering(paragraphs, span_id):
    """Every piece that carries the span, in order."""
    return [piece for p in paragraphs for piece in p.pieces if any(s.id == span_id for s in piece.spans)]


def check_invariants(text, spans, paragraphs):
    lines = text.split("\n")
    assert len(paragraphs) == len(lines)
    assert "\n".join(text[p.start : p.end] for p in paragraphs) == text
    for paragraph, line in zip(paragraphs, lines, strict=True):
        assert text[paragraph.start : paragraph.end] == line
        assert "".join(piece.text for piece in paragraph.pieces) == line
        position = paragraph.start
        for piece in paragraph.pieces:
            assert piece.text, "no empty pieces"
            assert piece.start == position
            assert text[piece.start : piece.start + len(piece.text)] == piece.text
            position += len(piece.text)
            piece_end = piece.start + len(piece.text)
            expected = {s.id for s in spans if s.start <= piece.start and piece_end <= s.end}
            assert {s.id for s in piece.spans} == expected, (piece, expected)
            tracks = [s.track for s in piece.spans]
            assert tracks == sorted(tracks, reverse=True), "outermost (highest track) first"
            assert len(set(tracks)) == len(tracks), "spans on one piece never share a track"
    # A piece never straddles a span boundary.
    for paragraph in paragraphs:
        for piece in paragraph.pieces:
            piece_end = piece.start + len(piece.text)
            for s in spans:
                assert not piece.start < s.start < piece_end
                assert not piece.start < s.end < piece_end


class TestText:
    def test_no_spans_gives_one_piece_per_non_empty_line(self):
        paragraphs = layout(TEXT, [])
        check_invariants(TEXT, [], paragraphs)
        assert [(p.start, p.end) for p in paragraphs] == [(0, 33), (34, 34), (35, 61), (62, 66)]
        assert [[piece.text for piece in p.pieces] for p in paragraphs] == [
            ["Lavrov said “the West is trying”."], [], ["سيرغي لافروف قال 👩\u200d👩\u200d👧 q\u0307."], ["End."],
        ]
        assert all(not piece.spans for p in paragraphs for piece in p.pieces)

    def test_single_line_text(self):
        paragraphs = layout("one line", [span(1, 4, 8)])
        assert [(p.start, p.end) for p in paragraphs] == [(0, 8)]
        assert [(piece.text, piece.start, [s.id for s in piece.spans]) for piece in paragraphs[0].pieces] == [
            ("one ", 0, []), ("line", 4, [1]),
        ]

    def test_offsets_are_code_points_around_emoji_and_combining_marks(self):
        family = "👩\u200d👩\u200d👧"
        spans = [span(1, *at(TEXT, family)), span(2, *at(TEXT, "q\u0307")), span(3, *at(TEXT, "لافروف"))]
        paragraphs = layout(TEXT, spans)
        check_invariants(TEXT, spans, paragraphs)
        assert [piece.text for piece in covering(paragraphs, 1)] == [family]
        assert [piece.text for piece in covering(paragraphs, 2)] == ["q\u0307"]
        assert [piece.text for piece in covering(paragraphs, 3)] == ["لافروف"]
        assert covering(paragraphs, 1)[0].start == TEXT.index(family) == 52

    def test_trailing_newline_gives_an_empty_last_paragraph(self):
        paragraphs = layout("a\n", [span(1, 0, 1)])
        assert [(p.start, p.end) for p in paragraphs] == [(0, 1), (2, 2)]
        assert paragraphs[1].pieces == []


class TestNestedAndOverlapping:
    def test_nested_spans_inner_piece_carries_both_outer_first(self):
        outer = span(1, *at(TEXT, "Lavrov said “the West is trying”."))
        inner = span(2, *at(TEXT, "the West"))
        paragraphs = layout(TEXT, [inner, outer])
        check_invariants(TEXT, [inner, outer], paragraphs)

        assert (outer.track, inner.track) == (0, 1)
        pieces = paragraphs[0].pieces
        assert [(p.text, [s.id for s in p.spans]) for p in pieces] == [
            ("Lavrov said “", [1]),
            ("the West", [2, 1]),  # the higher track is the outermost <mark>
            (" is trying”.", [1]),
        ]

    def test_spans_with_the_same_start_longest_gets_the_lower_track(self):
        longer = span(5, 0, 11)
        shorter = span(4, 0, 6)
        paragraphs = layout(TEXT, [shorter, longer])
        check_invariants(TEXT, [shorter, longer], paragraphs)
        assert (longer.track, shorter.track) == (0, 1)
        assert [(p.text, [s.id for s in p.spans]) for p in paragraphs[0].pieces[:2]] == [
            ("Lavrov", [4, 5]), (" said", [5]),
        ]

    def test_identical_spans_get_two_tracks(self):
        a, b = span(1, 0, 6), span(2, 0, 6)
        paragraphs = layout(TEXT, [b, a])
        check_invariants(TEXT, [a, b], paragraphs)
        assert {a.track, b.track} == {0, 1}
        assert [s.id for s in paragraphs[0].pieces[0].spans] == [2, 1]

    def test_overlapping_spans_get_different_tracks_and_keep_them(self):
        first = span(1, *at(TEXT, "said “the West"))
        second = span(2, *at(TEXT, "West is trying”."))
        paragraphs = layout(TEXT, [second, first])
        check_invariants(TEXT, [first, second], paragraphs)

        assert (first.track, second.track) == (0, 1)
        assert [(p.text, [(s.id, s.track) for s in p.spans]) for p in paragraphs[0].pieces] == [
            ("Lavrov ", []),
            ("said “the ", [(1, 0)]),
            ("West", [(2, 1), (1, 0)]),
            (" is trying”.", [(2, 1)]),
        ]
        # Each span is the same object, with the same track, in every piece it covers.
        for s in (first, second):
            assert {id(x) for piece in covering(paragraphs, s.id) for x in piece.spans if x.id == s.id} == {id(s)}

    def test_a_span_after_an_overlap_goes_back_to_the_free_track(self):
        spans = [span(1, 0, 10), span(2, 5, 20), span(3, 12, 15), span(4, 22, 25)]
        paragraphs = layout(TEXT, spans)
        check_invariants(TEXT, spans, paragraphs)
        assert [s.track for s in spans] == [0, 1, 0, 0]
        assert assign_tracks(spans) == {1: 0, 2: 1, 3: 0, 4: 0}

    def test_adjacent_spans_share_a_track(self):
        spans = [span(1, 0, 6), span(2, 6, 11)]
        paragraphs = layout(TEXT, spans)
        assert [s.track for s in spans] == [0, 0]
        assert [(p.text, [s.id for s in p.spans]) for p in paragraphs[0].pieces[:2]] == [
            ("Lavrov", [1]), (" said", [2]),
        ]


class TestAcrossLines:
    def test_span_crossing_a_line_break_is_in_both_paragraphs(self):
        text = "First line ends here.\nSecond line starts here."
        crossing = span(1, *at(text, "ends here.\nSecond"))
        paragraphs = layout(text, [crossing])
        check_invariants(text, [crossing], paragraphs)
        assert [(p.text, [s.id for s in p.spans]) for p in paragraphs[0].pieces] == [
            ("First line ", []), ("ends here.", [1]),
        ]
        assert [(p.text, [s.id for s in p.spans]) for p in paragraphs[1].pieces] == [
            ("Second", [1]), (" line starts here.", []),
        ]

    def test_span_over_an_empty_line_reaches_the_paragraph_after(self):
        crossing = span(1, *at(TEXT, "trying”.\n\nسيرغي"))
        paragraphs = layout(TEXT, [crossing])
        check_invariants(TEXT, [crossing], paragraphs)
        assert [p.text for p in covering(paragraphs, 1)] == ["trying”.", "سيرغي"]

    def test_span_starting_on_the_newline_itself(self):
        text = "ab\ncd"
        spans = [span(1, 2, 4), span(2, 0, 3)]
        paragraphs = layout(text, spans)
        check_invariants(text, spans, paragraphs)
        assert [p.text for p in covering(paragraphs, 1)] == ["c"]
        assert [p.text for p in covering(paragraphs, 2)] == ["ab"]

    def test_nested_spans_across_lines(self):
        outer = span(1, *at(TEXT, TEXT.split("\n")[0] + "\n\n" + TEXT.split("\n")[2]))
        inner = span(2, *at(TEXT, "”.\n\nسيرغي"))
        paragraphs = layout(TEXT, [outer, inner])
        check_invariants(TEXT, [outer, inner], paragraphs)
        assert (outer.track, inner.track) == (0, 1)
        assert [p.text for p in covering(paragraphs, 2)] == ["”.", "سيرغي"]


@st.composite
def text_and_spans(draw):
    alphabet = st.sampled_from(list("ab \n") + ["é", "👩", "\u200d", "\u0307", "ل"])
    text = draw(st.text(alphabet=alphabet, min_size=1, max_size=40))
    count = draw(st.integers(min_value=0, max_value=8))
    spans = []
    for i in range(count):
        start = draw(st.integers(min_value=0, max_value=len(text) - 1))
        end = draw(st.integers(min_value=start + 1, max_value=len(text)))
        spans.append(span(100 + i, start, end))
    return text, spans


@settings(max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans())
def test_any_text_and_spans_keep_the_invariants(case):
    text, spans = case
    paragraphs = layout(text, spans)
    check_invariants(text, spans, paragraphs)
    # Two spans that share a character never share a track.
    for a in spans:
        for b in spans:
            if a is not b and a.start < b.end and b.start < a.end:
                assert a.track != b.track
    # Every character of a span that is not a line break is drawn inside it.
    for s in spans:
        drawn = "".join(piece.text for piece in covering(paragraphs, s.id))
        assert drawn == text[s.start : s.end].replace("\n", "")


@pytest.mark.parametrize("text", ["x", "\n", "\n\n", "a\nb"])
def test_tiny_texts(text):
    paragraphs = layout(text, [])
    assert "\n".join(text[p.start : p.end] for p in paragraphs) == text
    assert len(paragraphs) == text.count("\n") + 1


# A save answers with only the paragraphs `redrawn` names (layout(..., within=...)): put into the
# page as it was, they must give exactly what drawing everything again gives.


def labelled(id, start, end, label_id):
    return SimpleNamespace(id=id, start=start, end=end, label_id=label_id, label=SimpleNamespace(name=f"L{label_id}"))


def patched(text, before, after):
    """The page drawn from `before`, with the paragraphs a change to `after` sends swapped in."""
    page = {p.start: text_html([p]) for p in layout(text, before)}
    within = redrawn(before, after)
    sent = layout(text, after, within=within) if within else []
    for paragraph in sent:
        page[paragraph.start] = text_html([paragraph])
    return "".join(page.values()), [p.start for p in sent]


@st.composite
def a_change(draw):
    """A text, its spans before, and after one span is added, removed or relabelled."""
    text, spans = draw(text_and_spans())
    before = [labelled(s.id, s.start, s.end, draw(st.integers(1, 3))) for s in spans]
    kind = draw(st.sampled_from(["add", "remove", "relabel"] if before else ["add"]))
    if kind == "add":
        start = draw(st.integers(min_value=0, max_value=len(text) - 1))
        end = draw(st.integers(min_value=start + 1, max_value=len(text)))
        new = labelled(draw(st.sampled_from([1, 999])), start, end, 1)  # id 1 sorts before the others
        after = [*before, new]
    else:
        subject = draw(st.sampled_from(before))
        after = [s for s in before if s is not subject]
        if kind == "relabel":
            after.append(labelled(subject.id, subject.start, subject.end, subject.label_id % 3 + 1))
    # Fresh objects: layout() writes each span's track onto it.
    copy = lambda spans: [labelled(s.id, s.start, s.end, s.label_id) for s in spans]  # noqa: E731
    return text, copy(before), copy(after)


@settings(max_examples=400, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a_change())
def test_paragraphs_sent_after_a_change_give_the_same_page_as_a_full_render(case):
    text, before, after = case
    page, _ = patched(text, before, after)
    assert page == text_html(layout(text, after))


def test_a_change_sends_only_the_paragraphs_it_draws_differently():
    text = "one two three\nfour five six\nseven eight nine\nten"
    crossing = labelled(10, text.index("three"), text.index(" five"), 1)  # line 1 into line 2
    last = labelled(11, text.index("eight"), text.index(" nine"), 2)
    # A new span on line 1 that starts before the crossing one takes its track: the crossing
    # span moves to track 1 on both its lines, so line 2 is sent although the new span is not on it.
    new = labelled(12, text.index("two"), text.index("three") + 2, 1)
    page, sent = patched(text, [crossing, last], [crossing, last, new])
    assert sent == [0, 14]
    assert page == text_html(layout(text, [crossing, last, new]))
    assert 'data-span="10" title="L1">four</mark>' in page and "track-1" in page
    # Removing it again puts the crossing span back on track 0, on the same two lines.
    assert patched(text, [crossing, last, new], [crossing, last])[1] == [0, 14]
    # A span that changes nobody's track sends only its own line.
    alone = labelled(13, text.index("ten"), len(text), 3)
    assert patched(text, [crossing, last], [crossing, last, alone])[1] == [text.index("ten")]
