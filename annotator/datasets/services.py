"""Snapshot writes: ask for one (`snapshot_create`), build it in the background (`snapshot_build`),
delete a finished one (`snapshot_delete`); keep new articles' tokens for them (`tokens_enqueue`).

`snapshot_build` is a `django.tasks` task, and so is `snapshot_write_shard`, which the build
enqueues for each shard of a snapshot of many records (to select the shard's records, then again
to write them). In production they run in the workers
(`manage.py run_worker`, django-tasks-db's DatabaseBackend), one shard per worker at a time, and
so they do in the quick start (`make run`, one worker: one after another); with the immediate
backend (the tests) each runs right after the transaction that enqueues it commits.
"""

import logging
import shutil
from functools import partial
from itertools import count

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.tasks import task

from annotator.database import UNAVAILABLE, wait_for_database
from annotator.projects.models import Project
from annotator.tasks import enqueue_in_chunks

from . import build
from .models import Snapshot, SnapshotShard, snapshot_root


@transaction.atomic
def snapshot_create(*, project: Project, user: AbstractBaseUser, parameters: dict) -> Snapshot:
    """A queued snapshot; its build is enqueued once this transaction commits (so the worker finds the row)."""
    snapshot = Snapshot.objects.create(project=project, created_by=user, parameters=parameters)
    transaction.on_commit(partial(snapshot_build.enqueue, str(snapshot.id)))
    return snapshot


# Builds of one snapshot cut short by the database going away before it is given up.
BUILD_ATTEMPTS = 3

logger = logging.getLogger(__name__)


@task
def snapshot_build(snapshot_id: str) -> str:
    """Build a queued snapshot's files (`build.build`): select, split, and write them, or enqueue
    its shard tasks (`snapshot_write_shard`). A snapshot already taken by another run is left alone.

    If the database goes away mid-build (a PostgreSQL restart), the build cannot even record
    its failure: the snapshot stays running. It waits for the database and builds again from
    nothing (a build is safe to run twice), so a restart loses no snapshot. A build that recovery
    gave up meanwhile (its heartbeat went stale) is abandoned at its first heartbeat.
    """
    taken = Snapshot.objects.filter(pk=snapshot_id, status=Snapshot.Status.QUEUED).update(
        status=Snapshot.Status.RUNNING
    )
    if not taken:
        return "skipped"
    # "ready", or "sharded": its shard tasks write the files and make it ready.
    return _through_outages(snapshot_id, build.build)


@task
def snapshot_write_shard(snapshot_id: str, number: int) -> str:
    """Select one shard of a running snapshot's records, or, once every shard's are selected and
    split, write its files (`build.shard`): the last shard selected splits them all and queues
    each shard's task again; the last shard written finishes the snapshot. A shard already
    written, or of a snapshot no longer running, is left alone. The database going away is lived
    through as by `snapshot_build`, but for a join it cut short, which fails the snapshot
    (`build.shard_again`)."""
    shard = SnapshotShard.objects.filter(
        snapshot_id=snapshot_id, number=number, folder="", snapshot__status=Snapshot.Status.RUNNING
    )
    if not shard.exists():
        return "skipped"
    return _through_outages(
        snapshot_id,
        lambda snapshot: build.shard(snapshot, number),
        again=lambda snapshot: build.shard_again(snapshot, number),
    )


# Articles per task, and the tasks' place in the queue: behind what someone asked for (snapshots,
# imports, trainings), ahead of the suggestions (about thirty times the work an article).
KEEP_TOKENS_CHUNK = 1000
KEEP_TOKENS_PRIORITY = -5


@task(priority=KEEP_TOKENS_PRIORITY)
def articles_keep_tokens(article_ids: list[int]) -> int:
    """Tokenize new articles as snapshots do and keep their tokens (`kept`), so that the first
    snapshot after an import reads them too. Safe to run twice."""
    from .kept import keep_tokens  # spaCy: loaded by the worker that tokenizes, not by every process

    return keep_tokens(article_ids)


def tokens_enqueue(article_ids: list[int]) -> None:
    """Keep the articles' tokens in the background once the caller's transaction commits."""
    enqueue_in_chunks(articles_keep_tokens, article_ids, KEEP_TOKENS_CHUNK)


def _through_outages(snapshot_id: str, work, *, again=None):
    """`work(snapshot)`, and if the database went away meanwhile, `again(snapshot)` (by default
    `work` again, from the start) once it is back; returns what the last of them returned."""
    for attempt in count(1):
        try:
            return (work if attempt == 1 or again is None else again)(
                Snapshot.objects.select_related("project").get(pk=snapshot_id)
            )
        except UNAVAILABLE:
            # Inside a transaction (the immediate backend in a test) there is nothing to reconnect.
            if attempt == BUILD_ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("Snapshot %s: the database went away mid-build; building again once it answers.",
                           snapshot_id, exc_info=True)
            wait_for_database()


@transaction.atomic
def snapshot_delete(*, snapshot: Snapshot) -> None:
    """Delete a ready or failed snapshot: its rows now, its folder once that is committed.

    A queued or running one is refused: its worker would go on writing. (A build whose worker
    died stays "running" until `recover_snapshots` fails it; then it can be deleted.)
    """
    locked = Snapshot.objects.select_for_update().filter(pk=snapshot.pk).first()
    if locked is None:
        return  # deleted meanwhile: nothing left to do
    if not locked.finished:
        raise ValidationError(
            "This snapshot is still being built: it can be deleted once it is ready or has failed.", code="busy"
        )
    directory = snapshot_root() / locked.directory
    locked.delete()
    transaction.on_commit(partial(shutil.rmtree, directory, ignore_errors=True))
