"""Building a snapshot's files, in one task: select, split, write, card, publish.

1. Select: read every selected record from the database once, spooling it to a temporary file
   as its JSONL line and keeping a few dozen bytes per article in flat arrays (id, text hash,
   primary topic, MinHash signature: `splits.Units`, `splits.NearDuplicates`).
2. Split: group near-duplicates and give each article a split.
3. Write: read the spool back and hand each record to every format's writer (the JSONL writer
   takes the spooled line as it is); the counts and the card's agreement
   (`tallies.SplitTally`, `card.SplitAgreement`: counts only, never the records) are added up
   on the way.
4. Card: the tokenizers the token formats used (copied from those saved once per tokenizer
   version, `saved_tokenizer`), then the dataset card; every file is hashed and renamed from its
   temporary name.
5. Publish: in one transaction, the file rows are saved and the snapshot marked ready.
Memory therefore does not grow with the number of articles beyond those arrays.

While it runs, the build stamps the snapshot's heartbeat (`snapshot_heartbeat`), so that a snapshot whose
worker was killed can be told from a slow one and failed visibly (`recovery.snapshots_recover`);
a build that finds its snapshot given up that way stops and keeps nothing. Run twice, it starts
again from nothing (`build` removes what an interrupted run left).

Same inputs give byte-identical files, the card included: everything is sorted, and no file
holds a time, a random id or the snapshot's own id.
"""

import logging
import os
import shutil
import tempfile
import time
import traceback
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version
from pathlib import Path

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.heartbeat import Abandoned, Heartbeat
from annotator.projects.models import Project

from . import card
from .formats import Output, WrittenFile, jsonl, make_writer
from .models import Snapshot, SnapshotFile, snapshot_root
from .records import Scope, Selection, selected_records
from .splits import SPLITS, Assignment, NearDuplicates, Units, assign
from .tallies import SplitTally, record_primary_topic

PROGRESS_EVERY_SECONDS = 0.5

logger = logging.getLogger(__name__)


# The formats written from spaCy's tokens: a snapshot with one of them ships the tokenizers.
TOKEN_FORMATS = ("spacy", "conll", "parquet")


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS", 5))


def schema_of(project: Project) -> dict:
    return {
        "labels": [
            {
                "name": label.name,
                "colour": label.colour,
                "attributes": [{"name": a.name, "kind": a.kind} for a in label.attributes.all()],
            }
            for label in project.span_labels.prefetch_related("attributes")
        ],
        "relation_types": [
            {"name": r.name, "source": r.source_label.name, "target": r.target_label.name if r.target_label else None}
            for r in project.relation_types.select_related("source_label", "target_label")
        ],
        "topics": [t.name for t in project.topics.all()],
        "stance_values": [v.name for v in project.stance_values.all()],
        "stance_targets": [t.name for t in project.stance_targets.all()],
    }


def _beat(snapshot_id, **fields) -> None:
    """Stamp the heartbeat (and any other fields) of a snapshot that is still running."""
    if not Snapshot.objects.filter(pk=snapshot_id, status=Snapshot.Status.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    ):
        raise Abandoned(f"Snapshot {snapshot_id} is no longer running.")


def snapshot_heartbeat(snapshot: Snapshot) -> Heartbeat:
    """The build's own progress saves stamp the row too, but only while records flow: grouping
    near-duplicates or closing a Parquet file can take longer than recovery waits for a sign of life."""
    return Heartbeat(partial(_beat, snapshot.pk), seconds=heartbeat_seconds(), name=f"snapshot {snapshot.pk}")


