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
  by name.
- An import never merges into existing work: an article that already has that person's
  annotation (or a gold annotation, for gold) is a problem, not an update.
- Label Studio: each task's annotation marked `ground_truth`, or its only annotation (cancelled
  ones ignored); `predictions` are model output, not labels, and are not imported. `labels`
  results become spans (offsets in code points), `relation` results relations, and the `choices`
  result named "topics" topics.
- doccano: one JSON object a line with `text` and `label`: `[[start, end, "Label"], ...]` for
  spans (or a list of topic names for document labels); the newer `entities` / `relations` form
  (`start_offset`, `end_offset`, `label`, `id`; `from_id`, `to_id`, `type`) is read too.
"""

import codecs
import functools
import gc
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator import bulk
from annotator.corpus.models import Article
from annotator.corpus.services import article_import_objects
from annotator.corpus.text import normalise, sha256
from annotator.labelling import services
from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.projects.models import Project

ARTICLE_FIELDS = ("title", "source", "url", "published", "language", "metadata")
# Documents written with one set of statements: bounds the rows held in memory at once.
WRITE_CHUNK = 1000
SKIPPED_REASON = "Skipped before it was imported"
KINDS = frozenset(Annotation.Kind.values)  # (`values` is worked out again at every use)
STATUSES = frozenset(Annotation.Status.values)


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
    articles_created: int = 0
    articles_matched: int = 0
    annotations: int = 0
    spans: int = 0


def _json_lines(data: bytes) -> list[tuple[str, Any]]:
    # Parsed a line at a time, from the bytes (orjson checks they are UTF-8 as it parses): the
    # whole file as one string would take four bytes a character as soon as it holds one emoji.
    # Only a line orjson refuses is decoded, to tell a broken character (reported as decoding
    # the whole file reports it, at its byte after any byte order mark) from broken JSON, and to
    # let through a line of nothing but Unicode white space.
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    view = memoryview(data)
    rows, problems = [], []
    start, number = 0, 0
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
                raise ImportFailed([f"the file is not UTF-8 ({bad.reason} at byte {start + bad.start})"]) from None
            if line.strip():
                problems.append(f"line {number}: not JSON ({error.msg})")
        start = end
    if problems:
        raise ImportFailed(problems)
    return rows


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
        except (ValueError, TypeError, AttributeError) as error:
            problems.append(f"{place}: {error}")
    if problems:
        raise ImportFailed(problems)
    return documents


# Label Studio ---------------------------------------------------------------------------------


def _label_studio_document(place: str, task: Any) -> ImportedDocument:
    _require(isinstance(task, dict) and isinstance(task.get("data"), dict), "must be a task with data")
    data = task["data"]
    text = data.get("text")
    _require(isinstance(text, str) and text.strip() != "", "data.text is missing or empty")
    chosen = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    truth = [a for a in chosen if a.get("ground_truth")]
    if len(truth) > 1 or (not truth and len(chosen) > 1):
        raise ValueError(f"has {len(chosen)} annotations; mark the one to import as ground truth")
    annotations = []
    for annotation in truth or chosen:
        imported = ImportedAnnotation(annotator=None)
        for item in annotation.get("result") or []:
            kind = item.get("type")
            if kind == "labels":
                value = item.get("value") or {}
                labels = value.get("labels") or []
                _require(len(labels) >= 1, f"region {item.get('id')} has no label")
                for label in labels:
                    imported.spans.append(
                        _span(item.get("id"), value.get("start"), value.get("end"), label, value.get("text"), text)
                    )
            elif kind == "relation":
                labels = item.get("labels") or []
                _require(len(labels) == 1, "a relation must have exactly one label (its type)")
                imported.relations.append((labels[0], item.get("from_id"), item.get("to_id")))
            elif kind == "choices" and item.get("from_name") == "topics":
                imported.topics.extend((item.get("value") or {}).get("choices") or [])
        annotations.append(imported)
    fields = {name: data[name] for name in ("title", "source", "url", "published", "language") if data.get(name)}
    return ImportedDocument(place, text, fields, annotations)


def _parse_label_studio(data: bytes) -> list[ImportedDocument]:
    try:
        tasks = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFailed([f"the file is not Label Studio JSON ({error})"]) from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ImportFailed(["the file must hold a list of tasks"])
    return _parse(((f"task {n}", t) for n, t in enumerate(tasks, start=1)), _label_studio_document)


# doccano --------------------------------------------------------------------------------------


def _doccano_document(place: str, row: Any) -> ImportedDocument:
    _require(isinstance(row, dict), "must be a JSON object")
    text = row.get("text")
    _require(isinstance(text, str) and text.strip() != "", "text is missing or empty")
    imported = ImportedAnnotation(annotator=None)
    for n, item in enumerate(row.get("label") or []):
        if isinstance(item, str):
            imported.topics.append(item)
        else:
            _require(isinstance(item, list) and len(item) == 3, f"label {item!r} is not [start, end, label]")
            imported.spans.append(_span(n, item[0], item[1], item[2], None, text))
    for item in row.get("entities") or []:
        imported.spans.append(
            _span(item.get("id"), item.get("start_offset"), item.get("end_offset"), item.get("label"), None, text)
        )
    for item in row.get("relations") or []:
        imported.relations.append((item.get("type"), item.get("from_id"), item.get("to_id")))
    for topic in row.get("cats") or []:
        imported.topics.append(topic)
    annotations = [imported] if imported.spans or imported.topics else []
    return ImportedDocument(place, text, {}, annotations)


def _parse_doccano(data: bytes) -> list[ImportedDocument]:
    return _parse(_json_lines(data), _doccano_document)


# The import itself ----------------------------------------------------------------------------


def _collector_paused(importer):
    """Python's cycle collector off while an import runs, back as it was after.

    An import holds every document it read, millions of objects (10k articles: 400,000 spans),
    while it makes millions more; each full collection walked them all again, about a tenth of
    an import's time. An import makes no reference cycles of its own to collect.
    """

    @functools.wraps(importer)
    def paused(**kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return importer(**kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_collector_paused
def snapshot_jsonl_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser | None = None) -> ImportResult:
    """A JSONL snapshot file (or the JSONL download) into the project, keeping annotators unless `gold_by`."""
    return _import(project, _parse_snapshot_jsonl(data, gold=gold_by is not None), gold_by)


@_collector_paused
def label_studio_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser) -> ImportResult:
    return _import(project, _parse_label_studio(data), gold_by)


@_collector_paused
def doccano_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser) -> ImportResult:
    return _import(project, _parse_doccano(data), gold_by)


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


def _check(
    project: Project, documents: list[ImportedDocument], texts: list[str], hashes: list[str], schema: _Schema, gold_by
) -> tuple[dict, list[str]]:
    """Everything that can be checked before writing; returns the users by name and the problems.

    These are the checks the labelling services make on every write (offsets, schema names,
    attributes, what a relation may link), made here for the whole file at once so that the
    write needs no query per span and every problem is listed, not only the first.
    """
    problems = []
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
        probe = Article(text=text)
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
                    problems.append(f"{place}: unknown span label “{span.label}”")
                else:
                    problems.extend(f"{place}: {problem}" for problem in _attribute_problems(schema, span))
                try:
                    services.span_check_offsets(article=probe, start=span.start, end=span.end, text=span.text)
                except ValidationError as error:
                    problems.append(f"{place}: {error.messages[0]}")
                made[span.key] = span
            for kind, source, target in annotation.relations:
                if kind not in schema.relation_types:
                    problems.append(f"{place}: unknown relation type “{kind}”")
                elif source not in made or target not in made:
                    problems.append(f"{place}: a “{kind}” relation links a span that is not in the annotation")
                else:
                    problems.extend(
                        f"{place}: {problem}" for problem in _relation_problems(schema.relation_types[kind], made[source], made[target])
                    )
            for topic in annotation.topics:
                if topic not in schema.topics:
                    problems.append(f"{place}: unknown topic “{topic}”")
            for target, value in annotation.stance.items():
                if target not in schema.targets or value not in schema.values:
                    problems.append(f"{place}: unknown stance “{target}: {value}”")
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


def _import(project: Project, documents: list[ImportedDocument], gold_by) -> ImportResult:
    schema = _Schema(project)
    texts = [normalise(d.text) for d in documents]
    hashes = [sha256(text) for text in texts]
    users, problems = _check(project, documents, texts, hashes, schema, gold_by)
    del texts  # megabytes, and `article_import_objects` normalises what it is given itself
    if problems:
        raise ImportFailed(problems)
    result = ImportResult()
    with transaction.atomic():
        articles = _articles(project, documents, hashes, result)
        for start in range(0, len(documents), WRITE_CHUNK):
            _write(
                [(articles[digest], document) for digest, document in zip(hashes[start : start + WRITE_CHUNK], documents[start : start + WRITE_CHUNK])],
                schema, users, gold_by, result,
            )
    return result


def _relations(imported: ImportedAnnotation) -> list[tuple[str, ImportedSpan, ImportedSpan]]:
    """The relations to make: (type, source, target), a repeated one once, as `relation_create` makes it."""
    made = {span.key: span for span in imported.spans}  # a later span with the same key wins
    return list({(kind, id(made[source]), id(made[target])): (kind, made[source], made[target]) for kind, source, target in imported.relations}.values())


def _articles(project: Project, documents: list[ImportedDocument], hashes: list[str], result: ImportResult) -> dict[str, int]:
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
        report = article_import_objects(project=project, objects=new)
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


def _client_ids(count: int) -> list[str]:
    """`count` random version-4 UUIDs as hex, as `uuid.uuid4` makes them but from one read of urandom."""
    raw = os.urandom(16 * count).hex()
    return [
        f"{raw[i:i + 12]}4{raw[i + 13:i + 16]}{'89ab'[int(raw[i + 16], 16) & 3]}{raw[i + 17:i + 32]}"
        for i in range(0, 32 * count, 32)
    ]
