"""Snapshot writes: ask for one (`snapshot_create`) and build it in the background (`snapshot_build`).

`snapshot_build` is a `django.tasks` task. In production it runs in a worker
(`manage.py db_worker`, django-tasks-db's DatabaseBackend); in the quick start the immediate
backend runs it right after the request's transaction commits.
"""

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.tasks import task

from annotator.projects.models import Project

from . import build
from .models import Snapshot


@transaction.atomic
def snapshot_create(*, project: Project, user: AbstractBaseUser, parameters: dict) -> Snapshot:
    """A queued snapshot; its build is enqueued once this transaction commits (so the worker finds the row)."""
    snapshot = Snapshot.objects.create(project=project, created_by=user, parameters=parameters)
    transaction.on_commit(partial(snapshot_build.enqueue, str(snapshot.id)))
    return snapshot


@task
def snapshot_build(snapshot_id: str) -> str:
    """Build a queued snapshot's files. A snapshot already taken by another run is left alone."""
    taken = Snapshot.objects.filter(pk=snapshot_id, status=Snapshot.Status.QUEUED).update(
        status=Snapshot.Status.RUNNING
    )
    if not taken:
        return "skipped"
    snapshot = Snapshot.objects.select_related("project").get(pk=snapshot_id)
    build.build(snapshot)
    return "ready"
