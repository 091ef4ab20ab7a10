"""The labelling page's query count does not grow with the article's spans (no N+1)."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.labelling.models import Annotation, Span
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def page_queries(client, project, article) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("label_article", args=[project.id, article.id]))
    assert response.status_code == 200
    return len(queries)


def add_spans(article, annotator, labels, count, *, within_lines=False):
    """`count` spans of three characters, one at each offset from the start; `within_lines`: none
    over a line break (those are left out, and more made after them)."""
    annotation, _ = Annotation.objects.get_or_create(article=article, annotator=annotator)
    starts = (i for i in range(len(article.text) - 2) if not within_lines or "\n" not in article.text[i : i + 3])
    Span.objects.bulk_create(
        Span(annotation=annotation, label=labels[i % len(labels)], start=i, end=i + 3, text=article.text[i : i + 3])
        for i, _ in zip(starts, range(count))
    )


def test_labelling_page_queries_do_not_grow_with_spans(client, project, analyst):
    labels = list(project.span_labels.all())
    few, many = (ArticleFactory(project=project, text=letter * 600) for letter in "xy")
    add_spans(few, analyst, labels, 3)
    add_spans(many, analyst, labels, 300)
    client.force_login(analyst)
    # 18: the list is a page, so its count is a query of its own; one asks whether the article
    # was reviewed (which makes the page read-only); one reads the suggestions not yet decided.
    assert page_queries(client, project, few) == page_queries(client, project, many) <= 18


def save_queries(client, project, article, label) -> tuple[int, str]:
    start = 300
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("span_create", args=[project.id, article.id]),
            {"label": label.id, "start": start, "end": start + 5, "text": article.text[start : start + 5],
             "client_id": str(uuid.uuid4())},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 201
    return len(queries), response.content.decode()


def few_and_many(client, project, analyst):
    """Two articles of 20 lines, with 3 and with 300 of the analyst's spans, which stay inside their
    lines as nearly all spans do; the analyst logged in."""
    labels = list(project.span_labels.all())
    few, many = (ArticleFactory(project=project, text="\n".join([letter * 99] * 20)) for letter in "xy")
    add_spans(few, analyst, labels, 3, within_lines=True)
    add_spans(many, analyst, labels, 300, within_lines=True)
    client.force_login(analyst)
    return labels, few, many


def test_span_save_queries_do_not_grow_with_spans_and_it_sends_one_paragraph(client, project, analyst):
    labels, few, many = few_and_many(client, project, analyst)
    (few_count, _), (many_count, answer) = (save_queries(client, project, a, labels[0]) for a in (few, many))
    # 22: the spans around the new one (one read of its line, from the index alone) and the link
    # choices near it (two reads, one either side) are three reads where one read every span
    # (issue #17: 50,000 of them took seconds). The list's position of the new span is told by the
    # spans around it; only when none follows it there (on the article with few spans) is it a
    # read of its own: 23. One more asks whether the new span is over a suggestion of its label
    # (which it then decides). The annotation is locked once, by `annotation_claim`, not again by
    # the service.
    assert many_count == 22 and few_count == 23
    assert answer.count("<p id=") == 1 and 'id="para-300"' in answer


def change_queries(client, project, article, name, span, data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse(name, args=[project.id, article.id, span.id]), data or {}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    return len(queries)


def test_span_edit_and_delete_queries_do_not_grow_with_spans(client, project, analyst):
    labels, few, many = few_and_many(client, project, analyst)
    edits, deletes = [], []
    for article in (few, many):
        span = Span.objects.filter(annotation__article=article).order_by("id").first()
        edits.append(change_queries(client, project, article, "span_update", span, {"label": labels[1].id}))
        deletes.append(change_queries(client, project, article, "span_delete", span))
    # A label change also drops the links it cannot keep; the link choices near it are two reads of their own.
    # The annotation is locked once, by the view, not again by the service.
    assert edits[0] == edits[1] <= 24
    # The spans around it, which also say whether the list still has spans; one counts the links Undo will not
    # bring back; one more forgets the span on the suggestion decision that made it, if any (SET NULL); one reads
    # the links the deletion ends, for their lines in the history.
    assert deletes[0] == deletes[1] <= 20


def test_spans_over_line_breaks_around_a_save_cost_one_read_more(client, project, analyst):
    # A save reads the spans of the lines it redraws; spans that reach over a line break (here a
    # chain of them from the article's start to the new span's line) are read in one more query.
    labels = list(project.span_labels.all())
    within, across = (ArticleFactory(project=project, text="\n".join([letter * 99] * 20)) for letter in "vw")
    add_spans(within, analyst, labels, 320, within_lines=True)
    add_spans(across, analyst, labels, 320)
    client.force_login(analyst)
    (within_count, _), (across_count, answer) = (save_queries(client, project, a, labels[0]) for a in (within, across))
    assert across_count == within_count + 1
    assert re.findall(r'<p id="para-(\d+)"', answer) == ["300"]
