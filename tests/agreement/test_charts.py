from annotator.agreement.charts import LABEL_WIDTH, PLOT_WIDTH, bar_chart
from annotator.agreement.metrics import NO_VARIATION, Figure


def test_bars_start_at_zero_and_the_scale_reaches_below_it_for_negative_values():
    groups = [("a", [Figure(1.0, 3)]), ("b", [Figure(-0.3, 3)]), ("c", [Figure(None, 3, NO_VARIATION)])]
    chart = bar_chart(groups, ["alpha"])
    # The scale runs from -0.5 (the lowest value rounded down to a half) to 1: zero sits a third in.
    zero = LABEL_WIDTH + PLOT_WIDTH / 3
    assert chart.zero_x == f"{zero:.1f}"
    a, b, c = (group.bars[0] for group in chart.groups)
    assert (a.x, a.width, a.text) == (f"{zero:.1f}", f"{PLOT_WIDTH * 2 / 3:.1f}", "1.000")
    assert (float(b.x) + float(b.width), b.text) == (float(f"{zero:.1f}"), "-0.300")
    assert float(b.width) == round(PLOT_WIDTH * 0.3 / 1.5, 1)
    assert (c.defined, c.text) == (False, "—")
    assert [t.text for t in chart.ticks] == ["-0.5", "-0.25", "0", "0.25", "0.5", "0.75", "1"]


def test_grouped_bars_and_long_labels():
    groups = [("A label much longer than thirty characters", [Figure(0.5, 2), Figure(1.0, 2)])]
    chart = bar_chart(groups, ["Exact", "Overlap"])
    (group,) = chart.groups
    assert group.label == "A label much longer than thir…" and len(group.label) == 30
    assert group.full_label == "A label much longer than thirty characters"
    exact, overlap = group.bars
    assert (exact.series, overlap.series) == (0, 1)
    assert float(overlap.y) > float(exact.y)
    assert chart.ticks[0].text == "0"
