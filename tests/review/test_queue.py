import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.labelling import services as labelling
from annotator.review import services
from annotator.review.queries import review_queue, reviewed_articles
from tests.factories import ArticleFactory

from .helpers import choose, mark, submit

pytestmark = pytest.mark.django_db


def labelled(project, title, analysts, labels, *, disagree=False, submitted=None, topics=None):
    """An article that each of `analysts` labels; `submitted` (default all) of them submit."""
    article = ArticleFactory(project=project, title=title)
    for i, user in enumerate(analysts):
        label = labels["Claim"] if disagree and i == 1 else labels["Quote"]
        mark(article, user, label, "the West is trying")
        if topics:
            choose(article, user, topics=topics[i])
    for user in analysts if submitted is None else submitted:
        submit(article, user)
    return article


@pytest.fixture
def both(analyst, second_analyst):
    return [analyst, second_analyst]


def test_disagreements_first_then_complete_articles(project, both, labels, reviewer):
    project.overlap = 2
    project.save()
    agree = labelled(project, "agree", both, labels)
    disagree = labelled(project, "disagree", both, labels, disagree=True)
    labelled(project, "one submitted", both, labels, disagree=True, submitted=both[:1])
    topics = labelled(project, "topics differ", both, labels, topics=[["Syria"], ["Iran nuclear deal (JCPOA)"]])
    reviewed = labelled(project, "reviewed", both, labels, disagree=True)
    services.gold_mark_reviewed(article=reviewed, reviewer=reviewer, expected_version=0)

    waiting = review_queue(project)
    assert [(a.title, a.submitted, a.disagreement) for a in waiting] == [
        ("disagree", 2, ["label"]),
        ("topics differ", 2, ["topics"]),
        ("agree", 2, []),
    ]
    assert [a.pk for a in waiting] == [disagree.pk, topics.pk, agree.pk]
    assert [a.title for a in reviewed_articles(project)] == ["reviewed"]


def test_a_disagreement_waits_before_every_analyst_submitted(project, both, labels):
    project.overlap = 3
    project.save()
    labelled(project, "agree, not complete", both, labels)
    labelled(project, "disagree, not complete", both, labels, disagree=True)
    assert [a.title for a in review_queue(project)] == ["disagree, not complete"]


def test_only_submitted_annotations_count(project, both, labels):
    # The second analyst disagrees, but has not submitted: one submitted annotation, complete at overlap 1.
    labelled(project, "half", both, labels, disagree=True, submitted=both[:1])
    [article] = review_queue(project)
    assert (article.submitted, article.disagreement) == (1, [])


def test_articles_of_other_projects_are_not_listed(project, both, labels):
    from tests.factories import make_project

    other = make_project(name="Other", analyst=both[0])
    other_labels = {label.name: label for label in other.span_labels.all()}
    labelled(other, "elsewhere", both[:1], other_labels)
    assert review_queue(project) == []


def queue_queries(client, project):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("review_queue", args=[project.id]))
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_articles(client, project, both, labels, reviewer):
    client.force_login(reviewer)
    for n in range(2):
        labelled(project, f"a{n}", both, labels, disagree=n % 2 == 0, topics=[["Syria"], ["Syria"]])
    done = labelled(project, "done", both, labels)
    services.gold_mark_reviewed(article=done, reviewer=reviewer, expected_version=0)
    few = queue_queries(client, project)
    for n in range(2, 8):
        labelled(project, f"a{n}", both, labels, disagree=n % 2 == 0, topics=[["Syria"], ["Ukraine"]])
    linked(project, "linked", both, labels, links={0})
    for n in range(3):
        extra = labelled(project, f"done{n}", both, labels, disagree=True)
        services.gold_mark_reviewed(article=extra, reviewer=reviewer, expected_version=0)
    many = queue_queries(client, project)
    assert few == many
    response = client.get(reverse("review_queue", args=[project.id]))
    assert response.context["waiting"].paginator.count == 9
    assert response.context["reviewed"].paginator.count == 4


def linked(project, title, analysts, labels, *, links):
    """Both analysts mark the same quote and source; those in `links` (indexes) link them."""
    article = ArticleFactory(project=project, title=title, text=f"Lavrov said “the West is trying”. ({title})")
    speaker = project.relation_types.get(name="speaker")
    for i, user in enumerate(analysts):
        quote = mark(article, user, labels["Quote"], "the West is trying")
        source = mark(article, user, labels["Source"], "Lavrov")
        if i in links:
            labelling.relation_create(relation_type=speaker, source=quote, target=source)
        submit(article, user)
    return article


def test_a_link_one_analyst_drew_and_another_did_not_is_a_disagreement(client, project, both, labels, reviewer):
    project.overlap = 3
    project.save()
    linked(project, "both linked", both, labels, links={0, 1})
    linked(project, "one linked", both, labels, links={0})
    linked(project, "none linked", both, labels, links=set())
    assert [(a.title, a.disagreement) for a in review_queue(project)] == [("one linked", ["links"])]
    client.force_login(reviewer)
    row = re.search(r"<tr class=\"disagree\">(.*?)</tr>", client.get(reverse("review_queue", args=[project.id]))
                    .content.decode(), re.S).group(1)
    assert "one linked" in row and "Disagree:</strong> links differ" in row
