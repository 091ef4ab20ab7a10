"""Building a snapshot's files: select, split, write, card, publish; in shard tasks when it is large.

1. Select: read every selected record from the database once, spooling it to `.spool.jsonl`
   as its JSONL line and keeping a few dozen bytes per article in flat arrays (id, text hash,
   primary topic, MinHash signature: `splits.Units`, `splits.NearDuplicates`; an article's
   sketch kept by an earlier snapshot is read back, not made again: `kept_sketches`).
2. Split: group near-duplicates and give each article a split.
3. Write: read the spool back and hand each record to every format's writer (the JSONL writer
   takes the spooled line as it is; the token formats get the article's tokens kept by an
   earlier snapshot, `kept`, or made and kept now); the counts and the card's agreement
   (`tallies.SplitTally`, `card.SplitAgreement`: counts only, never the records) are added up
   on the way.
4. Card: the tokenizers the token formats used (copied from those saved once per tokenizer
   version, `saved_tokenizer`), then the dataset card; every file is hashed and renamed from its
   temporary name.
5. Publish: in one transaction, the file rows are saved and the snapshot marked ready.
Memory therefore does not grow with the number of articles beyond those arrays.

A snapshot of at most `shard_records()` candidate articles (a setting) is built by its own task
(`build`), step by step. A larger one is cut into shards, ranges of that many candidates in id
order, and its task only hands them out (`_hand_out`): shard tasks, which any worker may run
(workers share the snapshot root), each select their shard's records into a folder of their own
(`select_shard`: its spool, the units and the MinHash sketches) and mark the shard selected; the
one that marks the last gathers every shard's units and sketches, splits them all and queues each
shard's task again (`_split_shards`), which now writes the shard's part of every format and its
counts in a folder of its own (`write_shard`) and marks it done. The one that marks the last
joins the parts (`formats.join`: text files one after the other, spaCy's and Parquet's files
numbered on) and goes on to the card. So the reading of the records, most of a build's time
before any file is written, is shared out like the writing; only the split waits for all of it.
The ranges are fixed, not one per worker: the files are the same however many workers ran.

While they run, the build and its shard tasks stamp the snapshot's heartbeat
(`snapshot_heartbeat`), and each shard task its shard's too (`shard_heartbeat`), so that a task
whose worker was killed can be told from a slow one (`recovery.snapshots_recover`): a build or
a join that stopped fails the snapshot visibly, a shard that stopped is put back in the queue. A
task that finds its snapshot given up (or failed by another shard) stops and keeps nothing. Run
twice, the build starts again from nothing (`build` removes what an interrupted run left); a shard
already done is not written again, and a run of a shard that another run wrote first, even at
the same time, keeps nothing and fails nothing.

Same inputs give byte-identical files, the card included: everything is sorted, and no file
holds a time, a random id or the snapshot's own id.
"""

import logging
import os
import pickle  # noqa: S403 (a shard's counts, read back by another shard task of the same build)
import shutil
import tempfile
import time
import traceback
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version
from itertools import batched, islice
from pathlib import Path

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from annotator.bulk import collector_paused
from annotator.heartbeat import Abandoned, Heartbeat
from annotator.projects.models import Project

from . import card
from .formats import Output, WrittenFile, join, jsonl, make_writer
from .kept_sketches import KeptSketches
from .models import Snapshot, SnapshotFile, SnapshotShard, snapshot_root
from .records import Scope, Selection, selected_records
from .splits import SPLITS, Assignment, NearDuplicates, Units, assign
from .tallies import SplitTally, add_counts, record_primary_topic

PROGRESS_EVERY_SECONDS = 0.5

# In the snapshot's folder while it is built: the spooled records, what the build hands its
# shard tasks (`_hand_out`, then `_split_shards`), and in each shard's folders, what its select
# kept for the split (`Selected`, and the sketches) and what its write counted (`Part`).
SPOOL, HAND_OUT, SELECTED, PART = ".spool.jsonl", ".shards.json", "selected.pickle", "part.pickle"

JOIN_CUT_SHORT = "the database went away while this snapshot's shards were joined; make it again"

logger = logging.getLogger(__name__)


