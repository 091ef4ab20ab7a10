"""Snapshot writes: ask for one (`snapshot_create`), build it in the background (`snapshot_build`),
delete a finished one (`snapshot_delete`).

`snapshot_build` is a `django.tasks` task. In production it runs in a worker
(`manage.py run_worker`, django-tasks-db's DatabaseBackend), and so it does in the quick start
(`make run`); with the immediate backend (the tests) it runs right after the request's
transaction commits.
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

from . import build
from .models import Snapshot, snapshot_root


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
    """Build a queued snapshot's files. A snapshot already taken by another run is left alone.

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
    for attempt in count(1):
        try:
            snapshot = Snapshot.objects.select_related("project").get(pk=snapshot_id)
            build.build(snapshot)
            return "ready"
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
