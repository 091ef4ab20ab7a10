"""Where the analysts of one article disagree: spans, topics and stance, side by side.

Pure functions over what the caller already loaded, so the review page (model instances)
and the review queue (a few columns for many articles at once) share one definition of a
disagreement. Only analysts' annotations are compared; a gold span is shown beside them but
never makes analysts disagree.

Kinds of span disagreement, per group of spans with the same `(start, end)`:
- "label": analysts marked the same characters with different labels;
- "attributes": same characters, same label, different attributes (a quote's speaker);
- "boundary": an analyst marked an overlapping span with the same label but other offsets;
- "missing": an analyst marked nothing like it (no span here, no overlapping one of that label).
"""

from bisect import bisect_left
from dataclasses import dataclass, field

SPAN_KINDS = ("boundary", "label", "missing", "attributes")


@dataclass
class Cell:
    """What one analyst has at a group's offsets."""

    spans: list = field(default_factory=list)
    # "same" (a span at exactly these offsets), "boundary" (an overlapping span of the same
    # label elsewhere, see `near`) or "missing".
    state: str = "missing"
    near: list = field(default_factory=list)


@dataclass
class Group:
    start: int
    end: int
    cells: list[Cell]
    gold: list = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)

    @property
    def analyst_labels(self) -> set[int]:
        return {s.label_id for cell in self.cells for s in cell.spans}

    @property
    def kind_list(self) -> list[str]:
        return [kind for kind in SPAN_KINDS if kind in self.kinds]


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def span_groups(analyst_spans: list[list], gold_spans=(), starting: tuple[int, int] | None = None) -> list[Group]:
    """One group per distinct `(start, end)`, each with a cell per analyst (in the given order).

    `analyst_spans[i]` are analyst i's spans; any object with `start`, `end`, `label_id` and
    `attributes` will do. With `starting` (`(first, last)`), only the groups that start from
    `first` to `last`: one page of a huge article's, for which the spans given need only be those
    that overlap them.
    """
    def shown(span):
        return starting is None or starting[0] <= span.start <= starting[1]

    keys = sorted(
        {(s.start, s.end) for spans in analyst_spans for s in spans if shown(s)}
        | {(s.start, s.end) for s in gold_spans if shown(s)},
        key=lambda k: (k[0], -k[1]),
    )
    groups = {key: Group(start=key[0], end=key[1], cells=[Cell() for _ in analyst_spans]) for key in keys}
    for i, spans in enumerate(analyst_spans):
        for span in spans:
            if shown(span):
                cell = groups[(span.start, span.end)].cells[i]
                cell.spans.append(span)
                cell.state = "same"
    for span in gold_spans:
        if shown(span):
            groups[(span.start, span.end)].gold.append(span)

    compared = len(analyst_spans) >= 2
    # Each analyst's spans by start, to find those overlapping a group without reading them all:
    # they start before its end and at most the analyst's longest span before its start (in input order).
    ordered = [sorted(range(len(spans)), key=lambda j, spans=spans: spans[j].start) for spans in analyst_spans]
    starts = [[spans[j].start for j in order] for spans, order in zip(analyst_spans, ordered)]
    longest = [max((s.end - s.start for s in spans), default=0) for spans in analyst_spans]

    def overlapping(i, start, end):
        order = ordered[i]
        found = order[bisect_left(starts[i], start - longest[i]) : bisect_left(starts[i], end)]
        return [analyst_spans[i][j] for j in sorted(found) if _overlaps(analyst_spans[i][j].start,
                                                                       analyst_spans[i][j].end, start, end)]

    for group in groups.values():
        labels = group.analyst_labels
        if not labels or not compared:
            continue
        for i, cell in enumerate(group.cells):
            if cell.state == "same":
                continue
            cell.near = [s for s in overlapping(i, group.start, group.end) if s.label_id in labels]
            cell.state = "boundary" if cell.near else "missing"
            group.kinds.add(cell.state)
        present = [cell for cell in group.cells if cell.state == "same"]
        if len({frozenset(s.label_id for s in cell.spans) for cell in present}) > 1:
            group.kinds.add("label")
        for label_id in labels:
            attributes = {
                tuple(sorted(s.attributes.items()))
                for cell in present for s in cell.spans if s.label_id == label_id
            }
            if len(attributes) > 1:
                group.kinds.add("attributes")
    return list(groups.values())


