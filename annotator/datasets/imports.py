"""Importing labelled articles: this app's JSONL snapshot files, Label Studio JSON and doccano JSONL.

Policy:
- All or nothing. Every document is read and every annotation checked before anything is
  written; if anything is wrong, nothing is imported and every problem is listed
  (`ImportFailed.problems`, each with its place: "line 3", "task 2").
- Articles are matched by their normalised text (`corpus.text.normalise`, then SHA-256): an
  article already in the project receives the annotations; a new text becomes a new article
  through `corpus.services.article_import_objects`, the same cleaning and rules as every import.
- Every span goes through `labelling.services.span_check_offsets` against the normalised text,
  and its attributes through the services' own cleaning; a relation must link spans its type
  allows. The annotations written are those the labelling services would leave (`tests/datasets/
  test_imports.py` compares them), each with one `Change` recording the import, but in bulk: a
  few statements per thousand articles (COPY on PostgreSQL), never a query per span. An
  annotation someone starts while the import runs makes it fail, with nothing written.
- Span attributes are kept where the label has them, and must then be text.
- Who annotated: a JSONL record keeps its annotators. Each username must belong to an existing
  member of the project (no account is ever created); `kind` gold stays gold, analyst stays
  analyst, and the status is kept. With `gold_by`, each record's single annotation becomes the
  article's gold annotation, by that user, submitted: for snapshots whose analysts are not
  members here, and for the "agreed" scope (whose annotations have no annotator). Label Studio
  and doccano carry no account of ours, so they always import as gold by `gold_by`.
- Labels, relation types, topics, stance targets and values must exist in the project's schema,
  by name. Every name the schema lacks is listed once, first, with how often the file used it.
- An import never merges into existing work: an article that already has that person's
  annotation (or a gold annotation, for gold) is a problem, not an update.
- Nothing comes in empty without saying so: `ImportResult` counts what came in per kind
  (articles, annotations, spans, relations, topics, stance) and what the file held that was not
  imported (`not_imported`: predictions, cancelled annotations, result types this app has no
  place for). A Label Studio or doccano file that yields no annotation at all is refused, with
  what it held instead.

Other tools' files (Label Studio, doccano) name things as their own project did: `mapping`
({their name: ours}, `--map NAME=Label` on the command) turns each label, choice, category and
relation name into one of the schema's; names without a mapping are taken as they are.

- Label Studio (a JSON list of tasks, or one task as Label Studio before 1.0 kept them):
  annotations under `annotations`, or `completions` (the shape before 1.0). Each task's
  annotation marked `ground_truth`, or its only annotation (cancelled ones are counted, not
  imported). The text is the task's `data` key given as `text_key`, else `text`, else the one
  key every task holds a text under (refused, naming them, when several could be). Results:
  `labels` regions become spans (offsets in code points, as Label Studio counts them), one a
  label; `relation` results relations, one a label (`direction: left` is read target to source);
  a `choices` result whose control (`from_name`, mapped) is a stance target sets that stance,
  and every other `choices` result gives topics. Other result types are counted, not imported.
  `predictions` are model output: counted and not imported, unless `predictions_by` names a
  member, whose annotation in progress each task's prediction then becomes (to check and
  submit like their own; there is no suggestions feature yet); `prediction_model` picks one
  model version where a task has several.
- doccano (JSONL, one example a line, `text` and): sequence labelling `label` (or `entities`)
  as `[start, end, "Label"]` lists or `{"start_offset", "end_offset", "label", "id"}` objects,
  with `relations` (`from_id`, `to_id`, `type`) naming the objects' ids; text classification
  `label` as a list of category names, and intent detection's `cats` beside `entities`.
  Categories become topics.
"""

import codecs
import functools
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator import bulk
from annotator.corpus.services import article_import_objects
from annotator.corpus.text import normalise, refuse_control_characters, sha256
from annotator.labelling import services
from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.projects.models import Project

ARTICLE_FIELDS = ("title", "source", "url", "published", "language", "metadata")
# Documents written with one set of statements: bounds the rows held in memory at once.
WRITE_CHUNK = 1000
SKIPPED_REASON = "Skipped before it was imported"
KINDS = frozenset(Annotation.Kind.values)  # (`values` is worked out again at every use)
STATUSES = frozenset(Annotation.Status.values)
UNKNOWN_NAMES = "names this project's schema does not have"


class ImportFailed(Exception):
    def __init__(self, problems: Sequence[str]):
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = list(problems)


@dataclass
class ImportedSpan:
    key: Any  # what relations in the file call it
    start: int
    end: int
    label: str
    text: str
    attributes: dict = field(default_factory=dict)