# The formats written from spaCy's tokens: a snapshot with one of them ships the tokenizers.
TOKEN_FORMATS = ("spacy", "conll", "parquet")
# Records read at a time: their kept sketches (`kept_sketches`, as they are selected) or tokens
# (`kept`, from the spool) are read in one query.
KEPT_BATCH = 250


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


def _beat_shard(snapshot_id, number: int) -> None:
    """Stamp the snapshot's heartbeat (a sign of life of the join, which follows the last shard)
    and the shard's (recovery puts a shard whose heartbeat stopped back in the queue)."""
    _beat(snapshot_id)
    SnapshotShard.objects.filter(snapshot_id=snapshot_id, number=number).update(heartbeat_at=timezone.now())


def shard_heartbeat(snapshot: Snapshot, number: int) -> Heartbeat:
    return Heartbeat(
        partial(_beat_shard, snapshot.pk, number), seconds=heartbeat_seconds(), name=f"shard {number} of snapshot {snapshot.pk}"
    )


class Progress:
    """Adds the steps done to the snapshot row's progress now and then, outside any transaction,
    for the page to poll: adds, never sets, since a snapshot's shard tasks add to it at once."""

    def __init__(self, snapshot_id, heartbeat: Heartbeat):
        self.snapshot_id, self.heartbeat = snapshot_id, heartbeat
        self.unsaved, self.saved_at = 0, 0.0

    def step(self, n: int = 1) -> None:
        self.unsaved += n
        if time.monotonic() - self.saved_at >= PROGRESS_EVERY_SECONDS:
            self.save()

    def save(self) -> None:
        self.heartbeat.check()
        self.saved_at = time.monotonic()
        done, self.unsaved = self.unsaved, 0
        # Never past the total (a check constraint): articles may be added while the build reads them.
        _beat(self.snapshot_id, progress_done=Least(F("progress_done") + done, F("progress_total")))


def _texts(project: Project):
    def load(ids):
        return dict(project.articles.filter(id__in=ids).values_list("id", "text"))

    return load


def shard_records() -> int:
    """Candidate articles a shard holds: a constant of the deployment, never the number of
    workers, since a shard's last spaCy and Parquet files of each split are short ones."""
    return settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS


def build(snapshot: Snapshot) -> str:
    """Select and split the snapshot's records, write its files and mark it ready ("ready"); or,
    with more candidates than a shard holds, hand its shards to shard tasks ("sharded"). On any
    error, leave no file and mark it failed."""
    directory = snapshot_root() / snapshot.directory
    output = Output(directory)
    try:
        if directory.exists():  # a build that was interrupted before: start again from nothing
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        with snapshot_heartbeat(snapshot) as heartbeat:
            plan = Plan.of(snapshot, heartbeat)
            if len(plan.bounds) > 1:
                _hand_out(snapshot, plan)
                return "sharded"
            with (directory / SPOOL).open("w+b") as spool, _near_duplicates(plan, directory) as near:
                selected = _select(plan, spool, near)
                assignment = _split(plan, selected, near)
                spool.seek(0)
                part = _write(plan, spool, assignment.splits_of(selected.ids), output)
            (directory / SPOOL).unlink()
            counts, written = _card(plan, _summary(selected, assignment), part, output)
        _publish(snapshot, plan.schema, counts, written)
        return "ready"
    except BaseException as error:
        _give_up(snapshot, output, error)
        raise


def shard(snapshot: Snapshot, number: int) -> str:
    """A shard task's step: select the shard's records ("selected"), or, once every shard's are
    selected and split, write them ("written"; see `write_shard` for the other answers)."""
    if not SnapshotShard.objects.filter(snapshot=snapshot, number=number).exclude(selected="").exists():
        select_shard(snapshot, number)
        return "selected"
    return write_shard(snapshot, number)


