"""Two reviewers saving at once: one wins, the other is told, one gold row.

On PostgreSQL row locks decide; on SQLite, immediate transactions serialise the writers.
"""

import threading

import pytest
from django.db import connections

from annotator.labelling.models import Annotation
from annotator.labelling.services import StaleVersion
from annotator.review import services

from .helpers import mark, submit

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # noqa: BLE001 - the test looks at which one it was
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("attempt", range(5))
def test_two_first_adjudications_at_once_make_one_gold(quote_article, analyst, second_analyst, labels, reviewer,
                                                       second_reviewer, attempt):
    first = mark(quote_article, analyst, labels["Quote"], "the West is trying")
    second = mark(quote_article, second_analyst, labels["Claim"], "the West is trying")
    submit(quote_article, analyst)
    submit(quote_article, second_analyst)
    results = race(
        lambda: services.gold_span_accept(article=quote_article, reviewer=reviewer, span=first, expected_version=0),
        lambda: services.gold_span_accept(article=quote_article, reviewer=second_reviewer, span=second,
                                          expected_version=0),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], StaleVersion), results
    [gold] = Annotation.objects.filter(article=quote_article, kind="gold")
    assert gold.spans.count() == 1 and gold.changes.count() == 1 and gold.version == 2


def test_two_saves_of_the_same_version_at_once(quote_article, analyst, labels, reviewer, second_reviewer):
    span = mark(quote_article, analyst, labels["Quote"], "the West is trying")
    submit(quote_article, analyst)
    services.gold_span_reject(article=quote_article, reviewer=reviewer, span=span, expected_version=0, reason="r")
    results = race(
        lambda: services.gold_span_accept(article=quote_article, reviewer=reviewer, span=span, expected_version=2),
        lambda: services.gold_mark_reviewed(article=quote_article, reviewer=second_reviewer, expected_version=2),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], StaleVersion), results
    gold = Annotation.objects.get(article=quote_article, kind="gold")
    assert gold.version == 3 and gold.changes.count() == 2