@dataclass
class ImportedAnnotation:
    annotator: str | None  # a username, or None for gold by the importing user
    kind: str = Annotation.Kind.GOLD
    status: str = Annotation.Status.SUBMITTED
    spans: list[ImportedSpan] = field(default_factory=list)
    relations: list[tuple[str, Any, Any]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    stance: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportedDocument:
    place: str
    text: str
    fields: dict = field(default_factory=dict)
    annotations: list[ImportedAnnotation] = field(default_factory=list)


@dataclass
class ImportResult:
    """What came in, per kind, and what the file held that was not imported (`not_imported`, by what)."""

    articles_created: int = 0
    articles_matched: int = 0
    articles_without_annotations: int = 0
    annotations: int = 0
    spans: int = 0
    relations: int = 0
    topics: int = 0  # (annotation, topic) pairs
    stance: int = 0  # (annotation, target) pairs
    not_imported: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        counts = [
            f"{self.articles_created} new article(s)", f"{self.articles_matched} already here",
            f"{self.annotations} annotation(s)", f"{self.spans} span(s)", f"{self.relations} relation(s)",
            f"{self.topics} topic(s)", f"{self.stance} stance(s)",
        ]
        if self.articles_without_annotations:
            counts.append(f"{self.articles_without_annotations} document(s) without any annotation")
        counts += [f"{count} {what}" for what, count in sorted(self.not_imported.items()) if count]
        return ", ".join(counts)


def _json_lines(data: bytes) -> list[tuple[str, Any]]:
    # Parsed a line at a time, from the bytes (orjson checks they are UTF-8 as it parses): the
    # whole file as one string would take four bytes a character as soon as it holds one emoji.
    # Only a line orjson refuses is decoded, to tell a broken character (reported at its line and
    # its byte in the file) from broken JSON, and to let through a line of nothing but Unicode
    # white space.
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    view = memoryview(data)
    rows, problems = [], []
    start, number = bom, 0
    while start < len(data) or number == 0:
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end + 1
        number += 1
        try:
            rows.append((f"line {number}", orjson.loads(view[start:end])))
        except orjson.JSONDecodeError as error:
            try:
                line = data[start:end].decode("utf-8")
            except UnicodeDecodeError as bad:
                raise ImportFailed([_not_utf8(data, start + bad.start, bad)]) from None
            if line.strip():
                problems.append(f"line {number}: not JSON ({error.msg})")
        start = end
    if problems:
        raise ImportFailed(problems)
    return rows


def _not_utf8(data: bytes, position: int, error: UnicodeDecodeError) -> str:
    """A byte that is not UTF-8, by its line and its position in the file (a byte order mark counted)."""
    line = data.count(b"\n", 0, position) + 1
    return f"line {line}: the file is not UTF-8 (byte 0x{data[position]:02x} at position {position}: {error.reason})"


# How orjson writes a control character other than a tab or a line break: an escape (\u0000,
# \b, \f), or from DEL on the character itself. A backslash in the text followed by "b" matches
# too ("\\b"); the exact check then finds nothing, so the pattern only has to miss nothing.
_WRITTEN_CONTROL = re.compile(rb"\\u00(?:0[0-8bBeEfF]|1[0-9a-fA-F]|7[fF])|\\[bf]|\x7f|\xc2[\x80-\x9f]")


def _refuse_control_characters(row: dict, article_keys) -> None:
    """Anywhere in a record but its article's fields, which the article import checks with its other
    rules: names are looked up in the database, and JSON spells NUL as \u0000.

    The record is written back as JSON by orjson (C) and searched in one go: walking it in
    Python, a call a value, took a tenth of a Label Studio import (a task holds 20 regions).
    Only a record where that finds one (or orjson refuses) is walked, for the exact message.
    """
    rest = {key: value for key, value in row.items() if key not in article_keys}
    try:
        if not _WRITTEN_CONTROL.search(orjson.dumps(rest)):
            return
    except (orjson.JSONEncodeError, TypeError):
        pass  # a lone surrogate, nesting deeper than orjson goes: the walk says what it is
    refuse_control_characters(rest, what="the record")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _span(key, start, end, label, text: str, record_text: str | None = None, attributes=None) -> ImportedSpan:
    _require(isinstance(start, int) and isinstance(end, int), f"span offsets must be integers ({start!r}, {end!r})")
    _require(isinstance(label, str) and label != "", f"span label must be a name ({label!r})")
    if text is None and record_text is not None:
        text = record_text[start:end]
    _require(isinstance(text, str), "span text must be a string")
    return ImportedSpan(key, start, end, label, text, dict(attributes or {}))


# JSONL snapshot files -----------------------------------------------------------------------


def _snapshot_document(place: str, row: Any, gold: bool) -> ImportedDocument:
    _require(isinstance(row, dict), "must be a JSON object")
    _refuse_control_characters(row, ("text", *ARTICLE_FIELDS))
    text = row.get("text")
    _require(isinstance(text, str) and text.strip() != "", "text is missing or empty")
    annotations = []
    raw = row.get("annotations") or []
    _require(isinstance(raw, list), "annotations must be a list")
    if gold and len(raw) > 1:
        raise ValueError(f"has {len(raw)} annotations; importing as gold takes one per article")
    for item in raw:
        _require(isinstance(item, dict), "each annotation must be an object")
        kind = item.get("kind", Annotation.Kind.ANALYST)
        if not gold and kind not in KINDS:
            raise ValueError(f"a “{kind}” annotation has no annotator here: import this file as gold by a user")
        spans = [
            _span(s.get("id"), s.get("start"), s.get("end"), s.get("label"), s.get("text"), text, s.get("attributes"))
            for s in item.get("spans", [])
        ]
        annotations.append(
            ImportedAnnotation(
                annotator=None if gold else item.get("annotator"),
                kind=Annotation.Kind.GOLD if gold else kind,
                status=Annotation.Status.SUBMITTED if gold else item.get("status", Annotation.Status.SUBMITTED),
                spans=spans,
                relations=[(r.get("type"), r.get("source"), r.get("target")) for r in item.get("relations", [])],
                topics=list(item.get("topics", [])),
                stance=dict(item.get("stance", {})),
            )
        )
    fields = {name: row.get(name) for name in ARTICLE_FIELDS if row.get(name) is not None}
    return ImportedDocument(place, text, fields, annotations)


def _parse_snapshot_jsonl(data: bytes, gold: bool) -> list[ImportedDocument]:
    return _parse(_json_lines(data), lambda place, row: _snapshot_document(place, row, gold))


def _parse(rows, read) -> list[ImportedDocument]:
    documents, problems = [], []
    for place, row in rows:
        try:
            documents.append(read(place, row))
        except ValidationError as error:
            problems.append(f"{place}: {error.messages[0]}")
        except (ValueError, TypeError, AttributeError) as error:
            problems.append(f"{place}: {error}")
        except RecursionError:
            problems.append(f"{place}: is nested too deeply to be an annotation")
    if problems:
        raise ImportFailed(problems)
    return documents


# Label Studio and doccano: names ----------------------------------------------------------------


class _Names:
    """Names in another tool's file, turned into this project's: `mapping` first, then as they are.

    A file from another tool names its labels, choices and relations as its own project did
    ("PER", "Not Humor", "sentiment"); `mapping` ({their name: ours}) says which of ours each
    one is. Names with no mapping are taken as they are and must then be in our schema: the
    check lists every one that is not, so that a single run of the import shows every
    `--map` it needs.
    """

    def __init__(self, mapping: dict[str, str] | None, targets: set[str]):
        self.mapping = dict(mapping or {})
        self.targets = targets  # the project's stance targets: a choice named after one is a stance

    def __call__(self, name):
        return self.mapping.get(name, name) if isinstance(name, str) else name


# Label Studio ---------------------------------------------------------------------------------

# Where a Label Studio task keeps its annotations: `annotations` since 1.0, `completions` before.
LABEL_STUDIO_ANNOTATIONS = ("annotations", "completions")
LABEL_STUDIO_FIELDS = ("title", "source", "url", "published", "language")


def _label_studio_tasks(data: bytes) -> list[tuple[str, Any]]:
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        # orjson (C, from the bytes) reads a well-formed export in 0.6 of the time (2,000 anchor
        # tasks: 0.21 s of CPU, not 0.35); what it refuses and `json` takes (a lone surrogate
        # escape, NaN, a 100-digit number) or refuses with its own message is read by `json`.
        tasks = orjson.loads(memoryview(data)[bom:])
    except orjson.JSONDecodeError:
        tasks = None
    try:
        tasks = json.loads(data[bom:].decode("utf-8")) if tasks is None else tasks
    except UnicodeDecodeError as error:
        raise ImportFailed([_not_utf8(data, bom + error.start, error)]) from None
    except json.JSONDecodeError as error:
        raise ImportFailed([f"the file is not Label Studio JSON ({error})"]) from None
    if isinstance(tasks, dict):  # one task a file, as Label Studio before 1.0 kept them
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ImportFailed(["the file must hold a list of tasks"])
    return [(f"task {n}", task) for n, task in enumerate(tasks, start=1)]


def _label_studio_text_key(tasks: list[tuple[str, Any]], text_key: str | None) -> str:
    """The `data` key that holds the text: the one asked for, else `text`, else the one every task has.

    Label Studio names it in the labelling config (`<Text value="$review">`), which an export
    does not carry; the tasks' `data` is all there is to go by.
    """
    datas = [task.get("data") for _, task in tasks if isinstance(task, dict)]
    datas = [d for d in datas if isinstance(d, dict)]
    if text_key is not None or not datas:
        return text_key or "text"
    if all(isinstance(d.get("text"), str) for d in datas):
        return "text"
    shared = set.intersection(*({k for k, v in d.items() if isinstance(v, str) and v.strip()} for d in datas))
    shared -= set(LABEL_STUDIO_FIELDS)
    if len(shared) == 1:
        return shared.pop()
    if not shared:
        raise ImportFailed(["no key of the tasks' data holds a text in every task: say which with --text-key"])
    names = ", ".join(f"data.{k}" for k in sorted(shared))
    raise ImportFailed([f"the tasks' text could be any of {names}: say which with --text-key"])


def _label_studio_result(results: Any, text: str, names: _Names, imported: "ImportedAnnotation", unread: Counter) -> None:
    """A Label Studio `result` list into `imported`: regions, relations, choices."""
    _require(isinstance(results, list), "an annotation's result must be a list")
    for item in results:
        _require(isinstance(item, dict), "each result must be an object")
        kind = item.get("type")
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        if kind == "labels":
            labels = value.get("labels") or []
            _require(isinstance(labels, list) and len(labels) >= 1, f"region {item.get('id')} has no label")
            for label in labels:  # a region with two labels is two spans, as our labelling page makes them
                imported.spans.append(_span(item.get("id"), value.get("start"), value.get("end"), names(label), value.get("text"), text))
        elif kind == "relation":
            labels = item.get("labels") or []
            _require(len(labels) >= 1, f"the relation from {item.get('from_id')} to {item.get('to_id')} has no label (its type here)")
            source, target = item.get("from_id"), item.get("to_id")
            if item.get("direction") == "left":  # drawn from the target back to the source
                source, target = target, source
            for label in labels:
                imported.relations.append((names(label), source, target))
        elif kind == "choices":
            choices = value.get("choices") or []
            _require(isinstance(choices, list), "choices must be a list")
            control = names(item.get("from_name"))
            if control in names.targets:
                _require(len(choices) == 1, f"the stance on “{control}” must be one choice, not {len(choices)}")
                imported.stance[control] = names(choices[0])
            else:
                imported.topics.extend(names(choice) for choice in choices)
        else:
            unread[f"Label Studio “{kind}” results (not read)"] += 1


def _label_studio_document(
    place: str, task: Any, *, key: str, names: _Names, predictions_by: str | None, prediction_model: str | None, unread: Counter
) -> ImportedDocument:
    _require(isinstance(task, dict) and isinstance(task.get("data"), dict), "must be a task with data")
    _refuse_control_characters(task, ("data",))
    data = task["data"]
    text = data.get(key)
    _require(isinstance(text, str) and text.strip() != "", f"data.{key} is missing or empty")
    given = [a for field_name in LABEL_STUDIO_ANNOTATIONS for a in task.get(field_name) or []]
    _require(all(isinstance(a, dict) for a in given), "each annotation must be an object")
    chosen = [a for a in given if not a.get("was_cancelled")]
    unread["cancelled Label Studio annotations"] += len(given) - len(chosen)
    truth = [a for a in chosen if a.get("ground_truth")]
    if len(truth) > 1 or (not truth and len(chosen) > 1):
        raise ValueError(f"has {len(chosen)} annotations; mark the one to import as ground truth")
    annotations = []
    for annotation in truth or chosen:
        imported = ImportedAnnotation(annotator=None)
        results = annotation.get("result") or []
        _label_studio_result(results, text, names, imported, unread)
        # An empty result is a judgement ("nothing here") and comes in; results this app cannot
        # read (boxes, ratings, text areas) do not make an empty annotation that says otherwise.
        if results and not (imported.spans or imported.relations or imported.topics or imported.stance):
            unread["Label Studio annotations with nothing this app reads"] += 1
            continue
        annotations.append(imported)

    predictions = task.get("predictions") or []
    _require(isinstance(predictions, list) and all(isinstance(p, dict) for p in predictions), "predictions must be a list of objects")
    if predictions_by is None:
        unread["Label Studio predictions (not imported: see --predictions-as)"] += len(predictions)
    else:
        if prediction_model is not None:
            unread["Label Studio predictions of other model versions"] += sum(p.get("model_version") != prediction_model for p in predictions)
            predictions = [p for p in predictions if p.get("model_version") == prediction_model]
        if len(predictions) > 1:
            versions = ", ".join(sorted({str(p.get("model_version")) for p in predictions}))
            raise ValueError(f"has {len(predictions)} predictions (model versions {versions}); choose one with --prediction-model")
        for prediction in predictions:
            # Model output is not anyone's judgement yet: it becomes the named analyst's
            # annotation in progress, for them to check and submit like their own.
            imported = ImportedAnnotation(annotator=predictions_by, kind=Annotation.Kind.ANALYST, status=Annotation.Status.IN_PROGRESS)
            results = prediction.get("result") or []
            _label_studio_result(results, text, names, imported, unread)
            if results and not (imported.spans or imported.relations or imported.topics or imported.stance):
                unread["Label Studio predictions with nothing this app reads"] += 1
                continue
            annotations.append(imported)
    fields = {name: data[name] for name in LABEL_STUDIO_FIELDS if name != key and isinstance(data.get(name), str) and data[name]}
    return ImportedDocument(place, text, fields, annotations)


def _parse_label_studio(
    data: bytes, names: _Names, unread: Counter, *, text_key=None, predictions_by=None, prediction_model=None
) -> list[ImportedDocument]:
    tasks = _label_studio_tasks(data)
    key = _label_studio_text_key(tasks, text_key)
    read = functools.partial(
        _label_studio_document, key=key, names=names, predictions_by=predictions_by, prediction_model=prediction_model, unread=unread
    )
    return _parse(tasks, read)


# doccano --------------------------------------------------------------------------------------


def _doccano_span(names: _Names, text: str, n: int, item: Any) -> ImportedSpan:
    """One of doccano's span shapes: `[start, end, "Label"]`, or an object with offsets (and an id)."""
    if isinstance(item, list):
        _require(len(item) == 3, f"span {item!r} is not [start, end, label]")
        return _span(n, item[0], item[1], names(item[2]), None, text)
    _require(isinstance(item, dict), f"span {item!r} is neither [start, end, label] nor an object")
    return _span(item.get("id", n), item.get("start_offset"), item.get("end_offset"), names(item.get("label")), None, text)


def _doccano_document(place: str, row: Any, names: _Names) -> ImportedDocument:
    """A doccano JSONL row, in any of the shapes doccano writes for text:

    sequence labelling `label` (or the newer `entities`) as `[start, end, "Label"]` lists or as
    objects with `start_offset`, `end_offset`, `label` (and `id`, which `relations` name in
    `from_id` / `to_id`); text classification `label` as a list of category names, and `cats`
    beside `entities` (intent detection). Categories are topics; every name goes through `names`.
    """
    _require(isinstance(row, dict), "must be a JSON object")
    _refuse_control_characters(row, ("text",))
    text = row.get("text")
    _require(isinstance(text, str) and text.strip() != "", "text is missing or empty")
    imported = ImportedAnnotation(annotator=None)
    labels = row.get("label", row.get("labels")) or []
    if isinstance(labels, str):  # one category, as single-label classification is sometimes written
        labels = [labels]
    _require(isinstance(labels, list), "label must be a list")
    categories = [item for item in labels if isinstance(item, str)] + list(row.get("cats") or [])
    spans = [item for item in labels if not isinstance(item, str)] + list(row.get("entities") or [])
    imported.spans = [_doccano_span(names, text, n, item) for n, item in enumerate(spans)]
    for category in categories:
        _require(isinstance(category, str), f"category {category!r} is not a name")
        imported.topics.append(names(category))
    for item in row.get("relations") or []:
        _require(isinstance(item, dict), f"relation {item!r} is not an object")
        imported.relations.append((names(item.get("type")), item.get("from_id"), item.get("to_id")))
    annotations = [imported] if imported.spans or imported.topics else []
    return ImportedDocument(place, text, {}, annotations)


def _parse_doccano(data: bytes, names: _Names) -> list[ImportedDocument]:
    return _parse(_json_lines(data), lambda place, row: _doccano_document(place, row, names))


# The import itself ----------------------------------------------------------------------------


@bulk.collector_paused()
def snapshot_jsonl_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser | None = None, progress=None) -> ImportResult:
    """A JSONL snapshot file (or the JSONL download) into the project, keeping annotators unless `gold_by`."""
    return _import(project, _parse_snapshot_jsonl(data, gold=gold_by is not None), gold_by, progress=progress)