def select_shard(snapshot: Snapshot, number: int) -> None:
    """Select the records of shard `number`'s range of candidates into a folder of its own: their
    spool, and what the split needs of them. If it is the last shard selected, split them all and
    queue every shard's task again, to write it. On any error, leave no file and mark the snapshot
    failed (its other shards then stop), unless another run of this shard selected it first."""
    directory = snapshot_root() / snapshot.directory
    folder = None
    try:
        with shard_heartbeat(snapshot, number) as heartbeat:
            plan = Plan.resumed(snapshot, _handed_out(directory), heartbeat)
            folder = Path(tempfile.mkdtemp(dir=directory, prefix=f".shard-{number:05d}-select-"))
            after, upto = plan.bounds[number - 1] if number else 0, plan.bounds[number]
            # Closed before the shard is marked selected: on other machines, over NFS, a file's
            # writes are sure to be seen once its writer closed it (close-to-open), not before.
            with (folder / SPOOL).open("wb") as spool, _near_duplicates(plan, folder) as near:
                selected = _select(plan, spool, near, after=after, upto=upto)
                sketches = near.sketched()
            (folder / SELECTED).write_bytes(pickle.dumps((selected, sketches)))
            plan.progress.save()
            folders = _shard_done(snapshot, number, folder.name, step="selected")
            if folders is not None:
                _split_shards(snapshot, plan, folders)
    except BaseException as error:
        _stop(snapshot, number, folder, error, Output(directory), step="selected")
        raise


def write_shard(snapshot: Snapshot, number: int) -> str:
    """Write shard `number`'s selected records, every format, in a folder of its own ("written");
    if it is the last shard done, join every shard's files, write the card and mark the snapshot
    ready. On any error, leave no file and mark the snapshot failed (its other shards then stop),
    unless another run of this shard wrote it first: then the error is this run's alone.

    Run before the shards are split (its first run's worker stopped after the shard was marked
    selected), split them if every shard is selected ("split": that run may have been the last),
    else leave that to the last one ("waiting")."""
    directory = snapshot_root() / snapshot.directory
    output = Output(directory)
    folder = None
    try:
        with shard_heartbeat(snapshot, number) as heartbeat:
            saved = _handed_out(directory)
            plan = Plan.resumed(snapshot, saved, heartbeat)
            if "shards" not in saved:
                folders = list(snapshot.shards.values_list("selected", flat=True))
                if not all(folders):
                    return "waiting"
                _split_shards(snapshot, plan, folders)
                return "split"
            folder = Path(tempfile.mkdtemp(dir=directory, prefix=f".shard-{number:05d}-"))
            shard = saved["shards"][number]
            with (directory / shard["spool"]).open("rb") as spool:
                part = _write(plan, spool, [SPLITS[s] for s in shard["splits"]], Output(folder))
            part.files = {name: (path.relative_to(directory).as_posix(), format) for name, (path, format) in part.files.items()}
            (folder / PART).write_bytes(pickle.dumps(part))
            plan.progress.save()
            folders = _shard_done(snapshot, number, folder.name)
            if folders is None:
                return "written"
            parts = [pickle.loads((directory / name / PART).read_bytes()) for name in folders]  # noqa: S301 (our own)
            part = _join(plan, parts, output)
            counts, written = _card(plan, saved["summary"], part, output)
        _publish(snapshot, plan.schema, counts, written)
        return "written"
    except BaseException as error:
        _stop(snapshot, number, folder, error, output)
        raise


def _stop(snapshot: Snapshot, number: int, folder: Path | None, error: BaseException, output: Output, step: str = "folder") -> None:
    """A shard task's run failed: its folder removed, and the snapshot failed with its files,
    unless another run of the shard did this step first (then the error is this run's alone)."""
    if _written_by_another_run(snapshot, number, folder.name if folder else "", step=step):
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        _give_up(snapshot, output, error)


def shard_again(snapshot: Snapshot, number: int) -> str:
    """`shard` once the database is back, after it went away while the shard's task ran: the
    shard is selected or written again, unless the first run had marked it done and every shard
    is done. That run was then joining them, and could not record why it stopped; the join cannot
    be made again (it moves the shards' files and removes the spools), and no other task will
    finish the snapshot: it is failed, visibly, rather than left running."""
    shards = SnapshotShard.objects.filter(snapshot=snapshot)
    if shards.filter(number=number).exclude(folder="").exists() and not shards.filter(folder="").exists():
        _give_up(snapshot, Output(snapshot_root() / snapshot.directory), JOIN_CUT_SHORT)
        raise RuntimeError(JOIN_CUT_SHORT)  # the task's own row says so too
    return shard(snapshot, number)


