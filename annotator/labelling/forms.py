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


@dataclass(frozen=True)
class UndoneLink:
    """A link of a deleted span, as its Undo sends it back: the link's type, the other span, and
    whether the deleted span was the link's source (else its target)."""

    type_id: int
    other_id: int
    outgoing: bool


def undone_links_from(post) -> list[UndoneLink]:
    """The `link` fields of an Undo (`source:<type id>:<other span id>`, or `target:…` when the
    deleted span was the link's target). Raises ValueError for a malformed one."""
    links = []
    for value in post.getlist("link"):
        role, type_id, other_id = value.split(":")
        if role not in ("source", "target"):
            raise ValueError(f"a link's role is source or target, not {role!r}")
        links.append(UndoneLink(type_id=int(type_id), other_id=int(other_id), outgoing=role == "source"))
    return links


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
