"""Reads for review: which articles wait for a reviewer, and how their analysts disagree.

Disagreement needs the spans, so it is worked out in Python; the reads fetch a few columns
of every candidate article's submitted annotations in a fixed number of queries, however many
articles there are (a project of thousands of articles holds its candidates' spans in memory
for the length of one request, which is a few megabytes).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from annotator.corpus.models import Article
from annotator.labelling.models import Annotation, Relation, Span, Stance
from annotator.projects.models import Project

from .compare import disagreement_kinds, link_key

SUBMITTED = Q(annotations__kind=Annotation.Kind.ANALYST, annotations__status=Annotation.Status.SUBMITTED)


@dataclass
class Analysed:
    """One article's submitted analyst work, as the comparison needs it."""

    spans: dict[int, list] = field(default_factory=lambda: defaultdict(list))  # annotation id -> spans
    topics: dict[int, set] = field(default_factory=lambda: defaultdict(set))
    stances: dict[int, dict] = field(default_factory=lambda: defaultdict(dict))
    links: dict[int, set] = field(default_factory=lambda: defaultdict(set))
    annotations: list[int] = field(default_factory=list)

    def kinds(self) -> set[str]:
        return disagreement_kinds(
            [self.spans[a] for a in self.annotations],
            [self.topics[a] for a in self.annotations],
            [self.stances[a] for a in self.annotations],
            [self.links[a] for a in self.annotations],
        )


def disagreements(articles) -> dict[int, set[str]]:
    """Article id -> how its submitted analyst annotations disagree, for a queryset of articles.

    Five queries whatever the number of articles: annotations, spans, topics, stances, links.
    """
    annotations = Annotation.objects.filter(
        article__in=articles.values("pk"), kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED
    )
    by_article: dict[int, Analysed] = defaultdict(Analysed)
    article_of = {}
    for annotation_id, article_id in annotations.order_by("id").values_list("id", "article_id"):
        by_article[article_id].annotations.append(annotation_id)
        article_of[annotation_id] = article_id
    for span in Span.objects.filter(annotation__in=annotations.values("pk")).only(
        "annotation_id", "label_id", "start", "end", "attributes"
    ):
        by_article[article_of[span.annotation_id]].spans[span.annotation_id].append(span)
    topics = Annotation.topics.through.objects.filter(annotation__in=annotations.values("pk"))
    for annotation_id, topic_id in topics.values_list("annotation_id", "topic_id"):
        by_article[article_of[annotation_id]].topics[annotation_id].add(topic_id)
    stances = Stance.objects.filter(annotation__in=annotations.values("pk"))
    for annotation_id, target_id, value_id in stances.values_list("annotation_id", "target_id", "value_id"):
        by_article[article_of[annotation_id]].stances[annotation_id][target_id] = value_id
    relations = Relation.objects.filter(annotation__in=annotations.values("pk")).values_list(
        "annotation_id", "type_id", "source__label_id", "source__start", "source__end",
        "target__label_id", "target__start", "target__end",
    )
    for annotation_id, type_id, *ends in relations:
        links = by_article[article_of[annotation_id]].links[annotation_id]
        links.add(link_key(type_id, tuple(ends[:3]), tuple(ends[3:])))
    return {article_id: analysed.kinds() for article_id, analysed in by_article.items()}


def _with_review_state(articles):
    gold = Annotation.objects.filter(article=OuterRef("pk"), kind=Annotation.Kind.GOLD)
    return articles.annotate(
        submitted=Count("annotations", filter=SUBMITTED),
        reviewed=Exists(gold.filter(status=Annotation.Status.SUBMITTED)),
        gold_version=Subquery(gold.values("version")[:1]),
        reviewed_at=Subquery(gold.values("submitted_at")[:1]),
    ).only("id", "title", "language")


def review_queue(project: Project) -> list:
    """Articles that need review: disagreements first, then those all `overlap` analysts submitted.

    An article waits as soon as two submitted annotations disagree, even before the last of its
    `overlap` analysts submits; one that nobody has submitted twice, and that is not complete,
    does not wait yet. Each article gets `disagreement` (a sorted list of kinds).
    """
    unreviewed = _with_review_state(project.articles).filter(reviewed=False)
    candidates = list(unreviewed.filter(submitted__gte=min(2, project.overlap)).order_by("id"))
    kinds = disagreements(unreviewed.filter(submitted__gte=2))
    waiting = []
    for article in candidates:
        article.disagreement = sorted(kinds.get(article.pk, ()))
        if article.disagreement or article.submitted >= project.overlap:
            waiting.append(article)
    waiting.sort(key=lambda a: (not a.disagreement, a.pk))
    return waiting


def reviewed_articles(project: Project):
    """Articles whose gold is marked reviewed, most recently reviewed first."""
    return _with_review_state(project.articles).filter(reviewed=True).order_by("-reviewed_at", "-id")


def with_disagreements(articles) -> list:
    """The given (already paginated) articles, each with `disagreement`."""
    articles = list(articles)
    kinds = disagreements(Article.objects.filter(pk__in=[a.pk for a in articles]))
    for article in articles:
        article.disagreement = sorted(kinds.get(article.pk, ()))
    return articles