def _written_by_another_run(snapshot: Snapshot, number: int, folder: str, step: str = "folder") -> bool:
    """Whether another run of the shard marked it selected (`step` "selected") or done, or the
    snapshot is ready (its shard rows gone). Recovery puts a shard whose heartbeat stopped back in
    the queue: its first run, if only stalled, may go on beside the second, and find its folder
    removed by the join or its snapshot no longer running. Failing the snapshot then would throw
    away (or delete) good files."""
    return (
        Snapshot.objects.filter(pk=snapshot.pk, status=Snapshot.Status.READY).exists()
        or SnapshotShard.objects.filter(snapshot=snapshot, number=number).exclude(**{f"{step}__in": ["", folder]}).exists()
    )


@dataclass(frozen=True)
class Plan:
    """What every step of a build reads: the snapshot's project, parameters and schema, and its progress."""

    project: Project
    parameters: dict
    selection: Selection
    schema: dict
    candidates: int  # articles the selection looks at: some may be left out
    # Each shard's range of candidates: the id of its last one (None for the last shard, whose
    # range stays open); one shard, (None,), for a snapshot built by its own task.
    bounds: tuple
    progress: Progress

    @classmethod
    def of(cls, snapshot: Snapshot, heartbeat: Heartbeat) -> "Plan":
        selection = Selection.from_parameters(snapshot.parameters)
        ids = list(selection.articles(snapshot.project).values_list("id", flat=True))
        per_shard = shard_records()
        bounds = (*ids[per_shard - 1 : -1 : per_shard], None)
        # A step per candidate when it is read, a step per candidate when it is written, one for the card.
        _beat(snapshot.pk, progress_done=0, progress_total=2 * len(ids) + 1)
        progress = Progress(snapshot.pk, heartbeat)
        return cls(snapshot.project, snapshot.parameters, selection, schema_of(snapshot.project), len(ids), bounds, progress)

    @classmethod
    def resumed(cls, snapshot: Snapshot, saved: dict, heartbeat: Heartbeat) -> "Plan":
        """A shard task's plan: the schema, candidates and shards its snapshot's build saw (`_hand_out`)."""
        selection = Selection.from_parameters(snapshot.parameters)
        progress = Progress(snapshot.pk, heartbeat)
        return cls(
            snapshot.project, snapshot.parameters, selection, saved["schema"], saved["candidates"], tuple(saved["bounds"]), progress
        )

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

    def extend(self, other: "Selected") -> None:
        """Add what another shard's select kept, of the articles after these."""
        self.units.extend(other.units)
        self.ids.extend(other.ids)
        self.left_out.update(other.left_out)
        self.languages.update(other.languages)


@dataclass
class Part:
    """What writing some records gave: each format's report, the counts and the agreement per
    split, and the files (name: (where, format)) until they are finished or joined."""

    reports: dict
    tally: SplitTally
    agreement: dict
    files: dict


def _near_duplicates(plan: Plan, directory: Path) -> NearDuplicates:
    return NearDuplicates(plan.parameters["split"]["near_duplicate_threshold"], directory=directory, keep=True)


def _select(plan: Plan, spool, near: NearDuplicates, *, after: int = 0, upto: int | None = None) -> Selected:
    """Read the selected records (of the candidates after `after`, up to `upto`) from the
    database once: each spooled as its JSONL line, so writing needs no second read of the
    database, and what splitting needs kept aside."""
    selected, kept = Selected(), KeptSketches()
    records = selected_records(plan.project, plan.selection, after=after, upto=upto, left_out=selected.left_out)
    for batch in batched(records, KEPT_BATCH):
        kept.read([record["id"] for record in batch if record is not None])
        for record in batch:
            plan.progress.step()
            if record is None:
                continue
            selected.languages[record["language"]] += 1
            selected.units.add(record["id"], record["sha256"], record_primary_topic(record, plan.schema))
            near.add(record["id"], record["text"], kept.sketch(record["id"]))
            spool.write(jsonl.line(record))
            selected.ids.append(record["id"])
        kept.save(near.made())
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


def _summary(selected: Selected, assignment: Assignment) -> dict:
    """What the card needs of the select and split steps, besides what writing counts."""
    return {
        "left_out": dict(sorted(selected.left_out.items())),
        "languages": dict(sorted(selected.languages.items())),
        "groups": assignment.groups,
    }


