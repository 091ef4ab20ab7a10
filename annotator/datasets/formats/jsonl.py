"""JSON Lines: one article per line, offsets in code points (`text[start:end] == span text`)."""

import json
from collections.abc import Iterable, Iterator

CONTENT_TYPE = "application/x-ndjson; charset=utf-8"
EXTENSION = "jsonl"


def write(records: Iterable[dict]) -> Iterator[bytes]:
    for record in records:
        yield (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