@dataclass
class TopicRow:
    topic: object
    chosen: list[bool]
    gold: bool = False

    @property
    def differs(self) -> bool:
        return len(set(self.chosen)) > 1


@dataclass
class StanceRow:
    target: object
    values: list  # one value id (or None) per analyst
    gold: int | None = None

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


def topic_rows(topics, analyst_topics: list[set[int]], gold_topics: set[int] = frozenset()) -> list[TopicRow]:
    return [
        TopicRow(topic=t, chosen=[t.id in chosen for chosen in analyst_topics], gold=t.id in gold_topics)
        for t in topics
    ]


def stance_rows(targets, analyst_stances: list[dict[int, int]], gold_stances: dict[int, int] | None = None):
    gold_stances = gold_stances or {}
    return [
        StanceRow(target=t, values=[chosen.get(t.id) for chosen in analyst_stances], gold=gold_stances.get(t.id))
        for t in targets
    ]


def disagreement_kinds(analyst_spans: list[list], analyst_topics: list[set[int]],
                       analyst_stances: list[dict[int, int]], analyst_links: list[set[tuple]] = ()) -> set[str]:
    """Every way the analysts disagree on one article; empty when they agree (or are fewer than two).

    `analyst_links[i]` are analyst i's links as `link_key`s; "links" when one drew a link another did not.
    """
    if len(analyst_spans) < 2:
        return set()
    kinds = set()
    for group in span_groups(analyst_spans):
        kinds |= group.kinds
    if len({frozenset(chosen) for chosen in analyst_topics}) > 1:
        kinds.add("topics")
    if len({frozenset(chosen.items()) for chosen in analyst_stances}) > 1:
        kinds.add("stance")
    if len({frozenset(links) for links in analyst_links}) > 1:
        kinds.add("links")
    return kinds


def link_key(type_id, source: tuple[int, int, int], target: tuple[int, int, int]) -> tuple:
    """A link as `relation_rows` tells links apart: its type and both ends' (label, start, end)."""
    return type_id, source, target


def _end(span) -> tuple[int, int, int]:
    return span.label_id, span.start, span.end


@dataclass
class LinkRow:
    """One link (its type, and the label and offsets of both ends) as each analyst and gold have it."""

    type: object
    source: object  # the first such link's spans, for their text and label
    target: object
    cells: list[list]  # each analyst's links of this kind between these ends
    gold: list = field(default_factory=list)
    # Gold's spans at the ends' labels and offsets: the link can go into gold once both exist.
    gold_source: object = None
    gold_target: object = None

    @property
    def offered(self) -> bool:
        """Both ends are in gold, the link is not, and an analyst drew it."""
        return not self.gold and self.gold_source is not None and self.gold_target is not None and any(self.cells)

    @property
    def analysts_drew(self) -> bool:
        return any(self.cells)

    @property
    def differs(self) -> bool:
        return len(self.cells) >= 2 and any(self.cells) and not all(self.cells)


def relation_rows(analyst_relations: list[list], gold_relations=(), gold_spans=()) -> list[LinkRow]:
    """One row per distinct link: type and both ends' (label, start, end), in the order of the text.

    Relations need `type`, `type_id`, `source` and `target` (spans as `span_groups` takes them).
    """
    rows: dict[tuple, LinkRow] = {}

    def row(relation) -> LinkRow:
        key = link_key(relation.type_id, _end(relation.source), _end(relation.target))
        if key not in rows:
            rows[key] = LinkRow(
                type=relation.type, source=relation.source, target=relation.target,
                cells=[[] for _ in analyst_relations],
            )
        return rows[key]

    for i, relations in enumerate(analyst_relations):
        for relation in relations:
            row(relation).cells[i].append(relation)
    for relation in gold_relations:
        row(relation).gold.append(relation)
    gold_at = {}
    for span in gold_spans:
        gold_at.setdefault(_end(span), span)
    for link in rows.values():
        link.gold_source = gold_at.get(_end(link.source))
        link.gold_target = gold_at.get(_end(link.target))
    return sorted(rows.values(), key=lambda r: (r.source.start, -r.source.end, r.target.start, r.type.name))