def _handed_out(directory: Path) -> dict:
    return orjson.loads((directory / HAND_OUT).read_bytes())


def _save_hand_out(directory: Path, saved: dict) -> None:
    """Written whole under a temporary name, then renamed: a shard task reads the old or the new."""
    with tempfile.NamedTemporaryFile(dir=directory, prefix=f"{HAND_OUT}.", delete=False) as scratch:
        scratch.write(orjson.dumps(saved))
    os.replace(scratch.name, directory / HAND_OUT)


def _hand_out(snapshot: Snapshot, plan: Plan) -> None:
    """Save what the shard tasks read (`Plan.resumed`), make a row per shard, and enqueue a task
    per shard once those rows are committed: each first selects its shard's records."""
    directory = snapshot_root() / snapshot.directory
    _save_hand_out(directory, {"schema": plan.schema, "candidates": plan.candidates, "bounds": plan.bounds})
    with transaction.atomic():
        SnapshotShard.objects.filter(snapshot=snapshot).delete()  # those of a build interrupted before
        SnapshotShard.objects.bulk_create(SnapshotShard(snapshot=snapshot, number=n) for n in range(len(plan.bounds)))
        _enqueue_shards(snapshot, len(plan.bounds))


def _enqueue_shards(snapshot: Snapshot, count: int) -> None:
    """A task per shard, once the caller's transaction (if any) commits."""
    from .services import snapshot_write_shard

    for n in range(count):
        transaction.on_commit(partial(snapshot_write_shard.enqueue, str(snapshot.pk), n))


def _split_shards(snapshot: Snapshot, plan: Plan, folders: list[str]) -> None:
    """Every shard's selected records split at once, as one task splits them: their units and
    sketches gathered in shard order, near-duplicates grouped, each article given its split. Each
    shard's splits are handed out with the card's summary, and every shard's task queued again,
    to write it. Safe to run twice: the same hand-out, and a shard written twice keeps one."""
    directory = snapshot_root() / snapshot.directory
    selected, sizes = Selected(), []
    with _near_duplicates(plan, directory) as near:
        for name in folders:
            part, sketches = pickle.loads((directory / name / SELECTED).read_bytes())  # noqa: S301 (our own)
            selected.extend(part)
            near.take(*sketches)
            sizes.append(len(part.ids))
        assignment = _split(plan, selected, near)
    indexes = [SPLITS.index(split) for split in assignment.splits_of(selected.ids)]
    shards, start = [], 0
    for name, size in zip(folders, sizes, strict=True):
        shards.append({"spool": f"{name}/{SPOOL}", "splits": indexes[start : start + size]})
        start += size
    saved = _handed_out(directory)
    _save_hand_out(directory, {**saved, "summary": _summary(selected, assignment), "shards": shards})
    _enqueue_shards(snapshot, len(folders))


def _write(plan: Plan, spool, splits: list[str], output: Output) -> Part:
    """Every format's files of as many records as `splits` from the spool, where it is, and what
    the card counts of them. The token formats' tokens are read a batch of records at a time
    from those an earlier snapshot kept (`kept`), and those made here kept for the next."""
    formats = plan.parameters["formats"]
    writers = {key: make_writer(key, output, plan.schema) for key in formats}
    # A writer that takes JSONL lines is given the spooled line as it is.
    line_writers = [w for w in writers.values() if hasattr(w, "add_line")]
    record_writers = [w for w in writers.values() if not hasattr(w, "add_line")]
    tally = SplitTally(plan.schema, plan.from_records)
    reading = None if plan.from_records else card.SplitAgreement(plan.schema)
    kept = None
    if set(TOKEN_FORMATS) & set(formats):
        from .kept import KeptTokens  # spaCy: loaded by the builds that tokenize

        # The spaCy files' tokenizer runs for every article anyway: no tokens to read back.
        kept = KeptTokens(read_back="spacy" not in formats)
    for batch in batched(zip(islice(spool, len(splits)), splits, strict=True), KEPT_BATCH):
        # A batch makes many dicts and arrays and few cycles (a spaCy Doc's): collected after it,
        # not walked again and again while it is written.
        with collector_paused():
            records = [(line, orjson.loads(line), where) for line, where in batch]
            if kept is not None:
                kept.read([record for _, record, _ in records])
            for line, record, where in records:
                plan.progress.step()
                for writer in line_writers:
                    writer.add_line(line, where)
                if kept is not None:
                    kept.tokens(record)  # what the token writers' `record_tokens(record)` then gives
                for writer in record_writers:
                    writer.add(record, where)
                tally.add(record, where)
                if reading is not None:
                    reading.add(record["id"], where)
            if kept is not None:
                kept.save()
    reports = {key: writer.close() for key, writer in writers.items()}
    agreement = tally.agreement if plan.from_records else reading.result()
    return Part(reports, tally.finish(), agreement, output.unfinished())