@bulk.collector_paused()
def label_studio_import(
    *,
    project: Project,
    data: bytes,
    gold_by: AbstractBaseUser,
    mapping: dict[str, str] | None = None,
    text_key: str | None = None,
    predictions_by: str | None = None,
    prediction_model: str | None = None,
    progress=None,
) -> ImportResult:
    """A Label Studio JSON export (or one task of Label Studio before 1.0) into the project.

    `mapping` turns the file's names into the schema's, `text_key` says which `data` key holds
    the text, and `predictions_by` (a member's username) imports each task's prediction as that
    analyst's annotation in progress (`prediction_model` picks one model version's).
    `progress(done, total)`, here and in the other importers, is called now and then.
    """
    schema, unread = _Schema(project), Counter()
    names = _Names(mapping, set(schema.targets))
    documents = _parse_label_studio(
        data, names, unread, text_key=text_key, predictions_by=predictions_by, prediction_model=prediction_model
    )
    return _import(project, documents, gold_by, schema=schema, unread=unread, names=names, progress=progress)


@bulk.collector_paused()
def doccano_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser, mapping: dict[str, str] | None = None, progress=None) -> ImportResult:
    schema = _Schema(project)
    names = _Names(mapping, set(schema.targets))
    return _import(project, _parse_doccano(data, names), gold_by, schema=schema, unread=Counter(), names=names, progress=progress)


