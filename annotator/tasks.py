"""What the apps' tasks share: enqueueing one task per chunk of ids once the caller's transaction
commits (so the worker finds the rows the ids name), for work on many articles at once that
several workers may share."""

from functools import partial

from django.db import transaction


def enqueue_in_chunks(task, ids, size: int) -> None:
    """`task.enqueue(chunk)` for each chunk of at most `size` of `ids`, in order, after the commit."""
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), size):
        transaction.on_commit(partial(task.enqueue, ids[start : start + size]))
