"""Building a snapshot's files: two streaming passes over the selected records.

1. Split: read every selected record from the database once, keeping a few dozen bytes per
   article in flat arrays (id, text hash, primary topic, MinHash band keys) and spooling the
   record to a temporary file; group near-duplicates and give each article a split.
2. Write: read the records back from the spool and hand each to every format's writer; the
   counts and the card's agreement (`tallies.SplitTally`: counts only, never the records) are
   added up from the spool too. In a large build a helper process reads the spool too, while
   this one writes: it counts, and writes the slowest format, or of a slow format asked for
   alone (CoNLL, spaCy or Parquet) the second part of the records (`helper_formats`).
Memory therefore does not grow with the number of articles beyond those arrays.
Then the dataset card, then every file is hashed and renamed from its temporary name; only
after that, in one transaction, are the file rows saved and the snapshot marked ready.

While it runs, the build stamps the snapshot's heartbeat (`Heartbeat`), so that a snapshot whose
worker was killed can be told from a slow one and failed visibly (`recovery.snapshots_recover`);
a build that finds its snapshot given up that way stops and keeps nothing.

Same inputs give byte-identical files, the card included: everything is sorted, and no file
holds a time, a random id or the snapshot's own id.
"""

import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
import traceback
from array import array
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from importlib.metadata import version
from pathlib import Path

import orjson
from django.conf import settings
from django.db import Error, connection, transaction
from django.db.models import F
from django.utils import timezone

from annotator.projects.models import Project

from . import card
from .formats import Output, jsonl, make_writer, writer_class
from .models import Snapshot, SnapshotFile, snapshot_root
from .records import Scope, Selection, selected_records
from .splits import SPLITS, Assignment, NearDuplicates, Units, assign
from .tallies import SplitTally, add_counts, record_primary_topic, spool_pass

PROGRESS_EVERY_SECONDS = 0.5

logger = logging.getLogger(__name__)


# A selection this large has its CPU-only work (MinHash signatures, then the counts and the
# agreement, and the slowest format's file) done in a second process (`helper_pool`) while this
# one reads the database and writes the files; below it, handing work to that process would
# cost more than it saves.
PARALLEL_FROM_ARTICLES = 2000
# The formats that take much the longest to write (tokenizing every article), slowest first.
SLOWEST_FORMATS = ("spacy", "conll", "parquet")
SECOND_PART = ".second"  # the helper's files of a format written in two parts are named apart
# The formats written from spaCy's tokens: a snapshot with one of them ships the tokenizers.
TOKEN_FORMATS = ("spacy", "conll", "parquet")

_helper_pool: ProcessPoolExecutor | None = None


def helper_pool() -> ProcessPoolExecutor | None:
    """One process beside the builds, for their CPU-only work; None on a machine with one core.

    Started ("spawn": a fresh interpreter that never touches the database or inherits this
    one's threads) on a build's first use and kept for the next builds; started again if it died.
    """
    global _helper_pool
    if (os.cpu_count() or 1) < 2:
        return None
    if _helper_pool is not None:
        try:
            _helper_pool.submit(int).result()  # a round trip: a pool whose process died raises
        except BrokenProcessPool:
            _helper_pool = None
    if _helper_pool is None:
        _helper_pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _helper_pool


def helper_formats(formats: list[str]) -> tuple[list[str], list[str]]:
    """What a build with a helper process writes there: (formats it writes whole, formats of
    which it writes the second part). The slowest format asked for, whole, so long as another is
    left to write here at the same time; a slow format asked for alone, its second part (both
    can be written in two parts, CoNLL's files as one stream, spaCy's shards each whole, Parquet's
    as a file per part: see `formats`)."""
    slowest = next((key for key in SLOWEST_FORMATS if key in formats), None)
    if slowest is None:
        return [], []
    return ([slowest], []) if len(formats) > 1 else ([], [slowest])


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS", 5))


class Abandoned(Exception):
    """The snapshot is no longer running: recovery gave it up while this build was still at it."""


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