class Progress:
    """Writes progress to the snapshot row now and then, outside any transaction, for the page to poll."""

    def __init__(self, snapshot: Snapshot, total: int, heartbeat: Heartbeat):
        self.snapshot, self.total, self.done, self.saved_at = snapshot, total, 0, 0.0
        self.heartbeat = heartbeat
        _beat(snapshot.pk, progress_done=0, progress_total=total)

    def step(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        if time.monotonic() - self.saved_at >= PROGRESS_EVERY_SECONDS:
            self.save()

    def save(self) -> None:
        self.heartbeat.check()
        self.saved_at = time.monotonic()
        _beat(self.snapshot.pk, progress_done=self.done)


def _texts(project: Project):
    def load(ids):
        return dict(project.articles.filter(id__in=ids).values_list("id", "text"))

    return load


def build(snapshot: Snapshot) -> None:
    """Write the snapshot's files and mark it ready; on any error, leave no file and mark it failed."""
    directory = snapshot_root() / snapshot.directory
    output = Output(directory)
    try:
        if directory.exists():  # a build that was interrupted before: start again from nothing
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        with (
            snapshot_heartbeat(snapshot) as heartbeat,
            tempfile.NamedTemporaryFile(dir=directory, prefix=".spool-") as spool,
            NearDuplicates(snapshot.parameters["split"]["near_duplicate_threshold"], directory=directory) as near,
        ):
            plan = Plan.of(snapshot, heartbeat)
            selected = _select(plan, spool, near)
            assignment = _split(plan, selected, near)
            reports, tally, agreement = _write(plan, selected, assignment, spool, output)
            counts, written = _card(plan, selected, assignment, reports, tally, agreement, output)
        _publish(snapshot, plan.schema, counts, written)
    except BaseException as error:
        output.close()
        shutil.rmtree(directory, ignore_errors=True)
        _fail(snapshot, error)
        raise


@dataclass(frozen=True)
class Plan:
    """What every step of a build reads: the snapshot's project, parameters and schema, and its progress."""

    project: Project
    parameters: dict
    selection: Selection
    schema: dict
    candidates: int  # articles the selection looks at: some may be left out
    progress: Progress

    @classmethod
    def of(cls, snapshot: Snapshot, heartbeat: Heartbeat) -> "Plan":
        selection = Selection.from_parameters(snapshot.parameters)
        candidates = selection.articles(snapshot.project).count()
        # A step per candidate when it is read, a step per candidate when it is written, one for the card.
        progress = Progress(snapshot, 2 * candidates + 1, heartbeat)
        return cls(snapshot.project, snapshot.parameters, selection, schema_of(snapshot.project), candidates, progress)

    @property
    def from_records(self) -> bool:
        """The records hold every analyst's submitted annotation: the agreement is counted from them."""
        return self.selection.scope == Scope.ANALYSTS


@dataclass
class Selected:
    """What the select step keeps of the records (the records themselves are in the spool)."""

    units: Units = field(default_factory=Units)  # what splitting needs: id, text hash, primary topic
    ids: array = field(default_factory=lambda: array("q"))  # the article id of each spooled line
    left_out: Counter = field(default_factory=Counter)  # candidates not selected, by reason
    languages: Counter = field(default_factory=Counter)  # articles per language: card header, tokenizers shipped


def _select(plan: Plan, spool, near: NearDuplicates) -> Selected:
    """Read the selected records from the database once: each spooled as its JSONL line, so
    writing needs no second read of the database, and what splitting needs kept aside."""
    selected = Selected()
    for record in selected_records(plan.project, plan.selection, left_out=selected.left_out):
        plan.progress.step()
        if record is None:
            continue
        selected.languages[record["language"]] += 1
        selected.units.add(record["id"], record["sha256"], record_primary_topic(record, plan.schema))
        near.add(record["id"], record["text"])
        spool.write(jsonl.line(record))
        selected.ids.append(record["id"])
    spool.flush()
    return selected


def _split(plan: Plan, selected: Selected, near: NearDuplicates) -> Assignment:
    """Each selected article's split, near-duplicates kept together."""
    split = plan.parameters["split"]
    texts = _texts(plan.project)
    assignment = assign(selected.units, near.groups(texts), {s: split[s] for s in SPLITS}, split["seed"], plan.schema["topics"])
    plan.progress.step(plan.candidates - len(selected.ids))  # the candidates left out are not written
    plan.progress.save()
    return assignment


def _write(
    plan: Plan, selected: Selected, assignment: Assignment, spool, output: Output
) -> tuple[dict, SplitTally, dict]:
    """Every format's files from the spooled records, and what the card counts of them:
    each format's report, the counts per split and the agreement per split."""
    writers = {key: make_writer(key, output, plan.schema) for key in plan.parameters["formats"]}
    # A writer that takes JSONL lines is given the spooled line as it is.
    line_writers = [w for w in writers.values() if hasattr(w, "add_line")]
    record_writers = [w for w in writers.values() if not hasattr(w, "add_line")]
    tally = SplitTally(plan.schema, plan.from_records)
    reading = None if plan.from_records else card.SplitAgreement(plan.schema)
    spool.seek(0)
    for line, where in zip(spool, assignment.splits_of(selected.ids), strict=True):
        plan.progress.step()
        for writer in line_writers:
            writer.add_line(line, where)
        record = orjson.loads(line)
        for writer in record_writers:
            writer.add(record, where)
        tally.add(record, where)
        if reading is not None:
            reading.add(record["id"], where)
    reports = {key: writer.close() for key, writer in writers.items()}
    agreement = tally.agreement if plan.from_records else reading.result()
    return reports, tally.finish(), agreement


def _card(
    plan: Plan, selected: Selected, assignment: Assignment, reports: dict, tally: SplitTally, agreement: dict,
    output: Output,
) -> tuple[dict, list[WrittenFile]]:
    """The tokenizers shipped and the dataset card, beside the files; every file hashed and
    given its name. Returns the counts the snapshot keeps, and the files."""
    formats = plan.parameters["formats"]
    tokenizers = _ship_tokenizers(output, selected.languages, formats)
    written = output.finish()
    plan.progress.save()
    per_split = tally.counts
    counts = {
        "candidates": plan.candidates,
        "articles": sum(c["articles"] for c in per_split.values()),
        "examples": sum(c["examples"] for c in per_split.values()),
        "left_out": dict(sorted(selected.left_out.items())),
        "languages": dict(sorted(selected.languages.items())),
        "splits": per_split,
        "near_duplicates": {
            "threshold": plan.parameters["split"]["near_duplicate_threshold"],
            "groups": assignment.groups,
            "articles": sum(len(g) for g in assignment.groups),
        },
        "formats": {key: report for key, report in sorted(reports.items()) if report},
        "tokenizers": tokenizers,
    }
    readme = output.path("README.md", "card")
    readme.write_text(
        card.render(
            project=plan.project, parameters=plan.parameters, schema=plan.schema, counts=counts, files=written,
            agreement={split: agreement[split].result() for split in SPLITS}, versions=_versions(formats),
        ),
        encoding="utf-8",
        newline="\n",
    )
    written += output.finish()
    plan.progress.step()
    plan.progress.save()
    return counts, sorted(written, key=lambda f: f.name)


def _publish(snapshot: Snapshot, schema: dict, counts: dict, written: list[WrittenFile]) -> None:
    """Make the snapshot ready with its files, in one transaction; only one still running."""
    with transaction.atomic():
        SnapshotFile.objects.bulk_create(
            SnapshotFile(
                snapshot=snapshot, name=f.name, format=f.format, size=f.size, sha256=f.sha256,
                path=f"{snapshot.directory}/{f.name}",
            )
            for f in written
        )
        # One that recovery failed meanwhile stays failed (and this transaction saves nothing).
        if not Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.RUNNING).update(
            status=Snapshot.Status.READY, schema=schema, counts=counts, finished_at=timezone.now(),
            progress_done=F("progress_total"),
        ):
            raise Abandoned(f"Snapshot {snapshot.pk} is no longer running.")


