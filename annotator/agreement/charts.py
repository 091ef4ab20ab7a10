"""Bar charts as geometry for server-rendered SVG.

The page's Content-Security-Policy allows no inline script or style attribute, so every bar
is a `<rect>` with computed attributes and a class for its colour.
"""

import math
from dataclasses import dataclass

from .metrics import Agreement, Figure

LABEL_WIDTH = 220
PLOT_WIDTH = 360
VALUE_WIDTH = 70
BAR_HEIGHT = 14
BAR_GAP = 2
GROUP_GAP = 10
TOP = 22


@dataclass(frozen=True)
class Bar:
    series: int
    defined: bool
    x: str
    y: str
    width: str
    height: str
    text_x: str
    text_y: str
    text: str
    name: str


@dataclass(frozen=True)
class Group:
    label: str
    full_label: str
    label_y: str
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    x: str
    text: str


@dataclass(frozen=True)
class Chart:
    label_x: int
    width: int
    height: int
    zero_x: str
    plot_top: int
    plot_bottom: int
    groups: list[Group]
    ticks: list[Tick]
    series: list[str]


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def bar_chart(groups: list[tuple[str, list[Figure]]], series: list[str]) -> Chart:
    """Horizontal bars from 0 to each figure; the scale runs from min(0, lowest) to 1.

    Agreement measures top out at 1 and can fall below 0 (worse than chance), so the scale's
    left end is rounded down to a half to keep a negative bar visible without shrinking the rest.
    """
    values = [f.value for _, figures in groups for f in figures if f.defined]
    low = max(-1.0, math.floor(min([0.0, *values]) * 2) / 2)
    span = 1.0 - low

    def x_of(value: float) -> float:
        return LABEL_WIDTH + (value - low) / span * PLOT_WIDTH

    zero = x_of(0.0)
    rows, y = [], TOP
    for label, figures in groups:
        bars = []
        for i, figure in enumerate(figures):
            if figure.defined:
                end = x_of(figure.value)
                left, right = min(zero, end), max(zero, end)
                text = f"{figure.value:.3f}"
            else:
                left = right = zero
                text = "—"
            bars.append(
                Bar(
                    series=i,
                    defined=figure.defined,
                    x=_fmt(left),
                    y=_fmt(y),
                    width=_fmt(right - left),
                    height=_fmt(BAR_HEIGHT),
                    text_x=_fmt(LABEL_WIDTH + PLOT_WIDTH + 6),
                    text_y=_fmt(y + BAR_HEIGHT - 3),
                    text=text,
                    name=series[i],
                )
            )
            y += BAR_HEIGHT + BAR_GAP
        group_height = len(figures) * (BAR_HEIGHT + BAR_GAP)
        short = label if len(label) <= 30 else label[:29] + "…"
        rows.append(Group(short, label, _fmt(y - group_height / 2 + 2), bars))
        y += GROUP_GAP
    steps = round(span / 0.25)
    ticks = [Tick(_fmt(x_of(low + k * 0.25)), f"{low + k * 0.25:g}") for k in range(steps + 1)]
    return Chart(
        label_x=LABEL_WIDTH - 8,
        width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        height=y + 4,
        zero_x=_fmt(zero),
        plot_top=TOP - 4,
        plot_bottom=y - GROUP_GAP + 4,
        groups=rows,
        ticks=ticks,
        series=series,
    )


def agreement_charts(result: Agreement) -> dict[str, Chart | None]:
    """The page's two charts; a chart of nothing but dashes says less than its table, so None."""
    alpha = [(f"Topic: {name}", [figure]) for name, figure in result.topic_alpha]
    alpha += [(f"Stance: {name}", [figure]) for name, figure in result.stance_alpha]
    spans = [(s.label, [s.exact, s.overlap]) for s in result.spans]
    spans.append(("All labels", [result.spans_overall.exact, result.spans_overall.overlap]))
    return {
        "alpha_chart": bar_chart(alpha, ["Krippendorff's alpha"]) if _any_defined(alpha) else None,
        "span_chart": bar_chart(spans, ["Exact", "Overlap"]) if _any_defined(spans) else None,
    }


def _any_defined(groups: list[tuple[str, list[Figure]]]) -> bool:
    return any(figure.defined for _, figures in groups for figure in figures)
