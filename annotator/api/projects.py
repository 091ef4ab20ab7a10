"""`/api/v1/projects/…`: the projects the caller belongs to, their schema, members and figures."""

import dataclasses

from django.db.models import Count
from ninja import Router, Schema

from annotator.agreement.data import project_agreement
from annotator.datasets.build import schema_of
from annotator.labelling.queries import progress_for
from annotator.projects.access import STAFF_ROLES
from annotator.projects.models import Membership, Project

from .common import Page, cursor_page, problems, project_for

router = Router(tags=["projects"])


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    role: str
    overlap: int
    license: str
    articles: int


class ProjectPage(Page):
    results: list[ProjectOut]


def _out(project: Project, role: str, articles: int) -> dict:
    return {
        "id": project.id, "name": project.name, "description": project.description, "role": role,
        "overlap": project.overlap, "license": project.license, "articles": articles,
    }


@router.get("/", response={200: ProjectPage, **problems(400)}, summary="Projects you belong to")
def project_list(request, cursor: str | None = None, limit: int | None = None):
    projects = Project.objects.for_user(request.user).annotate(article_count=Count("articles", distinct=True))
    rows, following = cursor_page(request, projects, cursor=cursor, limit=limit)
    roles = dict(Membership.objects.filter(user=request.user, project__in=rows).values_list("project_id", "role"))
    return {
        "next": following,
        "results": [_out(p, roles.get(p.id, Membership.Role.ADMIN), p.article_count) for p in rows],
    }


@router.get("/{project_id}", response={200: dict, **problems(403, 404)}, summary="A project and its label schema")
def project_detail(request, project_id: int):
    """The label schema (labels with attributes, relation types, topics, stance values and targets);
    for the project's admins, its members too."""
    project, role = project_for(request, project_id)
    detail = _out(project, role, project.articles.count()) | {"schema": schema_of(project)}
    if role == Membership.Role.ADMIN:
        members = project.memberships.select_related("user").order_by("user__username")
        detail["members"] = [{"username": m.user.get_username(), "role": m.role} for m in members]
    return detail


@router.get("/{project_id}/progress", response={200: dict, **problems(403, 404)}, summary="Your progress")
def project_progress(request, project_id: int):
    """The caller's own counts, as the project page shows them."""
    project, _ = project_for(request, project_id)
    return progress_for(project=project, user=request.user)


@router.get("/{project_id}/agreement", response={200: dict, **problems(403, 404)}, summary="Agreement figures")
def project_agreement_figures(request, project_id: int):
    """Krippendorff's alpha for topics and stance, pairwise figures and span F1, as the agreement page
    shows them (reviewers and admins)."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    return dataclasses.asdict(project_agreement(project))
