"""The agreement figures as CSV rows: metric, scope, item, value, n.

Names in the rows (topics, stance targets, labels, usernames) are typed by people, and a cell
that starts with = + - @ or a tab or carriage return is run as a formula by spreadsheet
programs; such a cell gets a leading apostrophe. A plain number is left alone: "-0.25" is
the value -0.25, not a formula, and an apostrophe would turn it into text.
"""

import csv
import io
import re
from collections.abc import Iterator

from .metrics import Agreement, Figure

CONTENT_TYPE = "text/csv; charset=utf-8"
HEADER = ("metric", "scope", "item", "value", "n")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(cell: str) -> str:
    if cell.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def rows(result: Agreement) -> Iterator[tuple[str, str, str, Figure]]:
    for topic, figure in result.topic_alpha:
        yield "alpha_topic", "all analysts", topic, figure
    yield "alpha_topic_mean", "all analysts", "", result.topic_alpha_mean
    for target, figure in result.stance_alpha:
        yield "alpha_stance", "all analysts", target, figure
    for pair in result.pairs:
        scope = f"{pair.first} & {pair.second}"
        for topic, figure in pair.topic_kappa:
            yield "kappa_topic", scope, topic, figure
        yield "kappa_topic_mean", scope, "", pair.topic_kappa_mean
        for target, figure in pair.stance_kappa:
            yield "kappa_stance", scope, target, figure
    for span in result.spans:
        yield "f1_exact", "all pairs", span.label, span.exact
        yield "f1_overlap", "all pairs", span.label, span.overlap
    yield "f1_exact_overall", "all pairs", "", result.spans_overall.exact
    yield "f1_overlap_overall", "all pairs", "", result.spans_overall.overlap


def write(result: Agreement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for metric, scope, item, figure in rows(result):
        value = "" if figure.value is None else f"{figure.value:.4f}"
        writer.writerow([safe_cell(cell) for cell in (metric, scope, item, value, str(figure.n))])
    return out.getvalue()