class Heartbeat:
    """Stamps the heartbeat every few seconds from a thread while the build runs.

    The build's own progress saves stamp it too, but only while records flow: grouping
    near-duplicates or closing a Parquet file can take longer than recovery waits for a sign of
    life. Inside a transaction (the tests' atomic blocks) there is no thread: it could not see
    the uncommitted row, and on SQLite it would wait for the transaction's lock.
    """

    def __init__(self, snapshot: Snapshot):
        self.snapshot_id = snapshot.pk
        self.lost = threading.Event()
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        _beat(self.snapshot_id)
        if not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name=f"heartbeat-{self.snapshot_id}", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def check(self) -> None:
        if self.lost.is_set():
            raise Abandoned(f"Snapshot {self.snapshot_id} is no longer running.")

    def _run(self) -> None:
        try:
            while not self.stop.wait(heartbeat_seconds()):
                try:
                    _beat(self.snapshot_id)
                except Abandoned:
                    self.lost.set()
                    return
                except Error:
                    # The database is away for a moment: the next beat tries again, on a new connection.
                    logger.warning("Could not stamp the heartbeat of snapshot %s", self.snapshot_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection


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
        with Heartbeat(snapshot) as heartbeat:
            schema, counts, written = _write(snapshot, output, heartbeat)
        with transaction.atomic():
            SnapshotFile.objects.bulk_create(
                SnapshotFile(
                    snapshot=snapshot, name=f.name, format=f.format, size=f.size, sha256=f.sha256,
                    path=f"{snapshot.directory}/{f.name}",
                )
                for f in written
            )
            # Only a snapshot still running becomes ready: one that recovery failed stays failed.
            if not Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.RUNNING).update(
                status=Snapshot.Status.READY, schema=schema, counts=counts, finished_at=timezone.now(),
                progress_done=F("progress_total"),
            ):
                raise Abandoned(f"Snapshot {snapshot.pk} is no longer running.")
    except BaseException as error:
        output.close()
        shutil.rmtree(directory, ignore_errors=True)
        _fail(snapshot, error)
        raise


def _fail(snapshot: Snapshot, error: BaseException) -> None:
    message = "".join(traceback.format_exception_only(error)).strip() or type(error).__name__
    with transaction.atomic():
        SnapshotFile.objects.filter(snapshot=snapshot).delete()
        # A snapshot that recovery already failed keeps recovery's explanation.
        Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.RUNNING).update(
            status=Snapshot.Status.FAILED, error=message[:2000], finished_at=timezone.now()
        )


def _write(snapshot: Snapshot, output: Output, heartbeat: Heartbeat) -> tuple[dict, dict, list]:
    project = snapshot.project
    parameters = snapshot.parameters
    selection = Selection.from_parameters(parameters)
    schema = schema_of(project)
    candidates = selection.articles(project).count()
    progress = Progress(snapshot, 2 * candidates + 1, heartbeat)
    split = parameters["split"]
    threshold = split["near_duplicate_threshold"]

    pool = helper_pool() if candidates >= PARALLEL_FROM_ARTICLES else None
    with (
        tempfile.NamedTemporaryFile(dir=output.directory, prefix=".spool-") as spool,
        NearDuplicates(threshold, directory=output.directory, pool=pool) as near,
    ):
        # Pass 1, from the database: what splitting needs (a few dozen bytes per article) and
        # each record, spooled to disk as its JSONL line, so the second pass needs no second
        # read of the database, and the JSONL files are the spooled lines as they are.
        units = Units()
        spooled = array("q")  # the article id of each spooled line
        examples = array("I")  # and its number of annotations: a format's examples of it
        left_out: Counter = Counter()
        languages: Counter = Counter()  # articles per language: the card's header, the tokenizers shipped
        for record in selected_records(project, selection, left_out=left_out):
            progress.step()
            if record is None:
                continue
            languages[record["language"]] += 1
            units.add(record["id"], record["sha256"], record_primary_topic(record, schema))
            near.add(record["id"], record["text"])
            spool.write(jsonl.line(record))
            spooled.append(record["id"])
            examples.append(len(record["annotations"]))
        spool.flush()
        assignment = assign(
            units, near.groups(_texts(project)), {s: split[s] for s in SPLITS}, split["seed"], schema["topics"]
        )
        progress.step(candidates - len(units))
        del units
        progress.save()

        # Pass 2, from the spool: every format, a record at a time, and the counts and the
        # card's agreement. With a helper process, the records are shared at `first_part`: this
        # process counts those before it, the helper those from it on. The helper also writes the
        # slowest format when there are others to write here (and then counts every record
        # itself, this process having enough to write), or, of a slow format asked for alone,
        # the records after the first part, which this process writes (`helper_formats`). Of
        # such a format whose files are not one stream (spaCy's shards), both writers are told
        # where the cut falls in each split's examples (`parts`).
        from_records = selection.scope == Scope.ANALYSTS
        there, halved = helper_formats(parameters["formats"]) if pool else ([], [])
        first_part = len(spooled) if pool is None else 0 if there else len(spooled) // 2
        parts = {
            key: writer_class(key).parts(*_examples_before(first_part, spooled, examples, assignment))
            for key in halved
            if hasattr(writer_class(key), "parts")
        }
        helping = (
            pool.submit(
                spool_pass, spool.name, assignment, schema, from_records, there or halved, str(output.directory),
                first_part, SECOND_PART if halved else "", {key: second for key, (_, second) in parts.items()},
            )
            if pool
            else None
        )
        here = SplitTally(schema, from_records)
        reading = None if from_records else card.SplitAgreement(schema)
        writers = {
            key: make_writer(key, output, schema, parts[key][0] if key in parts else None)
            for key in parameters["formats"]
            if key not in there
        }

        def given(writers, counting):
            # A writer that takes JSONL lines is given the spooled line; a record is decoded
            # only for the writers (and the counting) that need one.
            lines = [w for w in writers if hasattr(w, "add_line")]
            records = [w for w in writers if not hasattr(w, "add_line")]
            return lines, records, counting, bool(records) or counting

        line_writers, record_writers, counting, decode = given(writers.values(), True)
        spool.seek(0)
        for number, (line, article_id) in enumerate(zip(spool, spooled, strict=True)):
            if number == first_part:  # the helper counts the rest, and writes the rest of `halved`
                rest = [w for key, w in writers.items() if key not in halved]
                line_writers, record_writers, counting, decode = given(rest, False)
            progress.step()
            where = assignment.split_of(article_id)
            for writer in line_writers:
                writer.add_line(line, where)
            if decode:
                record = orjson.loads(line)
                for writer in record_writers:
                    writer.add(record, where)
                if counting:
                    here.add(record, where)
            if reading is not None:
                reading.add(article_id, where)
        # A writer of a first part in `parts` closes only with what the helper leaves it.
        reports = {key: writer.close() for key, writer in writers.items() if key not in parts}
        if helping is not None:
            counted, helped, files, rests = helping.result()
            here.merge(counted)
            for key in parts:
                writers[key].take_rest(rests[key])
                reports[key] = writers[key].close()
            if halved:
                reports |= {key: add_counts(reports[key], helped[key]) for key in halved}
                output.append(files, SECOND_PART)
            else:
                reports |= helped
                output.adopt(files)
        tally = here.finish()
    per_split = tally.counts
    agreement = tally.agreement if from_records else reading.result()
    tokenizers = _ship_tokenizers(output, languages, parameters["formats"])
    written = output.finish()
    progress.save()

    counts = {
        "candidates": candidates,
        "articles": sum(c["articles"] for c in per_split.values()),
        "examples": sum(c["examples"] for c in per_split.values()),
        "left_out": dict(sorted(left_out.items())),
        "languages": dict(sorted(languages.items())),
        "splits": per_split,
        "near_duplicates": {
            "threshold": threshold,
            "groups": assignment.groups,
            "articles": sum(len(g) for g in assignment.groups),
        },
        "formats": {key: report for key, report in sorted(reports.items()) if report},
        "tokenizers": tokenizers,
    }
    readme = output.path("README.md", "card")
    readme.write_text(
        card.render(
            project=project, parameters=parameters, schema=schema, counts=counts, files=written,
            agreement={split: agreement[split].result() for split in SPLITS}, versions=_versions(parameters["formats"]),
        ),
        encoding="utf-8",
        newline="\n",
    )
    written += output.finish()
    progress.step()
    progress.save()
    return schema, counts, sorted(written, key=lambda f: f.name)


