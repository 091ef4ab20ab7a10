"""One canonical record per article: the text and every annotation on it.

Every format writes from these records. Reading is chunked (articles with their annotations
prefetched a batch at a time), so memory stays flat however large the project.
"""

from collections.abc import Iterator

from django.db.models import Prefetch

from annotator.labelling.models import Annotation, Relation, Span, Stance
from annotator.projects.models import Project


class OffsetMismatch(Exception):
    """A stored span whose offsets no longer select its text: refuse to export it silently."""


def article_records(project: Project, *, annotator=None, chunk_size: int = 500) -> Iterator[dict]:
    """Every article of the project; with `annotator`, only that person's annotations on them."""
    annotations = Annotation.objects.select_related("annotator").prefetch_related(
        Prefetch("spans", queryset=Span.objects.select_related("label").order_by("start", "-end", "id")),
        Prefetch("relations", queryset=Relation.objects.select_related("type").order_by("id")),
        Prefetch("stances", queryset=Stance.objects.select_related("target", "value")),
        "topics",
    )
    if annotator is not None:
        annotations = annotations.filter(annotator=annotator)
    articles = project.articles.order_by("id").prefetch_related(
        Prefetch("annotations", queryset=annotations.order_by("annotator__username", "id"))
    )
    for article in articles.iterator(chunk_size=chunk_size):
        yield article_record(article)


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
        "status": annotation.status,
        "spans": spans,
        "relations": [
            {"type": r.type.name, "source": r.source_id, "target": r.target_id} for r in annotation.relations.all()
        ],
        "topics": sorted(t.name for t in annotation.topics.all()),
        "stance": {s.target.name: s.value.name for s in annotation.stances.all()},
    }
