"""Parquet files, one per split, that `datasets.load_dataset("parquet", data_files=...)` loads.

One row per (article, annotation), columns:
article_id, sha256, title, text, language, source, url, published (ISO date or null),
metadata (JSON text), annotator, kind, topics (list of names), stance (list of
{target, value}), spans (list of {id, start, end, label, text, attributes (JSON text)}),
relations (list of {type, source, target}, span ids). Offsets are code points:
`text[start:end] == span text` in Python.

Rows are written a row group at a time (ROW_GROUP rows), so memory does not grow with the number of
articles.
"""

import json

from ..splits import SPLITS
from . import annotator_name

ROW_GROUP = 250


def schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("article_id", pa.int64()),
            ("sha256", pa.string()),
            ("title", pa.string()),
            ("text", pa.string()),
            ("language", pa.string()),
            ("source", pa.string()),
            ("url", pa.string()),
            ("published", pa.string()),
            ("metadata", pa.string()),
            ("annotator", pa.string()),
            ("kind", pa.string()),
            ("topics", pa.list_(pa.string())),
            ("stance", pa.list_(pa.struct([("target", pa.string()), ("value", pa.string())]))),
            (
                "spans",
                pa.list_(
                    pa.struct(
                        [
                            ("id", pa.int64()),
                            ("start", pa.int64()),
                            ("end", pa.int64()),
                            ("label", pa.string()),
                            ("text", pa.string()),
                            ("attributes", pa.string()),
                        ]
                    )
                ),
            ),
            ("relations", pa.list_(pa.struct([("type", pa.string()), ("source", pa.int64()), ("target", pa.int64())]))),
        ]
    )


def row(record: dict, annotation: dict) -> dict:
    return {
        "article_id": record["id"],
        "sha256": record["sha256"],
        "title": record["title"],
        "text": record["text"],
        "language": record["language"],
        "source": record["source"],
        "url": record["url"],
        "published": record["published"],
        "metadata": json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True),
        "annotator": annotator_name(annotation),
        "kind": annotation["kind"],
        "topics": annotation["topics"],
        "stance": [{"target": t, "value": v} for t, v in sorted(annotation["stance"].items())],
        "spans": [
            {**{k: s[k] for k in ("id", "start", "end", "label", "text")},
             "attributes": json.dumps(s["attributes"], ensure_ascii=False, sort_keys=True)}
            for s in annotation["spans"]
        ],
        "relations": annotation["relations"],
    }


class Writer:
    format = "parquet"

    def __init__(self, output, schema_: dict):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.pq = pa, pq
        self.output = output
        self.schema = schema()
        self.writers = {}
        self.rows = {split: [] for split in SPLITS}

    def add(self, record: dict, split: str) -> None:
        if split not in self.writers:
            handle = self.output.open(f"{split}.parquet", self.format)
            # Statistics only for the id: the writer keeps every row group's min and max until the
            # footer, and those of the text columns (whole articles) grew its memory with the corpus.
            self.writers[split] = self.pq.ParquetWriter(
                handle, self.schema, compression="zstd", write_statistics=["article_id"]
            )
        self.rows[split].extend(row(record, annotation) for annotation in record["annotations"])
        if len(self.rows[split]) >= ROW_GROUP:
            self._flush(split)

    def _flush(self, split: str) -> None:
        if self.rows[split]:
            self.writers[split].write_table(self.pa.Table.from_pylist(self.rows[split], schema=self.schema))
            self.rows[split] = []

    def close(self) -> dict:
        for split, writer in self.writers.items():
            self._flush(split)
            writer.close()  # writes the footer; the Output closes the file
        return {}