def _ship_tokenizers(output: Output, languages: Counter, formats: list[str]) -> list[str]:
    """The tokenizer of each language the token formats used, saved in the snapshot as
    `tokenizer/<code>/` (for `spacy.load`) among its files; returns the folders' names."""
    if not set(TOKEN_FORMATS) & set(formats):
        return []
    from .formats.tokens import save_tokenizer, tokenizer_language

    folders = []
    with tempfile.TemporaryDirectory(dir=output.directory, prefix=".tokenizer-") as scratch:
        for code in sorted({tokenizer_language(language) for language in languages}):
            saved = Path(scratch) / code
            save_tokenizer(code, saved)
            for path in sorted(p for p in saved.rglob("*") if p.is_file()):
                name = f"tokenizer/{code}/{path.relative_to(saved).as_posix()}"
                shutil.copyfile(path, output.path(name, "tokenizer"))
            folders.append(f"tokenizer/{code}")
    return folders


def _examples_before(
    first_part: int, spooled: array, examples: array, assignment: Assignment
) -> tuple[dict[str, int], dict[str, int]]:
    """Each split's examples in the spooled records before record `first_part`, and in all."""
    before, total = dict.fromkeys(SPLITS, 0), dict.fromkeys(SPLITS, 0)
    for number, (article_id, count) in enumerate(zip(spooled, examples, strict=True)):
        split = assignment.split_of(article_id)
        total[split] += count
        if number < first_part:
            before[split] += count
    return before, total


def _versions(formats) -> dict:
    versions = {"annotator": version("annotator")}
    if {"spacy", "conll"} & set(formats):
        versions["spacy"] = version("spacy")
    if "parquet" in formats:
        versions["pyarrow"] = version("pyarrow")
    return versions