def _shard_done(snapshot: Snapshot, number: int, folder: str, step: str = "folder") -> list[str] | None:
    """Mark the shard done (`step` "folder") or selected ("selected"), what it made in `folder`; if
    every shard is now, their folders, in order. One transaction holding the snapshot's row: of
    two last shards at once, one goes on (to join, or to split)."""
    with transaction.atomic():
        if not list(Snapshot.objects.select_for_update().filter(pk=snapshot.pk, status=Snapshot.Status.RUNNING).values("pk")):
            raise Abandoned(f"Snapshot {snapshot.pk} is no longer running.")
        if not SnapshotShard.objects.filter(snapshot=snapshot, number=number, **{step: ""}).update(**{step: folder}):
            return None  # this shard ran twice, and the other run was done first
        folders = list(snapshot.shards.values_list(step, flat=True))
    return folders if all(folders) else None


def _join(plan: Plan, parts: list[Part], output: Output) -> Part:
    """The shards' files joined as the snapshot's, and their reports, counts and agreement added up."""
    directory = output.directory
    join([{name: (directory / path, format) for name, (path, format) in p.files.items()} for p in parts], output, plan.schema)
    first, *rest = parts
    for part in rest:
        for key, report in part.reports.items():
            add_counts(first.reports[key], report)
        first.tally.merge(part.tally)  # with the agreement, when it is counted from the records
        if not plan.from_records:
            for split, tally in part.agreement.items():
                first.agreement[split].merge(tally)
    first.tally.finish()
    for name in [HAND_OUT, *(p.name for p in directory.glob(".shard-*"))]:
        path = directory / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return Part(first.reports, first.tally, first.agreement, output.unfinished())


def _card(plan: Plan, summary: dict, part: Part, output: Output) -> tuple[dict, list[WrittenFile]]:
    """The tokenizers shipped and the dataset card, beside the files; every file hashed and
    given its name. Returns the counts the snapshot keeps, and the files."""
    formats = plan.parameters["formats"]
    tokenizers = _ship_tokenizers(output, summary["languages"], formats)
    written = output.finish()
    plan.progress.save()
    per_split = part.tally.counts
    counts = {
        "candidates": plan.candidates,
        "articles": sum(c["articles"] for c in per_split.values()),
        "examples": sum(c["examples"] for c in per_split.values()),
        "left_out": summary["left_out"],
        "languages": summary["languages"],
        "splits": per_split,
        "near_duplicates": {
            "threshold": plan.parameters["split"]["near_duplicate_threshold"],
            "groups": summary["groups"],
            "articles": sum(len(g) for g in summary["groups"]),
        },
        "formats": {key: report for key, report in sorted(part.reports.items()) if report},
        "tokenizers": tokenizers,
    }
    readme = output.path("README.md", "card")
    readme.write_text(
        card.render(
            project=plan.project, parameters=plan.parameters, schema=plan.schema, counts=counts, files=written,
            agreement={split: part.agreement[split].result() for split in SPLITS}, versions=_versions(formats),
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
        snapshot.shards.all().delete()


def _give_up(snapshot: Snapshot, output: Output, error: BaseException | str) -> None:
    """Mark the snapshot failed, then remove its folder. With the database away the first fails,
    and the folder is kept for the task to build or write again once it is back."""
    output.close()
    _fail(snapshot, error)
    shutil.rmtree(output.directory, ignore_errors=True)


def _fail(snapshot: Snapshot, error: BaseException | str) -> None:
    if isinstance(error, str):
        message = error
    else:
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
