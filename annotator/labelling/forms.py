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
