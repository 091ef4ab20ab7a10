"""Shared by the labelling tests."""

import uuid

from annotator.labelling import services


def mark(article, user, label, phrase, *, occurrence=0, client_id=None):
    """Save a span over the `occurrence`-th appearance of `phrase` through the service."""
    start = -1
    for _ in range(occurrence + 1):
        start = article.text.index(phrase, start + 1)
    return services.span_create(
        article=article,
        annotator=user,
        label=label,
        start=start,
        end=start + len(phrase),
        text=phrase,
        client_id=client_id or uuid.uuid4(),
    )
