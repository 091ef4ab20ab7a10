"""One canonical record per article: the text and every annotation on it.

Every format writes from these records. Reading is chunked (a few flat queries per chunk of
articles), so memory stays flat however large the project.

`article_records` is the whole project as labelled so far (the JSONL download).
`selected_records` is what a dataset snapshot holds: a `Selection` (scope and filters) picks
the annotations and the articles; see `Scope` for what each scope means.

Provenance: each annotation has its `id`, `annotator`, `kind`, `status`, `created` and `updated`
(ISO 8601 UTC text, `UtcText`), each span its `id`, `created` and `updated`, and the article its
`language`; each span also says which suggester it came from (`suggested_by`, null when made by
hand). Writers read keys added since (a gold span's `review`, ...) with `.get()`.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import orjson
from django.db import connection, models
from django.db.models import Exists, Func, OuterRef, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from annotator.bulk import collector_paused
from annotator.labelling.models import Annotation, Relation, Span, Stance
from annotator.projects.models import Project


class OffsetMismatch(Exception):
    """A stored span whose offsets no longer select its text: refuse to export it silently."""


class Scope(models.TextChoices):
    """Which annotations a snapshot is made of. Only submitted work is ever exported.

    - gold: each article's gold annotation once a reviewer marked it reviewed (submitted).
    - analysts: every analyst's submitted annotation; an article appears once with all of them,
      and every format writes one example per annotation.
    - analyst: one analyst's submitted annotations.
    - agreed: articles that at least two analysts submitted and whose submitted annotations all
      hold exactly the same spans (same label, start and end; duplicates counted). Each such
      article gets one consensus annotation (`kind` "agreed", `annotator` null, the analysts in
      `agreed_by`): those spans, the attribute values every analyst gave alike, the relations
      every analyst drew, the topics every analyst chose and the stances every analyst gave alike.
    """

    GOLD = "gold", "Gold: reviewed annotations"
    ANALYSTS = "analysts", "Every analyst's submitted annotations"
    ANALYST = "analyst", "One analyst's submitted annotations"
    AGREED = "agreed", "Agreed: articles where all submitted analysts mark the same spans"


@dataclass(frozen=True)
class Selection:
    scope: str = Scope.GOLD
    analyst_id: int | None = None
    topics: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    sources: tuple[str, ...] = ()

    @classmethod
    def from_parameters(cls, parameters: dict) -> "Selection":
        filters = parameters.get("filters", {})
        return cls(
            scope=parameters["scope"],
            analyst_id=parameters.get("analyst"),
            topics=tuple(filters.get("topics", ())),
            published_from=date.fromisoformat(filters["published_from"]) if filters.get("published_from") else None,
            published_to=date.fromisoformat(filters["published_to"]) if filters.get("published_to") else None,
            sources=tuple(filters.get("sources", ())),
        )

    def annotations(self) -> QuerySet:
        submitted = Annotation.objects.filter(status=Annotation.Status.SUBMITTED)
        if self.scope == Scope.GOLD:
            return submitted.filter(kind=Annotation.Kind.GOLD)
        submitted = submitted.filter(kind=Annotation.Kind.ANALYST)
        if self.scope == Scope.ANALYST:
            return submitted.filter(annotator_id=self.analyst_id)
        return submitted

    def articles(self, project: Project) -> QuerySet:
        """The candidate articles, before the checks made on their records (agreement, topics)."""
        articles = project.articles.filter(Exists(self.annotations().filter(article=OuterRef("pk"))))
        if self.published_from:
            articles = articles.filter(published__gte=self.published_from)
        if self.published_to:
            articles = articles.filter(published__lte=self.published_to)
        if self.sources:
            articles = articles.filter(source__in=self.sources)
        return articles.order_by("id")

    def scoped(self, record: dict) -> tuple[dict | None, str]:
        """The record as this selection exports it, or None and why the article is left out."""
        annotations = record["annotations"]
        if self.scope == Scope.AGREED:
            consensus = agreed_annotation(annotations)
            if consensus is None:
                return None, "no_agreement"
            annotations = [consensus]
        if not annotations:
            return None, "no_annotation"
        if self.topics and not any(set(a["topics"]) & set(self.topics) for a in annotations):
            return None, "topic_filter"
        return {**record, "annotations": annotations}, ""


class UtcText(Func):
    """A timestamp as ISO 8601 text in UTC with microseconds, "2025-01-02T03:04:05.600000Z", made by
    the database: read as datetimes and formatted here, the spans' two times took longer than all
    their other columns together (`docs/performance.md`)."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps SQLite's times as UTC text, "2025-01-02 03:04:05[.600000]".
        template = "substr(replace(%(expressions)s, ' ', 'T') || '.000000', 1, 26) || 'Z'"
        return self.as_sql(compiler, connection, template=template, **extra)


ARTICLE_FIELDS = ("id", "title", "text", "sha256", "source", "url", "published", "language", "metadata")


