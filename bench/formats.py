"""How the export benchmark builds one format: a real snapshot, through the export page's form.

`snapshot` runs exactly what a worker runs for a snapshot of every analyst's submitted work
in one format (or several, joined by "+": "jsonl+csv"): the split pass, the formats' writers,
the dataset card, hashing and renaming.
`jsonl-download` is the plain JSONL download (no snapshot), streamed to a file.
"""

from django.contrib.auth import get_user_model

from annotator.datasets import build
from annotator.datasets.formats import jsonl
from annotator.datasets.forms import SnapshotForm
from annotator.datasets.models import Snapshot
from annotator.datasets.records import article_records


def snapshot_parameters(project, format_name: str) -> dict:
    form = SnapshotForm(
        {"scope": "analysts", "formats": format_name.split("+"), "train": 80, "validation": 10, "test": 10, "seed": 13,
         "near_duplicate_threshold": "0.8"},
        project=project,
    )
    assert form.is_valid(), form.errors
    return form.parameters()


def snapshot(project, format_name: str) -> int:
    user, _ = get_user_model().objects.get_or_create(username="bench-exporter")
    made = Snapshot.objects.create(project=project, created_by=user, parameters=snapshot_parameters(project, format_name),
                                   status=Snapshot.Status.RUNNING)
    build.build(made)
    made.refresh_from_db()
    assert made.status == Snapshot.Status.READY, made.error
    return sum(f.size for f in made.files.all())


def jsonl_download(project, path: str) -> int:
    size = 0
    with open(path, "wb") as out:
        for chunk in jsonl.write(article_records(project)):
            out.write(chunk)
            size += len(chunk)
    return size
