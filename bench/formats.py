"""How each format is written for the export benchmark: the app's own writers, to a file."""

from annotator.datasets.formats import jsonl
from annotator.datasets.records import article_records


def write_jsonl(project, path: str) -> int:
    size = 0
    with open(path, "wb") as out:
        for chunk in jsonl.write(article_records(project)):
            out.write(chunk)
            size += len(chunk)
    return size


WRITERS = {"jsonl": write_jsonl}
