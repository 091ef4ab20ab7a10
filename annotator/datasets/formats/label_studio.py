"""Label Studio: `label_studio.json` (a list of tasks) and `label_studio_config.xml`.

Create a Label Studio project with the labelling config, then import the tasks. Each task is
one article: `data` holds text, title, article_id, sha256, language and split; each exported
annotation is one entry of `annotations` (gold and agreed ones with `ground_truth: true`),
whose `result` holds
- a `labels` region per span: `{"id", "from_name": "label", "to_name": "text", "type": "labels",
  "value": {"start", "end", "text", "labels": [label]}}`, offsets in code points, as Label
  Studio stores them;
- a `relation` per relation between two spans (`from_id`, `to_id`, `labels`: [type]);
- a `choices` result `topics` with the chosen topics.
Stance is not exported to Label Studio (the config has no control for it).

Provenance goes where Label Studio keeps it: the annotation's `id`, `created_at` and `updated_at`
(ISO 8601 UTC; null for an "agreed" consensus, which is made at export). `completed_by` is left
out on purpose: Label Studio reads it as one of its own users (an id, or `{"email": ...}`) and
refuses the whole import when it names nobody it knows; without it the importing user is
recorded. Our annotator and kind are in the annotation's `meta`, with each region's times (and,
for gold, its review decision) under `meta.regions`, keyed by the region's `id`: Label Studio
has no field for those and ignores `meta` on import.
`annotator.datasets.imports.label_studio_import` reads the tasks back.
"""

import json
import os
import shutil
from xml.sax.saxutils import quoteattr

from . import annotator_name


def result(record: dict, annotation: dict) -> list[dict]:
    regions = [
        {
            "id": f"s{span['id']}",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {"start": span["start"], "end": span["end"], "text": span["text"], "labels": [span["label"]]},
        }
        for span in annotation["spans"]
    ]
    relations = [
        {"from_id": f"s{r['source']}", "to_id": f"s{r['target']}", "type": "relation", "direction": "right", "labels": [r["type"]]}
        for r in annotation["relations"]
    ]
    topics = []
    if annotation["topics"]:
        topics.append(
            {"id": "topics", "from_name": "topics", "to_name": "text", "type": "choices",
             "value": {"choices": annotation["topics"]}}
        )
    return regions + relations + topics


def region_meta(span: dict) -> dict:
    return {"created": span.get("created"), "updated": span.get("updated"), "review": span.get("review")}


def task(record: dict, split: str) -> dict:
    return {
        "id": record["id"],
        "data": {
            "text": record["text"],
            "title": record["title"],
            "article_id": record["id"],
            "sha256": record["sha256"],
            "language": record["language"],
            "split": split,
        },
        "annotations": [
            {
                "result": result(record, annotation),
                "id": annotation.get("id"),
                "created_at": annotation.get("created"),
                "updated_at": annotation.get("updated"),
                "ground_truth": annotation["kind"] != "analyst",
                "meta": {
                    "annotator": annotator_name(annotation),
                    "kind": annotation["kind"],
                    "regions": {f"s{span['id']}": region_meta(span) for span in annotation["spans"]},
                },
            }
            for annotation in record["annotations"]
        ],
    }


def config(schema: dict) -> str:
    labels = "".join(f"\n    <Label value={quoteattr(label['name'])} background={quoteattr(label['colour'])}/>" for label in schema["labels"])
    relations = "".join(f"\n    <Relation value={quoteattr(r['name'])}/>" for r in schema["relation_types"])
    topics = "".join(f"\n    <Choice value={quoteattr(t)}/>" for t in schema["topics"])
    return (
        "<View>\n"
        f'  <Labels name="label" toName="text">{labels}\n  </Labels>\n'
        f"  <Relations>{relations}\n  </Relations>\n"
        '  <Text name="text" value="$text"/>\n'
        f'  <Choices name="topics" toName="text" choice="multiple">{topics}\n  </Choices>\n'
        "</View>\n"
    )


START, END = "[", "\n]\n"  # of the list of tasks; one task a line, each but the first after ",".


class Writer:
    format = "label-studio"

    def __init__(self, output, schema: dict):
        output.path("label_studio_config.xml", self.format).write_text(config(schema), encoding="utf-8")
        self.handle = output.open("label_studio.json", self.format, "w", encoding="utf-8", newline="\n")
        self.handle.write(START)
        self.first = True

    def add(self, record: dict, split: str) -> None:
        self.handle.write("\n" if self.first else ",\n")
        self.handle.write(json.dumps(task(record, split), ensure_ascii=False, sort_keys=True))
        self.first = False

    def close(self) -> dict:
        self.handle.write(END)
        self.handle.close()
        return {}


def join(parts: list, into, schema: dict) -> None:
    """One list of every shard's tasks: each shard's lines between its "[" and "]", a "," between shards."""
    into.path("label_studio_config.xml", Writer.format).write_text(config(schema), encoding="utf-8")
    with into.open("label_studio.json", Writer.format) as handle:
        handle.write(START.encode())
        between = b""
        for part in parts:
            path = part["label_studio.json"]
            if path.stat().st_size == len(START) + len(END):
                continue  # a shard of no record
            handle.write(between)
            with path.open("rb") as copy:
                copy.seek(len(START))
                shutil.copyfileobj(copy, handle)
            handle.seek(-len(END), os.SEEK_END)  # the shard's "]": not the end of the list yet
            handle.truncate()
            between = b","
        handle.write(END.encode())