def _records(
    project: Project, articles: QuerySet, annotations: QuerySet, chunk_size: int, after: int = 0
) -> Iterator[dict]:
    """Articles in id order (those after `after`), a chunk at a time (keyset pagination), each
    with its annotations.

    Every chunk is six flat queries of plain values (no model instances), so the time per
    article is small and the memory is one chunk's worth, whatever the project's size.
    """
    labels = _labels(project)
    last_id = after
    while True:
        chunk = list(articles.filter(id__gt=last_id).order_by("id").values_list(*ARTICLE_FIELDS)[:chunk_size])
        if not chunk:
            return
        last_id = chunk[-1][0]
        yield from _chunk_records(chunk, annotations.filter(article_id__in=_any_of([row[0] for row in chunk])), labels)


def _labels(project: Project) -> dict[int, tuple[str, frozenset[str]]]:
    """Each span label's name and attribute names, by its id: the schema decides what a span exports.

    A value saved under a name its label no longer has (the attribute was deleted from the schema)
    stays on the span and in its history, and comes back if the attribute is added again, but is
    never exported; the labelling page drops it at the span's next edit.
    """
    names, attributes = {}, defaultdict(set)
    for label_id, label, name in project.span_labels.values_list("id", "name", "attributes__name"):
        names[label_id] = label
        if name is not None:
            attributes[label_id].add(name)
    return {label_id: (label, frozenset(attributes[label_id])) for label_id, label in names.items()}


def _any_of(ids: list[int]):
    """The ids for an `__in` filter: on PostgreSQL as one array parameter, not one per id.

    Binding a thousand parameters one by one (Django's lookups, then psycopg's query parsing)
    cost about a third of an export's time; the array is given as its text, `{1,2,3}`, which
    psycopg would otherwise make an element at a time.
    """
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", ["{" + ",".join(map(str, ids)) + "}"])
    return ids


def _span_order(span: dict) -> tuple[int, int, int]:
    return span["start"], -span["end"], span["id"]


@collector_paused()
def _chunk_records(
    articles: list[tuple], annotations: QuerySet, labels: dict[int, tuple[str, frozenset[str]]]
) -> list[dict]:
    # Gold first, then analysts by name: the same order in every export.
    rows = list(
        annotations.order_by("article_id", "-kind", "annotator__username", "id").values_list(
            "id", "article_id", "annotator__username", "kind", "status", UtcText("created_at"), UtcText("updated_at")
        )
    )
    ids = [row[0] for row in rows]
    texts = {row[0]: row[2] for row in articles}
    text_of = {row[0]: texts[row[1]] for row in rows}  # each annotation's article text
    spans, relations, topics, stances = (defaultdict(list) for _ in range(4))
    # Each span's dict is made here, once. The spans are not sorted by the database (its sort of
    # every row, text and times included, was about a third of the query's time) but per
    # annotation below; the label is looked up by id, not joined.
    for annotation_id, span_id, start, end, label_id, text, attributes, created, updated, review, suggested_by in (
        Span.objects.filter(annotation_id__in=_any_of(ids))
        .order_by()  # not even the model's ordering
        # Most spans have no attributes and no review: read the JSON as text and decode only the others.
        .values_list(
            "annotation_id", "id", "start", "end", "label_id", "text", Cast("attributes", TextField()),
            UtcText("created_at"), UtcText("updated_at"), Cast("review", TextField()), "suggested_by",
        )
    ):
        if text_of[annotation_id][start:end] != text:
            article_id = next(row[1] for row in rows if row[0] == annotation_id)
            raise OffsetMismatch(f"Span {span_id} of article {article_id} does not match the article text.")
        label, names = labels[label_id]
        values = {}
        if attributes != "{}":
            values = {name: value for name, value in orjson.loads(attributes).items() if name in names}
        spans[annotation_id].append(
            {
                "id": span_id, "start": start, "end": end, "label": label, "text": text, "attributes": values,
                "created": created, "updated": updated, "review": None if review is None else orjson.loads(review),
                # Provenance: the suggester whose suggestion the analyst accepted or corrected into
                # this span ("rules:quotes", later "model:<version>"), null for a span made by hand.
                "suggested_by": suggested_by,
            }
        )
    for annotation_id, *relation in (
        Relation.objects.filter(annotation_id__in=_any_of(ids)).order_by("id").values_list(
            "annotation_id", "id", "type__name", "source_id", "target_id"
        )
    ):
        relations[annotation_id].append(relation)
    for annotation_id, name in Annotation.topics.through.objects.filter(annotation_id__in=_any_of(ids)).values_list(
        "annotation_id", "topic__name"
    ):
        topics[annotation_id].append(name)
    for annotation_id, target, value in (
        Stance.objects.filter(annotation_id__in=_any_of(ids))
        .order_by("annotation_id", "target__order", "target_id")
        .values_list("annotation_id", "target__name", "value__name")
    ):
        stances[annotation_id].append((target, value))

    by_article = defaultdict(list)
    for annotation_id, article_id, username, kind, status, created, updated in rows:
        by_article[article_id].append((annotation_id, username, kind, status, created, updated))
    records = []
    for article_id, title, text, sha256, source, url, published, language, metadata in articles:
        exported = []
        for annotation_id, username, kind, status, created, updated in by_article[article_id]:
            annotation_spans = spans[annotation_id]
            annotation_spans.sort(key=_span_order)
            exported.append(
                {
                    "id": annotation_id,
                    "annotator": username,
                    "kind": kind,
                    "status": status,
                    "created": created,
                    "updated": updated,
                    "spans": annotation_spans,
                    "relations": [
                        {"id": relation_id, "type": name, "source": source_id, "target": target_id}
                        for relation_id, name, source_id, target_id in relations[annotation_id]
                    ],
                    "topics": sorted(topics[annotation_id]),
                    "stance": dict(stances[annotation_id]),
                }
            )
        records.append({
            "id": article_id,
            "title": title,
            "text": text,
            "sha256": sha256,
            "source": source,
            "url": url,
            "published": published.isoformat() if published else None,
            "language": language,
            "metadata": metadata,
            "annotations": exported,
        })
    return records


