"""What a snapshot counts of its records, split by split, for the dataset card: counts only.

Per split: articles, examples, spans, labels, relations per type, topics, stances and primary topics; and, when the
records hold every analyst's submitted annotation (the "analysts" scope), the agreement between
them (`agreement.metrics.Tally`). Other scopes' agreement is read from the database by
`card.SplitAgreement`.

No Django here: counting is plain Python over the records, which the build reads back from its
spool as it writes the files.
"""

from collections import Counter
from operator import itemgetter

from annotator.agreement.metrics import Coding, Tally

from .splits import SPLITS, primary_topic


def record_primary_topic(record: dict, schema: dict) -> str:
    return primary_topic((a["topics"] for a in record["annotations"]), schema["topics"])


# A span as the agreement measures see it: (label, start, end), the fields of a `SpanMark`.
_span_mark = itemgetter("label", "start", "end")
_label = itemgetter("label")


def codings(record: dict) -> dict[str, Coding]:
    """Each analyst's annotation in the record as the agreement measures see it."""
    return {
        annotation["annotator"]: Coding(
            article=record["id"],
            analyst=annotation["annotator"],
            topics=frozenset(annotation["topics"]),
            stances=annotation["stance"],
            spans=tuple(map(_span_mark, annotation["spans"])),
        )
        for annotation in record["annotations"]
    }


def add_counts(into: dict, other: dict) -> None:
    """Add `other`'s counts (numbers in nested dicts) to `into`'s. Keys new to `into` come after
    its own, as adding the records one by one in that order would have put them."""
    for key, value in other.items():
        if isinstance(value, dict):
            add_counts(into.setdefault(key, {}), value)
        else:
            into[key] = into.get(key, 0) + value


def _counts(schema: dict) -> dict:
    return {
        "articles": 0,
        "examples": 0,
        "spans": 0,
        "labels": dict.fromkeys((label["name"] for label in schema["labels"]), 0),
        "relations": dict.fromkeys((r["name"] for r in schema.get("relation_types", ())), 0),
        "topics": dict.fromkeys(schema["topics"], 0),
        "stance": {target: dict.fromkeys(schema["stance_values"], 0) for target in schema["stance_targets"]},
        "primary_topics": {},
    }


class SplitTally:
    """Counts (and, with `agreement`, the analysts' agreement) of the records added, per split."""

    def __init__(self, schema: dict, agreement: bool):
        self.schema = schema
        self.counts = {split: _counts(schema) for split in SPLITS}
        labels = [label["name"] for label in schema["labels"]]
        self.agreement = (
            {split: Tally(topics=schema["topics"], targets=schema["stance_targets"], labels=labels) for split in SPLITS}
            if agreement
            else None
        )

    def add(self, record: dict, split: str) -> None:
        counts = self.counts[split]
        counts["articles"] += 1
        primary = record_primary_topic(record, self.schema)
        counts["primary_topics"][primary] = counts["primary_topics"].get(primary, 0) + 1
        for annotation in record["annotations"]:
            counts["examples"] += 1
            counts["spans"] += len(annotation["spans"])
            for label, n in Counter(map(_label, annotation["spans"])).items():
                counts["labels"][label] = counts["labels"].get(label, 0) + n
            for relation in annotation.get("relations", ()):
                counts["relations"][relation["type"]] = counts["relations"].get(relation["type"], 0) + 1
            for topic in annotation["topics"]:
                counts["topics"][topic] = counts["topics"].get(topic, 0) + 1
            for target, value in annotation["stance"].items():
                by_value = counts["stance"].setdefault(target, {})
                by_value[value] = by_value.get(value, 0) + 1
        if self.agreement is not None:
            self.agreement[split].add(codings(record))

    def merge(self, other: "SplitTally") -> None:
        """Add the tally of the records that come after these (a later shard of the snapshot)."""
        add_counts(self.counts, other.counts)
        if self.agreement is not None:
            for split, tally in other.agreement.items():
                self.agreement[split].merge(tally)

    def finish(self) -> "SplitTally":
        for counts in self.counts.values():
            counts["primary_topics"] = dict(sorted(counts["primary_topics"].items()))
        return self
