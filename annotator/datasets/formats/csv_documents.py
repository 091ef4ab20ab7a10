"""CSV of document labels: one row per (article, annotation), one file per split.

Columns: article_id, sha256, annotation_id, annotator, kind, created, updated (the annotation's
id and times, ISO 8601 UTC; empty for an "agreed" consensus), title, language, source, published, url,
topics (the chosen topics joined with " | "), then one 0/1 column per topic of the schema
(`topic:<name>`), one column per stance target (`stance:<target>`, the value or empty), and
the article text last.

Spreadsheet programs run a cell that starts with = + - @, a tab or a carriage return as a
formula. Every such text cell (header included) gets a leading apostrophe; the JSONL and
Parquet files hold the text unchanged.
"""

import csv
import io

from . import annotator_name, concatenate

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _blank(value) -> str | int:
    return "" if value is None else value


def header(schema: dict) -> list[str]:
    return [
        "article_id", "sha256", "annotation_id", "annotator", "kind", "created", "updated", "title", "language", "source", "published", "url", "topics",
        *(f"topic:{t}" for t in schema["topics"]), *(f"stance:{t}" for t in schema["stance_targets"]), "text",
    ]


class Writer:
    format = "csv"

    def __init__(self, output, schema: dict):
        self.topics = schema["topics"]
        self.targets = schema["stance_targets"]
        self.output = output
        self.handles = {}
        self.writers = {}
        self.header = header(schema)

    def add(self, record: dict, split: str) -> None:
        if split not in self.writers:
            handle = self.output.open(f"{split}.csv", self.format, "w", encoding="utf-8", newline="")
            self.handles[split] = handle
            self.writers[split] = csv.writer(handle, lineterminator=LINE_END)
            self.writers[split].writerow([safe_cell(h) for h in self.header])
        for annotation in record["annotations"]:
            chosen = set(annotation["topics"])
            row = [
                record["id"], record["sha256"], _blank(annotation.get("id")), safe_cell(annotator_name(annotation)),
                annotation["kind"], _blank(annotation.get("created")), _blank(annotation.get("updated")),
                safe_cell(record["title"]), safe_cell(record["language"]), safe_cell(record["source"]),
                record["published"] or "", safe_cell(record["url"]),
                safe_cell(" | ".join(t for t in self.topics if t in chosen)),
                *(1 if t in chosen else 0 for t in self.topics),
                *(safe_cell(annotation["stance"].get(t, "")) for t in self.targets),
                safe_cell(record["text"]),
            ]
            self.writers[split].writerow(row)

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return {}


def join(parts: list, into, schema: dict) -> None:
    """Each shard's file starts with the header row: the joined file has it once."""
    row = io.StringIO()
    csv.writer(row, lineterminator=LINE_END).writerow([safe_cell(h) for h in header(schema)])
    concatenate(parts, into, Writer.format, header=row.getvalue().encode("utf-8"))