IMPORTERS = {"jsonl": snapshot_jsonl_import, "label-studio": label_studio_import, "doccano": doccano_import}


class _Schema:
    """The project's labels, relation types, topics and stance lists by name, read once an import."""

    def __init__(self, project: Project):
        self.labels = {label.name: label for label in project.span_labels.prefetch_related("attributes")}
        self.label_attributes = {name: {a.name for a in label.attributes.all()} for name, label in self.labels.items()}
        self.relation_types = {
            r.name: r for r in project.relation_types.select_related("source_label", "target_label")
        }
        self.topics = {topic.name: topic for topic in project.topics.all()}
        self.targets = {target.name: target for target in project.stance_targets.all()}
        self.values = {value.name: value for value in project.stance_values.all()}
        self._attributes = {}

    def attributes(self, label: str, attributes: dict) -> dict:
        """What the labelling services keep of a span's attributes (one look-up per distinct set)."""
        key = (label, tuple(sorted(attributes.items())))
        if key not in self._attributes:
            self._attributes[key] = services.span_attributes_clean(label=self.labels[label], attributes=attributes)
        return self._attributes[key]


class _Probe(NamedTuple):
    text: str


def _check(
    project: Project, documents: list[ImportedDocument], texts: list[str], hashes: list[str], schema: _Schema, gold_by
) -> tuple[dict, list[str]]:
    """Everything that can be checked before writing; returns the users by name and the problems.

    These are the checks the labelling services make on every write (offsets, schema names,
    attributes, what a relation may link), made here for the whole file at once so that the
    write needs no query per span and every problem is listed, not only the first.
    """
    problems = []
    unknown = Counter()  # (what, name): how often a name the schema lacks was used
    names = {a.annotator for d in documents for a in d.annotations if a.annotator is not None}
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names, memberships__project=project)}
    existing = {}
    for start in range(0, len(hashes), 500):
        for article in project.articles.filter(sha256__in=hashes[start : start + 500]).prefetch_related("annotations__annotator"):
            existing[article.sha256] = article
    taken = set()  # (sha256, who) already annotated, in the project or earlier in the file
    for article in existing.values():
        for annotation in article.annotations.all():
            who = "gold" if annotation.kind == Annotation.Kind.GOLD else annotation.annotator.get_username()
            taken.add((article.sha256, who))

    for document, text, digest in zip(documents, texts, hashes):
        probe = _Probe(text)  # what span_check_offsets reads of an article, without a model instance a document
        said = set()  # an unknown name is said once a document, not once a span

        def unknown_name(what: str, name, place=document.place, said=said) -> None:
            unknown[what, name] += 1
            if (what, name) not in said:
                said.add((what, name))
                problems.append(f"{place}: unknown {what} “{name}”")

        for annotation in document.annotations:
            place = document.place
            if annotation.kind == Annotation.Kind.GOLD or annotation.annotator is None:
                who = "gold"
                if annotation.annotator is None and gold_by is None:
                    problems.append(f"{place}: this annotation can only be imported as gold: say which user")
            else:
                who = annotation.annotator
                if who not in users:
                    problems.append(f"{place}: “{who}” is not a member of this project")
            if annotation.kind == Annotation.Kind.GOLD and annotation.annotator is not None and who == "gold" and annotation.annotator not in users:
                problems.append(f"{place}: “{annotation.annotator}” is not a member of this project")
            if (digest, who) in taken:
                problems.append(f"{place}: this article already has {'a gold annotation' if who == 'gold' else f'an annotation by {who}'}")
            taken.add((digest, who))
            if annotation.status not in STATUSES:
                problems.append(f"{place}: unknown status “{annotation.status}”")
            made = {}  # what relations call each span; a later span with the same key wins, as it did
            for span in annotation.spans:
                if span.label not in schema.labels:
                    unknown_name("span label", span.label)
                else:
                    problems.extend(f"{place}: {problem}" for problem in _attribute_problems(schema, span))
                try:
                    services.span_check_offsets(article=probe, start=span.start, end=span.end, text=span.text)
                except ValidationError as error:
                    problems.append(f"{place}: {error.messages[0]}")
                made[span.key] = span
            for kind, source, target in annotation.relations:
                if kind not in schema.relation_types:
                    unknown_name("relation type", kind)
                elif source not in made or target not in made:
                    problems.append(f"{place}: a “{kind}” relation links a span that is not in the annotation")
                else:
                    problems.extend(
                        f"{place}: {problem}" for problem in _relation_problems(schema.relation_types[kind], made[source], made[target])
                    )
            for topic in annotation.topics:
                if topic not in schema.topics:
                    unknown_name("topic", topic)
            for target, value in annotation.stance.items():
                if target not in schema.targets:
                    unknown_name("stance target", target)
                elif value not in schema.values:
                    unknown_name("stance value", value)
    if unknown:
        # First, so that a file from another tool says at once every name it needs mapped.
        listed = ", ".join(f"{what} “{name}” ({count}×)" for (what, name), count in sorted(unknown.items(), key=lambda i: (i[0][0], str(i[0][1]))))
        problems.insert(0, f"{UNKNOWN_NAMES}: {listed}")
    return users, problems