def article_records(project: Project, *, annotator=None, chunk_size: int = 500) -> Iterator[dict]:
    """Every article of the project; with `annotator`, only that person's annotations on them."""
    annotations = Annotation.objects.all()
    if annotator is not None:
        annotations = annotations.filter(annotator=annotator)
    return _records(project, project.articles.all(), annotations, chunk_size)


def selected_records(
    project: Project,
    selection: Selection,
    *,
    after: int = 0,
    upto: int | None = None,
    left_out: Counter | None = None,
    chunk_size: int = 500,
) -> Iterator[dict | None]:
    """The selection's records in article order, each holding only the annotations it exports;
    with `after` and `upto`, only those of the articles whose ids are in that range (`upto`
    included: a snapshot's shard of them).

    A candidate article the selection leaves out yields None (so a caller can count progress)
    and, with `left_out`, adds one to the count of its reason.
    """
    articles = selection.articles(project)
    if upto is not None:
        articles = articles.filter(id__lte=upto)
    for record in _records(project, articles, selection.annotations(), chunk_size, after):
        scoped, reason = selection.scoped(record)
        if scoped is None and left_out is not None:
            left_out[reason] += 1
        yield scoped


def _span_key(span: dict) -> tuple[int, int, str]:
    return span["start"], span["end"], span["label"]


def agreed_annotation(annotations: list[dict]) -> dict | None:
    """The consensus of two or more annotations that hold exactly the same spans, else None."""
    if len(annotations) < 2:
        return None
    span_sets = [Counter(_span_key(s) for s in a["spans"]) for a in annotations]
    if any(spans != span_sets[0] for spans in span_sets[1:]):
        return None
    first, others = annotations[0], annotations[1:]
    # Each annotation's spans by (start, end, label); a duplicate pairs with its own n-th copy.
    keyed = []
    for annotation in annotations:
        seen: Counter = Counter()
        by_key = {}
        for span in annotation["spans"]:
            key = _span_key(span)
            by_key[(key, seen[key])] = span
            seen[key] += 1
        keyed.append(by_key)
    spans = []
    for slot, span in keyed[0].items():
        attributes = {
            name: value
            for name, value in sorted(span["attributes"].items())
            if all(other[slot]["attributes"].get(name) == value for other in keyed[1:])
        }
        # The analysts agree on the span, not on how each came to it: no one suggester is its provenance.
        spans.append({**span, "attributes": attributes, "suggested_by": None})
    slot_of = [{s["id"]: slot for slot, s in by_key.items()} for by_key in keyed]

    def relation_keys(index: int) -> set:
        return {
            (r["type"], slot_of[index][r["source"]], slot_of[index][r["target"]])
            for r in annotations[index]["relations"]
        }

    shared_relations = set.intersection(*(relation_keys(i) for i in range(len(annotations))))
    relations = [r for r in first["relations"] if (r["type"], slot_of[0][r["source"]], slot_of[0][r["target"]]) in shared_relations]
    # A consensus is made here, not stored: it has no id and no time of its own (its spans keep
    # the first analyst's ids and times, as they keep that analyst's text).
    return {
        "id": None,
        "annotator": None,
        "kind": "agreed",
        "created": None,
        "updated": None,
        "status": Annotation.Status.SUBMITTED,
        "agreed_by": [a["annotator"] for a in annotations],
        "spans": spans,
        "relations": relations,
        "topics": sorted(set(first["topics"]).intersection(*(a["topics"] for a in others))),
        "stance": {
            target: value
            for target, value in sorted(first["stance"].items())
            if all(a["stance"].get(target) == value for a in others)
        },
    }
