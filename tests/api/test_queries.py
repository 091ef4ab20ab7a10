"""How many queries a span saved through the API costs, pinned so that it cannot grow unnoticed.

Counted in a test's transaction, where each `transaction.atomic` is a SAVEPOINT and its RELEASE
(two of the counted statements per block); on a server they are BEGIN and COMMIT instead.
A span on an article the analyst has started: the token (one query; its last use is written at
most once a minute), the project with the caller's role, the article, the label, the annotation
locked with whether the article is reviewed, the spans it might repeat, the span, its change
record and the annotation's version: 9 statements and 2 blocks.
"""

import uuid

import pytest

from annotator.labelling.models import Span
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

TEXT = "Lavrov said “NATO is expanding” on Monday. " * 20
STARTED = 13
# The first span also makes the annotation, taking one of the article's slots: the count before
# (overlap, holders and whether the article is reviewed, in one query), the insert in its own
# block, and at the end the lock and the count under it (one call of `labelling_claim_count`).
FIRST = 18


@pytest.fixture
def span(client, bearer):
    analyst = UserFactory(username="ana")
    project = make_project(name="Queries", analyst=analyst)
    article = ArticleFactory(project=project, text=TEXT)
    headers = bearer(analyst)
    url = f"/api/v1/projects/{project.id}/articles/{article.id}/spans"
    client.get(f"/api/v1/projects/{project.id}", headers=headers)  # the token's last use is stamped here

    def post(start, attributes=None):
        body = {"label": "Claim", "start": start, "end": start + 6, "text": TEXT[start : start + 6],
                "client_id": str(uuid.uuid4())}
        if attributes:
            body["attributes"] = attributes
        response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code == 201, response.content
        return response.json()

    return post


def test_a_span_on_a_started_article(span, django_assert_max_num_queries):
    span(0)
    with django_assert_max_num_queries(STARTED):
        span(44)
    assert Span.objects.count() == 2


def test_the_first_span_which_takes_a_slot(span, django_assert_max_num_queries):
    with django_assert_max_num_queries(FIRST):
        span(0)
    assert Span.objects.count() == 1


def test_attributes_cost_the_read_of_the_labels_attributes_only_when_sent(span, django_assert_max_num_queries):
    span(0)
    with django_assert_max_num_queries(STARTED + 1):
        saved = span(44, {"claimant": "Lavrov"})
    assert saved["attributes"] == {"claimant": "Lavrov"}
