import datetime

from annotator.agreement.data import DateRange, project_agreement, submitted_codings
from annotator.agreement.metrics import Coding, SpanMark
from annotator.labelling.models import Annotation
from tests.factories import ArticleFactory, make_project

from .helpers import annotate, at


def test_loads_topics_stances_and_spans_of_submitted_annotations(project, analysts):
    ann, ben, _ = analysts
    article = ArticleFactory(project=project)
    annotate(
        article,
        ann,
        topics=["Armenia", "Syria"],
        stances={"NATO": "critical", "the West": "neutral"},
        spans=[("Claim", 0, 6), ("Quote", 12, 20)],
    )
    annotate(article, ben)
    codings = sorted(submitted_codings(project), key=lambda c: c.analyst)
    assert codings == [
        Coding(
            article=article.id,
            analyst="ann",
            topics=frozenset({"Armenia", "Syria"}),
            stances={"NATO": "critical", "the West": "neutral"},
            spans=(SpanMark("Claim", 0, 6), SpanMark("Quote", 12, 20)),
        ),
        Coding(article=article.id, analyst="ben", topics=frozenset(), stances={}, spans=()),
    ]


def test_ignores_work_in_progress_skipped_gold_and_other_projects(project, analysts, reviewer, analyst):
    ann, ben, cat = analysts
    article = ArticleFactory(project=project)
    annotate(article, ann, topics=["Armenia"])
    annotate(article, ben, topics=["Armenia"], status=Annotation.Status.IN_PROGRESS)
    annotate(article, cat, topics=["Armenia"], status=Annotation.Status.SKIPPED)
    annotate(article, reviewer, topics=["Armenia"], kind=Annotation.Kind.GOLD)
    elsewhere = make_project(name="Elsewhere", analyst=analyst)
    annotate(ArticleFactory(project=elsewhere), analyst, topics=["Armenia"])

    assert [(c.article, c.analyst) for c in submitted_codings(project)] == [(article.id, "ann")]
    result = project_agreement(project)
    assert (result.annotations, result.analysts, result.pairs) == (1, ["ann"], [])


def test_date_range_includes_both_days_whole(project, analysts):
    ann, ben, cat = analysts
    article = ArticleFactory(project=project)
    annotate(article, ann, submitted=at("2025-01-10", hour=0))
    annotate(article, ben, submitted=at("2025-01-20", hour=23))
    annotate(article, cat, submitted=at("2025-01-21", hour=0))

    def analysts_in(since=None, until=None):
        dates = DateRange(since and datetime.date.fromisoformat(since), until and datetime.date.fromisoformat(until))
        return sorted(c.analyst for c in submitted_codings(project, dates))

    assert analysts_in() == ["ann", "ben", "cat"]
    assert analysts_in("2025-01-10", "2025-01-20") == ["ann", "ben"]
    assert analysts_in("2025-01-11") == ["ben", "cat"]
    assert analysts_in(until="2025-01-10") == ["ann"]
    assert analysts_in("2025-01-21", "2025-01-21") == ["cat"]
    assert analysts_in("2025-02-01") == []


def test_agreement_of_a_project_from_the_database(project, analysts):
    # The three-analyst table of test_metrics: alpha(Armenia) = 1/15, kappa(ann, ben) = 0.4.
    ann, ben, cat = analysts
    one, two, three = (ArticleFactory(project=project) for _ in range(3))
    for user in (ann, ben, cat):
        annotate(one, user, topics=["Armenia"])
    annotate(two, ann)
    annotate(two, ben)
    annotate(two, cat, topics=["Armenia"])
    annotate(three, ann, topics=["Armenia"])
    annotate(three, ben)
    annotate(three, cat, status=Annotation.Status.SKIPPED)

    result = project_agreement(project)
    alpha = dict(result.topic_alpha)
    assert round(alpha["Armenia"].value, 6) == round(1 / 15, 6)
    assert alpha["Armenia"].n == 3
    assert [name for name, _ in result.topic_alpha] == [t.name for t in project.topics.all()]
    ann_ben = result.pairs[0]
    assert (ann_ben.first, ann_ben.second, ann_ben.shared) == ("ann", "ben", 3)
    assert round(dict(ann_ben.topic_kappa)["Armenia"].value, 6) == 0.4