def _attribute_problems(schema: _Schema, span: ImportedSpan) -> list[str]:
    # Attributes the label does not have are dropped, whatever they hold; its own must be text.
    own = schema.label_attributes[span.label]
    wrong = [name for name, value in span.attributes.items() if name in own and value is not None and not isinstance(value, str)]
    if wrong:
        return [f"span attribute “{name}” must be text" for name in wrong]
    try:
        span.attributes = schema.attributes(span.label, span.attributes)
    except ValidationError as error:
        return error.messages
    return []


def _relation_problems(kind, source: ImportedSpan, target: ImportedSpan) -> list[str]:
    """What `labelling.services.relation_create` refuses, in its words."""
    if source is target:
        return ["A span cannot be linked to itself."]
    if source.label != kind.source_label.name or (kind.target_label_id and target.label != kind.target_label.name):
        return [
            f"A “{kind.name}” link goes from a {kind.source_label.name} span"
            + (f" to a {kind.target_label.name} span." if kind.target_label_id else ".")
        ]
    return []


def _import(
    project: Project, documents: list[ImportedDocument], gold_by, *, schema: _Schema | None = None,
    unread: Counter | None = None, names: _Names | None = None, progress=None,
) -> ImportResult:
    """Check, then write; `names` is given for another tool's file (Label Studio, doccano)."""
    schema = schema or _Schema(project)
    unread = unread if unread is not None else Counter()
    if names is not None and not any(document.annotations for document in documents):
        # Articles alone are not what an annotation import is for: say why nothing would come in.
        reasons = [f"{len(documents)} document(s), none with an annotation to import"]
        reasons += [f"{count} {what}" for what, count in sorted(unread.items()) if count]
        raise ImportFailed([f"the file yields no annotations ({'; '.join(reasons)})"])
    texts = [normalise(d.text) for d in documents]
    hashes = [sha256(text) for text in texts]
    users, problems = _check(project, documents, texts, hashes, schema, gold_by)
    del texts  # megabytes, and `article_import_objects` normalises what it is given itself
    if problems:
        if names is not None and problems[0].startswith(UNKNOWN_NAMES):
            problems[0] += ": add them to the schema, or map each to one of yours with --map NAME=Label"
        raise ImportFailed(problems)
    result = ImportResult(
        articles_without_annotations=sum(not document.annotations for document in documents),
        not_imported={what: count for what, count in sorted(unread.items()) if count},
    )
    with transaction.atomic():
        articles = _articles(project, documents, hashes, result, progress)
        for start in range(0, len(documents), WRITE_CHUNK):
            if progress:
                progress(start, len(documents))
            _write(
                [(articles[digest], document) for digest, document in zip(hashes[start : start + WRITE_CHUNK], documents[start : start + WRITE_CHUNK])],
                schema, users, gold_by, result,
            )
    return result


