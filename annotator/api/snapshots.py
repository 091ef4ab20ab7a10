"""`/api/v1/projects/{id}/snapshots…`: ask for a dataset snapshot with the export page's choices,
poll its progress, list and download its files (reviewers and admins, as on the page)."""

import datetime
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from ninja import Router, Schema
from ninja.responses import Status

from annotator.corpus.text import refuse_control_characters
from annotator.datasets import services
from annotator.datasets.forms import SnapshotForm
from annotator.datasets.models import Snapshot
from annotator.datasets.views import snapshot_file_response
from annotator.projects.access import STAFF_ROLES

from .common import Page, cursor_page, not_found, problems, project_for

router = Router(tags=["snapshots"])


class SnapshotIn(Schema):
    """The export page's choices. `scope`: gold, analysts, agreed or analyst (then `analyst`, a username)."""

    scope: str = "gold"
    analyst: str | None = None
    topics: list[str] = []
    published_from: datetime.date | None = None
    published_to: datetime.date | None = None
    sources: list[str] = []
    formats: list[str] = ["jsonl"]
    train: int = 80
    validation: int = 10
    test: int = 10
    seed: int = 13
    near_duplicate_threshold: float = 0.8


class FileOut(Schema):
    name: str
    format: str
    size: int
    sha256: str
    url: str


class SnapshotOut(Schema):
    id: uuid.UUID
    status: str
    parameters: dict
    progress_done: int
    progress_total: int
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    error: str
    counts: dict | None
    files: list[FileOut]


class SnapshotPage(Page):
    results: list[SnapshotOut]


def _out(request, snapshot: Snapshot) -> dict:
    files = snapshot.files.order_by("name") if snapshot.status == Snapshot.Status.READY else []
    return {
        "id": snapshot.id, "status": snapshot.status, "parameters": snapshot.parameters,
        "progress_done": snapshot.progress_done, "progress_total": snapshot.progress_total,
        "created_at": snapshot.created_at, "finished_at": snapshot.finished_at, "error": snapshot.error,
        "counts": snapshot.counts,
        "files": [
            {"name": f.name, "format": f.format, "size": f.size, "sha256": f.sha256,
             "url": request.build_absolute_uri(
                 reverse("api-v1:snapshot_file", args=[snapshot.project_id, snapshot.id, f.name]))}
            for f in files
        ],
    }


@router.get("/{project_id}/snapshots", response={200: SnapshotPage, **problems(400, 403, 404)},
            summary="Snapshots of a project, newest first")
def snapshot_list(request, project_id: int, cursor: str | None = None, limit: int | None = None):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    snapshots = project.snapshots.prefetch_related("files")
    # Snapshot ids are random: pages go by creation time, most recent first.
    rows, following = cursor_page(request, snapshots, cursor=cursor, limit=limit, key="created_at", descending=True)
    return {"next": following, "results": [_out(request, s) for s in rows]}


@router.post("/{project_id}/snapshots", response={202: SnapshotOut, **problems(403, 404, 422)},
             summary="Ask for a snapshot")
def snapshot_create(request, project_id: int, body: SnapshotIn):
    """Checked as the export page checks its form; the snapshot is built in the background: poll its
    URL until `status` is `ready` (or `failed`), then download its `files`."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    data = body.dict()
    if data["analyst"] is not None:
        refuse_control_characters(data["analyst"], what="The analyst")  # PostgreSQL cannot even look a NUL up
        user = get_user_model().objects.filter(username=data["analyst"]).first()
        data["analyst"] = user.pk if user else -1  # the form refuses an unknown analyst by name of the field
    data = {key: value for key, value in data.items() if value is not None}
    form = SnapshotForm(data, project=project)
    if not form.is_valid():
        raise ValidationError(
            {field: [error["message"] for error in errors] for field, errors in form.errors.get_json_data().items()}
        )
    snapshot = services.snapshot_create(project=project, user=request.user, parameters=form.parameters())
    snapshot.refresh_from_db()
    return Status(202, _out(request, snapshot))


def _snapshot(project, snapshot_id: uuid.UUID) -> Snapshot:
    snapshot = project.snapshots.filter(pk=snapshot_id).first()
    if snapshot is None:
        raise not_found("snapshot")
    return snapshot


@router.get("/{project_id}/snapshots/{snapshot_id}", response={200: SnapshotOut, **problems(403, 404)},
            summary="A snapshot's status, progress and files")
def snapshot_detail(request, project_id: int, snapshot_id: uuid.UUID):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    return _out(request, _snapshot(project, snapshot_id))


@router.get("/{project_id}/snapshots/{snapshot_id}/files/{path:name}", response={200: None, **problems(403, 404)},
            url_name="snapshot_file", summary="Download a file of a ready snapshot")
def snapshot_file(request, project_id: int, snapshot_id: uuid.UUID, name: str):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    snapshot = project.snapshots.filter(pk=snapshot_id, status=Snapshot.Status.READY).first()
    if snapshot is None:
        raise not_found("ready snapshot")
    return snapshot_file_response(snapshot, name)
