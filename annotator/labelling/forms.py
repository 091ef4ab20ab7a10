import uuid
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import get_object_or_404


@dataclass(frozen=True)
class NewSpan:
    label: object
    start: int
    end: int
    text: str
    client_id: uuid.UUID


def new_span_from(post, project, labels: dict | None = None) -> NewSpan:
    """A highlight as the page sends it. Raises KeyError or ValueError for a malformed one, and 404
    for a label that is not the project's (looked up in `labels`, the project's by id, if given)."""
    label_id = int(post["label"])
    if labels is None:
        label = get_object_or_404(project.span_labels, pk=label_id)
    elif label_id in labels:
        label = labels[label_id]
    else:
        raise Http404("No such label in this project.")
    return NewSpan(
        label=label,
        start=int(post["start"]),
        end=int(post["end"]),
        text=post["text"],
        client_id=uuid.UUID(post["client_id"]),
    )


def document_labels_from(post) -> tuple[list[int], dict[int, int | None]]:
    """Topic ids and {stance target id: value id or None} from a topics-and-stance form.

    Raises ValueError for anything that is not an id.
    """
    topic_ids = [int(t) for t in post.getlist("topics")]
    stances = {
        int(key.removeprefix("stance-")): int(value) if value else None
        for key, value in post.items()
        if key.startswith("stance-")
    }
    return topic_ids, stances