def _relations(imported: ImportedAnnotation) -> list[tuple[str, ImportedSpan, ImportedSpan]]:
    """The relations to make: (type, source, target), a repeated one once, as `relation_create` makes it."""
    made = {span.key: span for span in imported.spans}  # a later span with the same key wins
    return list({(kind, id(made[source]), id(made[target])): (kind, made[source], made[target]) for kind, source, target in imported.relations}.values())


def _articles(project: Project, documents: list[ImportedDocument], hashes: list[str], result: ImportResult, progress=None) -> dict[str, int]:
    """The id of the project's article for each document's text; the new texts imported as one batch."""
    rows, seen = [], set()
    for document, digest in zip(documents, hashes):
        if digest not in seen:
            seen.add(digest)
            rows.append((digest, (document.place, {"text": document.text, **document.fields})))
    digests = list(seen)
    existing = set()
    for start in range(0, len(digests), 500):
        existing.update(project.articles.filter(sha256__in=digests[start : start + 500]).values_list("sha256", flat=True))
    new = [row for digest, row in rows if digest not in existing]
    if new:
        report = article_import_objects(project=project, objects=new, progress=progress)
        if report.errors:
            raise ImportFailed([str(issue) for issue in report.errors])
        result.articles_created = len(report.created)
    result.articles_matched = len(rows) - len(new)
    ids = {}
    for start in range(0, len(digests), 500):
        ids.update(project.articles.filter(sha256__in=digests[start : start + 500]).values_list("sha256", "id"))
    return ids


