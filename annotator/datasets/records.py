"""One canonical record per article: the text and every annotation on it.

Every format writes from these records. Reading is chunked (articles with their annotations
prefetched a batch at a time), so memory stays flat however large the project.

`article_records` is the whole project as labelled so far (the JSONL download).
`selected_records` is what a dataset snapshot holds: a `Selection` (scope and filters) picks
the annotations and the articles; see `Scope` for what each scope means.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

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


def _annotations_prefetch(annotations: QuerySet) -> Prefetch:
    annotations = annotations.select_related("annotator").prefetch_related(
        Prefetch("spans", queryset=Span.objects.select_related("label").order_by("start", "-end", "id")),
        Prefetch("relations", queryset=Relation.objects.select_related("type").order_by("id")),
        Prefetch("stances", queryset=Stance.objects.select_related("target", "value")),
        "topics",
    )
    # Gold first, then analysts by name: the same order in every export.
    return Prefetch("annotations", queryset=annotations.order_by("-kind", "annotator__username", "id"))


def _records(articles: QuerySet, annotations: QuerySet, chunk_size: int) -> Iterator[dict]:
    articles = articles.order_by("id").prefetch_related(_annotations_prefetch(annotations))
    for article in articles.iterator(chunk_size=chunk_size):
        yield article_record(article)


def article_records(project: Project, *, annotator=None, chunk_size: int = 500) -> Iterator[dict]:
    """Every article of the project; with `annotator`, only that person's annotations on them."""
    annotations = Annotation.objects.all()
    if annotator is not None:
        annotations = annotations.filter(annotator=annotator)
    return _records(project.articles.all(), annotations, chunk_size)


def selected_records(
    project: Project,
    selection: Selection,
    *,
    article_ids: Iterable[int] | None = None,
    left_out: Counter | None = None,
    chunk_size: int = 500,
) -> Iterator[dict | None]:
    """The selection's records in article order, each holding only the annotations it exports.

    A candidate article the selection leaves out yields None (so a caller can count progress)
    and, with `left_out`, adds one to the count of its reason. With `article_ids`, only those
    articles (a snapshot's second pass writes exactly the articles its first pass split, even
    if someone submits more work in between).
    """
    articles = selection.articles(project)
    wanted = None if article_ids is None else set(article_ids)
    for record in _records(articles, selection.annotations(), chunk_size):
        if wanted is not None and record["id"] not in wanted:
            yield None
            continue
        scoped, reason = selection.scoped(record)
        if scoped is None and left_out is not None:
            left_out[reason] += 1
        yield scoped


def article_record(article) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "text": article.text,
        "sha256": article.sha256,
        "source": article.source,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
        "metadata": article.metadata,
        "annotations": [annotation_record(article, a) for a in article.annotations.all()],
    }


def annotation_record(article, annotation: Annotation) -> dict:
    spans = []
    for span in annotation.spans.all():
        if article.text[span.start : span.end] != span.text:
            raise OffsetMismatch(f"Span {span.id} of article {article.id} does not match the article text.")
        spans.append(
            {
                "id": span.id,
                "start": span.start,
                "end": span.end,
                "label": span.label.name,
                "text": span.text,
                "attributes": span.attributes,
            }
        )
    return {
        "annotator": annotation.annotator.get_username(),
        "kind": annotation.kind,
        "status": annotation.status,
        "spans": spans,
        "relations": [
            {"type": r.type.name, "source": r.source_id, "target": r.target_id} for r in annotation.relations.all()
        ],
        "topics": sorted(t.name for t in annotation.topics.all()),
        "stance": {s.target.name: s.value.name for s in annotation.stances.all()},
    }


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
        spans.append({**span, "attributes": attributes})
    slot_of = [{s["id"]: slot for slot, s in by_key.items()} for by_key in keyed]

    def relation_keys(index: int) -> set:
        return {
            (r["type"], slot_of[index][r["source"]], slot_of[index][r["target"]])
            for r in annotations[index]["relations"]
        }

    shared_relations = set.intersection(*(relation_keys(i) for i in range(len(annotations))))
    relations = [r for r in first["relations"] if (r["type"], slot_of[0][r["source"]], slot_of[0][r["target"]]) in shared_relations]
    return {
        "annotator": None,
        "kind": "agreed",
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