def _fail(snapshot: Snapshot, error: BaseException) -> None:
    message = "".join(traceback.format_exception_only(error)).strip() or type(error).__name__
    with transaction.atomic():
        SnapshotFile.objects.filter(snapshot=snapshot).delete()
        # A snapshot that recovery already failed keeps recovery's explanation.
        Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.RUNNING).update(
            status=Snapshot.Status.FAILED, error=message[:2000], finished_at=timezone.now()
        )


def _ship_tokenizers(output: Output, languages: Counter, formats: list[str]) -> list[str]:
    """The tokenizer of each language the token formats used, saved in the snapshot as
    `tokenizer/<code>/` (for `spacy.load`) among its files; returns the folders' names."""
    if not set(TOKEN_FORMATS) & set(formats):
        return []
    from .formats.tokens import tokenizer_language

    folders = []
    for code in sorted({tokenizer_language(language) for language in languages}):
        saved = saved_tokenizer(code)
        for path in sorted(p for p in saved.rglob("*") if p.is_file()):
            name = f"tokenizer/{code}/{path.relative_to(saved).as_posix()}"
            shutil.copyfile(path, output.path(name, "tokenizer"))
        folders.append(f"tokenizer/{code}")
    return folders


def saved_tokenizer(code: str) -> Path:
    """`save_tokenizer(code)`'s files, saved once for each version of that tokenizer (spaCy's and
    our rules: `tokenizer_version`) in the snapshot root's `.tokenizers/`, where every build copies
    them from: making the pipeline and compiling its rules cost 0.05–0.25 s of CPU per language,
    in every build. Saved under a temporary name and renamed when complete, so a build never
    copies half a tokenizer; two builds that save the same one at once keep the first."""
    from .formats.tokens import save_tokenizer, tokenizer_version

    folder = snapshot_root() / ".tokenizers" / f"{code}-{tokenizer_version(code)}"
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{code}-") as scratch:
        save_tokenizer(code, Path(scratch) / code)
        try:
            os.rename(Path(scratch) / code, folder)
        except OSError:  # another build renamed its copy there first: the same files
            if not folder.is_dir():
                raise
    return folder


def _versions(formats) -> dict:
    versions = {"annotator": version("annotator")}
    if {"spacy", "conll"} & set(formats):
        versions["spacy"] = version("spacy")
    if "parquet" in formats:
        versions["pyarrow"] = version("pyarrow")
    return versions
