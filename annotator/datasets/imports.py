"""Importing labelled articles: this app's JSONL snapshot files, Label Studio JSON and doccano JSONL.

Policy:
- All or nothing. Every document is read and every annotation checked before anything is
  written; if anything is wrong, nothing is imported and every problem is listed
  (`ImportFailed.problems`, each with its place: "line 3", "task 2").
- Articles are matched by their normalised text (`corpus.text.normalise`, then SHA-256): an
  article already in the project receives the annotations; a new text becomes a new article
  through `corpus.services.article_import`, the same cleaning and rules as every import.
- Every span goes through `labelling.services.span_check_offsets` against the normalised text,
  then through the labelling services, so each write leaves its `Change` like any other.
- Who annotated: a JSONL record keeps its annotators. Each username must belong to an existing
  member of the project (no account is ever created); `kind` gold stays gold, analyst stays
  analyst, and the status is kept. With `gold_by`, each record's single annotation becomes the
  article's gold annotation, by that user, submitted: for snapshots whose analysts are not
  members here, and for the "agreed" scope (whose annotations have no annotator). Label Studio
  and doccano carry no account of ours, so they always import as gold by `gold_by`.
- Labels, relation types, topics, stance targets and values must exist in the project's schema,
  by name. Span attributes are kept where the label has them.
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

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.corpus.models import Article
from annotator.corpus.services import article_import
from annotator.corpus.text import normalise, sha256
from annotator.labelling import services
from annotator.labelling.models import Annotation
from annotator.projects.models import Project

ARTICLE_FIELDS = ("title", "source", "url", "published", "language", "metadata")
ARTICLES_PER_FILE = 500


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailed([f"the file is not UTF-8 ({error.reason} at byte {error.start})"]) from None
    rows, problems = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not JSON ({error.msg})")
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
        if not gold and kind not in Annotation.Kind.values:
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


def snapshot_jsonl_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser | None = None) -> ImportResult:
    """A JSONL snapshot file (or the JSONL download) into the project, keeping annotators unless `gold_by`."""
    return _import(project, _parse_snapshot_jsonl(data, gold=gold_by is not None), gold_by)


def label_studio_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser) -> ImportResult:
    return _import(project, _parse_label_studio(data), gold_by)


def doccano_import(*, project: Project, data: bytes, gold_by: AbstractBaseUser) -> ImportResult:
    return _import(project, _parse_doccano(data), gold_by)


IMPORTERS = {"jsonl": snapshot_jsonl_import, "label-studio": label_studio_import, "doccano": doccano_import}


def _check(project: Project, documents: list[ImportedDocument], gold_by) -> tuple[dict, list[str]]:
    """Everything that can be checked before writing; returns the users by name and the problems."""
    problems = []
    labels = set(project.span_labels.values_list("name", flat=True))
    relation_types = set(project.relation_types.values_list("name", flat=True))
    topics = set(project.topics.values_list("name", flat=True))
    targets = set(project.stance_targets.values_list("name", flat=True))
    values = set(project.stance_values.values_list("name", flat=True))
    names = {a.annotator for d in documents for a in d.annotations if a.annotator is not None}
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names, memberships__project=project)}
    existing = {}
    hashes = [sha256(normalise(d.text)) for d in documents]
    for start in range(0, len(hashes), 500):
        for article in project.articles.filter(sha256__in=hashes[start : start + 500]).prefetch_related("annotations__annotator"):
            existing[article.sha256] = article
    taken = set()  # (sha256, who) already annotated, in the project or earlier in the file
    for article in existing.values():
        for annotation in article.annotations.all():
            who = "gold" if annotation.kind == Annotation.Kind.GOLD else annotation.annotator.get_username()
            taken.add((article.sha256, who))

    for document, digest in zip(documents, hashes):
        text = normalise(document.text)
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
            if annotation.status not in Annotation.Status.values:
                problems.append(f"{place}: unknown status “{annotation.status}”")
            keys = set()
            for span in annotation.spans:
                if span.label not in labels:
                    problems.append(f"{place}: unknown span label “{span.label}”")
                try:
                    services.span_check_offsets(article=probe, start=span.start, end=span.end, text=span.text)
                except ValidationError as error:
                    problems.append(f"{place}: {error.messages[0]}")
                keys.add(span.key)
            for kind, source, target in annotation.relations:
                if kind not in relation_types:
                    problems.append(f"{place}: unknown relation type “{kind}”")
                if source not in keys or target not in keys:
                    problems.append(f"{place}: a “{kind}” relation links a span that is not in the annotation")
            for topic in annotation.topics:
                if topic not in topics:
                    problems.append(f"{place}: unknown topic “{topic}”")
            for target, value in annotation.stance.items():
                if target not in targets or value not in values:
                    problems.append(f"{place}: unknown stance “{target}: {value}”")
    return users, problems


def _import(project: Project, documents: list[ImportedDocument], gold_by) -> ImportResult:
    users, problems = _check(project, documents, gold_by)
    if problems:
        raise ImportFailed(problems)
    result = ImportResult()
    with transaction.atomic():
        articles = _articles(project, documents, result)
        for document in documents:
            article = articles[sha256(normalise(document.text))]
            for imported in document.annotations:
                try:
                    _write(project, article, imported, users, gold_by)
                except ValidationError as error:
                    raise ImportFailed([f"{document.place}: {m}" for m in error.messages]) from error
                result.annotations += 1
                result.spans += len(imported.spans)
    return result


def _articles(project: Project, documents: list[ImportedDocument], result: ImportResult) -> dict[str, Article]:
    """The project's article for each document's text; the new texts imported as one batch."""
    rows, seen = [], set()
    for document in documents:
        digest = sha256(normalise(document.text))
        if digest not in seen:
            seen.add(digest)
            rows.append({"text": document.text, **document.fields})
    existing = set(project.articles.filter(sha256__in=list(seen)).values_list("sha256", flat=True))
    new = [row for row in rows if sha256(normalise(row["text"])) not in existing]
    files = [
        (f"import-{n}.jsonl", "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in new[start : start + ARTICLES_PER_FILE]).encode())
        for n, start in enumerate(range(0, len(new), ARTICLES_PER_FILE), start=1)
    ]
    if files:
        report = article_import(project=project, files=files)
        if report.errors:
            raise ImportFailed([str(issue) for issue in report.errors])
        result.articles_created = len(report.created)
    result.articles_matched = len(rows) - len(new)
    return {a.sha256: a for a in project.articles.filter(sha256__in=list(seen))}


def _write(project: Project, article: Article, imported: ImportedAnnotation, users: dict, gold_by) -> None:
    if imported.kind == Annotation.Kind.GOLD and imported.annotator is None:
        actor = gold_by
    else:
        actor = users[imported.annotator]
    if imported.kind == Annotation.Kind.GOLD:
        annotation = Annotation.objects.create(article=article, annotator=actor, kind=Annotation.Kind.GOLD)
    else:
        annotation = services.annotation_get_or_create(article=article, annotator=actor)
    labels = {label.name: label for label in project.span_labels.all()}
    made = {}
    for span in imported.spans:
        made[span.key] = services.span_add(
            annotation=annotation, actor=actor, label=labels[span.label], start=span.start, end=span.end,
            text=span.text, attributes=span.attributes, client_id=uuid.uuid4(),
        )
    relation_types = {r.name: r for r in project.relation_types.all()}
    for kind, source, target in imported.relations:
        services.relation_create(
            relation_type=relation_types[kind], source=made[source], target=made[target], actor=actor
        )
    if imported.topics or imported.stance:
        services.document_labels_set(
            annotation=annotation,
            actor=actor,
            topic_ids=list(project.topics.filter(name__in=imported.topics).values_list("id", flat=True)),
            stances={
                project.stance_targets.get(name=t).id: project.stance_values.get(name=v).id
                for t, v in imported.stance.items()
            },
        )
    if imported.status == Annotation.Status.SUBMITTED:
        services.annotation_submit(annotation=annotation, actor=actor)
    elif imported.status == Annotation.Status.SKIPPED:
        services.annotation_skip(annotation=annotation, reason="Skipped before it was imported", actor=actor)
