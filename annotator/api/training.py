"""`/api/v1/projects/{id}/models…`: the project's trained model versions (status, scores, learning
curve, what each was trained on) and starting a training run, for reviewers and admins as on the
Model page, through the same service and with the same refusals."""

import datetime

from django.core.exceptions import ValidationError
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from annotator.projects.access import STAFF_ROLES
from annotator.training import services
from annotator.training.models import ModelVersion

from .common import not_found, problems, project_for

router = Router(tags=["models"])


class ModelVersionOut(Schema):
    """`scores`: per-label precision, recall, F1 and support on the held-out split; `curve`: the
    topics' micro F1 against training size. `current`: the ready version whose suggestions articles get."""

    id: int
    status: str
    error: str
    current: bool
    created_by: str | None
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    progress_done: int
    progress_total: int
    gold_count: int
    train_count: int
    test_count: int
    scores: dict
    curve: list[dict]


def _out(version: ModelVersion, current: ModelVersion | None) -> dict:
    return {
        "id": version.id, "status": version.status, "error": version.error,
        "current": current is not None and current.pk == version.pk,
        "created_by": version.created_by.get_username() if version.created_by_id else None,
        "created_at": version.created_at, "started_at": version.started_at, "finished_at": version.finished_at,
        "progress_done": version.progress_done, "progress_total": version.progress_total,
        "gold_count": version.gold_count, "train_count": version.train_count, "test_count": version.test_count,
        "scores": version.scores, "curve": version.curve,
    }


@router.get("/{project_id}/models", response={200: list[ModelVersionOut], **problems(403, 404)},
            summary="The project's model versions, newest first")
def model_version_list(request, project_id: int):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    current = services.current_version(project.id)
    return [_out(v, current) for v in project.model_versions.select_related("created_by")]


@router.post("/{project_id}/models", response={202: ModelVersionOut, **problems(403, 404, 409)},
             summary="Start training a new model version")
def model_train_start(request, project_id: int):
    """Trained in the background from the project's reviewed articles: poll the version until its
    `status` is `ready` (or `failed`). Refused (409) with too few reviewed articles, or while a
    version is queued or training."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    try:
        version = services.model_training_start(project=project, user=request.user)
    except ValidationError as refused:
        raise HttpError(409, refused.messages[0]) from None
    version.refresh_from_db()
    return Status(202, _out(version, services.current_version(project.id)))


@router.get("/{project_id}/models/{version_id}", response={200: ModelVersionOut, **problems(403, 404)},
            summary="One model version's status, progress and scores")
def model_version_detail(request, project_id: int, version_id: int):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    version = project.model_versions.select_related("created_by").filter(pk=version_id).first()
    if version is None:
        raise not_found("model version")
    return _out(version, services.current_version(project.id))
