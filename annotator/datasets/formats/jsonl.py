"""JSON Lines: one article per line, offsets in code points (`text[start:end] == span text`).

The download streams the whole project; a snapshot writes one file per split, `train.jsonl`,
`validation.jsonl` and `test.jsonl`, each line an article record holding the annotations the
snapshot exports. `annotator.datasets.imports.snapshot_jsonl_import` reads them back.
"""

from collections.abc import Iterable, Iterator

import orjson

from . import concatenate

CONTENT_TYPE = "application/x-ndjson; charset=utf-8"
EXTENSION = "jsonl"


def line(record: dict) -> bytes:
    # Compact UTF-8 JSON with sorted keys: the same record always gives the same bytes.
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def write(records: Iterable[dict]) -> Iterator[bytes]:
    for record in records:
        yield line(record)


class Writer:
    format = "jsonl"

    def __init__(self, output, schema: dict):
        self.output = output
        self.handles = {}

    def add(self, record: dict, split: str) -> None:
        self.add_line(line(record), split)

    def add_line(self, record_line: bytes, split: str) -> None:
        """A record already made into its `line` (a snapshot spools its records so)."""
        if split not in self.handles:
            self.handles[split] = self.output.open(f"{split}.{EXTENSION}", self.format)
        self.handles[split].write(record_line)

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return {}


def join(parts: list, into, schema: dict) -> None:
    concatenate(parts, into, Writer.format)