def _write(batch: list[tuple[int, ImportedDocument]], schema: _Schema, users: dict, gold_by, result: ImportResult) -> None:
    """Write checked annotations as the labelling services would, a few statements for the batch.

    The annotations, spans, relations, topics, stances and statuses are those
    `annotation_get_or_create`, `span_add`, `relation_create`, `document_labels_set` and
    `annotation_submit` / `annotation_skip` would leave. The history differs on purpose: one
    `Change` an annotation, "import", holding all it brought (version 2: made, then imported),
    not one a span as if an analyst had made each in the app; the per-span rows were half of
    what an import wrote and about a quarter of its time. The rows' ids are reserved first, so
    that each row is made once, with the ids it points at.
    """
    now = timezone.now()
    planned = [(article_id, imported, _relations(imported)) for article_id, document in batch for imported in document.annotations]
    spans = sum(len(imported.spans) for _, imported, _ in planned)
    annotation_ids = iter(bulk.reserve(Annotation, len(planned)))
    span_ids, client_ids = iter(bulk.reserve(Span, spans)), iter(_client_ids(spans))
    relation_ids = iter(bulk.reserve(Relation, sum(len(made) for *_, made in planned)))
    annotation_rows, span_rows, relation_rows, topic_rows, stance_rows, change_rows = [], [], [], [], [], []
    for article_id, imported, made in planned:
        actor = gold_by if imported.kind == Annotation.Kind.GOLD and imported.annotator is None else users[imported.annotator]
        annotation_id = next(annotation_ids)
        skipped = imported.status == Annotation.Status.SKIPPED
        annotation_rows.append((
            annotation_id, article_id, actor.pk, imported.kind, imported.status, SKIPPED_REASON if skipped else "",
            2, now, now, now if imported.status == Annotation.Status.SUBMITTED else None,
        ))
        span_id = {id(span): next(span_ids) for span in imported.spans}
        # As `relation_create` leaves it: a link named like an attribute of its source (a quote's
        # speaker link, its speaker) gives that attribute, which is then not kept as free text.
        given = {(id(source), kind) for kind, source, _ in made}
        attributes = {
            id(span): {name: value for name, value in span.attributes.items() if (id(span), name) not in given}
            for span in imported.spans
        }
        span_rows += [
            (span_id[id(span)], annotation_id, schema.labels[span.label].id, span.start, span.end, span.text,
             attributes[id(span)], now, now, next(client_ids))
            for span in imported.spans
        ]
        relations = [(next(relation_ids), kind, span_id[id(source)], span_id[id(target)]) for kind, source, target in made]
        relation_rows += [(pk, annotation_id, schema.relation_types[kind].id, source, target, now) for pk, kind, source, target in relations]
        topics = sorted(set(imported.topics))
        topic_rows += [(annotation_id, schema.topics[topic].id) for topic in topics]
        stance = sorted(imported.stance.items(), key=lambda pair: (schema.targets[pair[0]].order, schema.targets[pair[0]].id))
        stance_rows += [(annotation_id, schema.targets[target].id, schema.values[value].id) for target, value in stance]
        after = {
            "status": imported.status,
            "spans": [
                {"id": span_id[id(span)], "label": span.label, "start": span.start, "end": span.end, "text": span.text,
                 "attributes": attributes[id(span)]}
                for span in imported.spans
            ],
            "relations": [{"id": pk, "type": kind, "source": source, "target": target} for pk, kind, source, target in relations],
            "topics": topics,
            "stance": dict(stance),
        }
        change_rows.append((annotation_id, actor.pk, Change.Action.IMPORT, "annotation", annotation_id, None, after,
                            SKIPPED_REASON if skipped else "", now))
    try:
        bulk.insert(
            Annotation,
            ["id", "article_id", "annotator_id", "kind", "status", "skip_reason", "version", "created_at", "updated_at", "submitted_at"],
            annotation_rows,
        )
    except IntegrityError as error:  # one analyst annotation a person an article, one gold: the unique indexes
        raise ImportFailed(["someone else annotated one of these articles while it was imported; nothing was imported"]) from error
    bulk.insert(
        Span, ["id", "annotation_id", "label_id", "start", "end", "text", "attributes", "created_at", "updated_at", "client_id"],
        span_rows,
    )
    bulk.insert(Relation, ["id", "annotation_id", "type_id", "source_id", "target_id", "created_at"], relation_rows)
    bulk.insert(Annotation.topics.through, ["annotation_id", "topic_id"], topic_rows)
    bulk.insert(Stance, ["annotation_id", "target_id", "value_id"], stance_rows)
    bulk.insert(Change, ["annotation_id", "actor_id", "action", "subject", "subject_id", "before", "after", "reason", "created_at"], change_rows)
    result.annotations += len(annotation_rows)
    result.spans += len(span_rows)
    result.relations += len(relation_rows)
    result.topics += len(topic_rows)
    result.stance += len(stance_rows)


def _client_ids(count: int) -> list[str]:
    """`count` random version-4 UUIDs as hex, as `uuid.uuid4` makes them but from one read of urandom."""
    raw = os.urandom(16 * count).hex()
    return [
        f"{raw[i:i + 12]}4{raw[i + 13:i + 16]}{'89ab'[int(raw[i + 16], 16) & 3]}{raw[i + 17:i + 32]}"
        for i in range(0, 32 * count, 32)
    ]
