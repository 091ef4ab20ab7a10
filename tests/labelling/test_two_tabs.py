"""The same analyst in two tabs: an edit made from a page that is out of date is refused, not applied."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from annotator.labelling import services
from annotator.labelling.models import Span
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def span(project, analyst):
    article = ArticleFactory(project=project, text="Lavrov said “NATO is expanding” today.")
    return services.span_create(article=article, annotator=analyst, label=project.span_labels.get(name="Quote"),
                                start=13, end=30, text="NATO is expanding", client_id=uuid.uuid4())


def test_a_span_edit_from_a_stale_page_is_refused(span):
    seen = services.state_token(services.span_state(span))  # what both tabs show
    services.span_update(span=Span.objects.get(pk=span.pk), label=span.label, attributes={"speaker": "Lavrov"}, seen=seen)
    with pytest.raises(ValidationError) as refused:
        services.span_update(span=Span.objects.get(pk=span.pk), label=span.label, attributes={"speaker": "Putin"}, seen=seen)
    assert refused.value.code == "stale"
    assert Span.objects.get(pk=span.pk).attributes == {"speaker": "Lavrov"}


def test_a_delete_from_a_stale_page_is_refused(span):
    seen = services.state_token(services.span_state(span))
    services.span_update(span=span, label=span.label, attributes={"speaker": "Lavrov"}, seen=seen)
    with pytest.raises(ValidationError):
        services.span_delete(span=Span.objects.get(pk=span.pk), seen=seen)
    assert Span.objects.filter(pk=span.pk).exists()


def test_topics_from_a_stale_page_are_refused(project, analyst, span):
    article = span.annotation.article
    seen = services.state_token(services.labels_state(span.annotation))
    armenia, syria = project.topics.get(name="Armenia"), project.topics.get(name="Syria")
    services.analyst_labels_set(article=article, annotator=analyst, topic_ids=[armenia.id], stances={}, seen=seen)
    with pytest.raises(ValidationError):
        services.analyst_labels_set(article=article, annotator=analyst, topic_ids=[syria.id], stances={}, seen=seen)
    assert list(span.annotation.topics.values_list("name", flat=True)) == ["Armenia"]


def test_a_retry_whose_first_send_arrived_is_accepted_not_refused(span):
    # The answer to an edit was lost; the page sends it again with the state it started from.
    seen = services.state_token(services.span_state(span))
    services.span_update(span=Span.objects.get(pk=span.pk), label=span.label, attributes={"speaker": "Lavrov"}, seen=seen)
    services.span_update(span=Span.objects.get(pk=span.pk), label=span.label, attributes={"speaker": "Lavrov"}, seen=seen)
    assert Span.objects.get(pk=span.pk).attributes == {"speaker": "Lavrov"}
    assert span.annotation.changes.filter(subject="span").count() == 2  # created, updated once


def test_topics_sent_again_after_they_arrived_are_accepted(project, analyst, span):
    article = span.annotation.article
    seen = services.state_token(services.labels_state(span.annotation))
    armenia = project.topics.get(name="Armenia")
    for _ in range(2):
        services.analyst_labels_set(article=article, annotator=analyst, topic_ids=[armenia.id], stances={}, seen=seen)
    assert list(span.annotation.topics.values_list("name", flat=True)) == ["Armenia"]


def test_a_refused_label_change_keeps_the_links(project, analyst, span):
    article = span.annotation.article
    quote = Span.objects.get(pk=span.pk)
    lavrov = services.span_create(article=article, annotator=analyst, label=project.span_labels.get(name="Source"),
                                  start=0, end=6, text="Lavrov", client_id=uuid.uuid4())
    services.relation_create(relation_type=project.relation_types.get(name="speaker"), source=quote, target=lavrov)
    seen = services.state_token(services.span_state(quote))
    # The speaker comes from the link (typed once), so the change that makes `seen` stale is the stance.
    services.span_update(span=Span.objects.get(pk=span.pk), label=span.label, attributes={"stance": "critical"}, seen=seen)
    with pytest.raises(ValidationError):
        services.span_update(span=Span.objects.get(pk=span.pk), label=project.span_labels.get(name="Claim"),
                             attributes={}, seen=seen)
    assert Span.objects.get(pk=span.pk).label.name == "Quote"
    assert quote.outgoing.count() == 1
