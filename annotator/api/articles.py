"""`/api/v1/projects/{id}/articles…`: list, read and import articles."""

import datetime
import uuid
from typing import Any, Literal

import orjson

from django.conf import settings
from django.urls import reverse
from ninja import Router, Schema
from ninja.responses import Status
from ninja.errors import HttpError

from annotator.corpus.jobs import import_job_create
from annotator.corpus.models import ImportJob
from annotator.corpus.services import article_import_objects
from annotator.corpus.text import refuse_control_characters
from annotator.projects.access import STAFF_ROLES

from .common import Page, cursor_page, not_found, problems, project_for

router = Router(tags=["articles"])

# A bigger batch is imported in the background, as the import page does with a large upload: a
# request must end well inside the server's timeout.
MAX_BATCH = 1000


class ArticleOut(Schema):
    id: int
    title: str
    language: str
    source: str
    url: str
    published: datetime.date | None
    sha256: str
    length: int
    created_at: datetime.datetime


class ArticleDetail(ArticleOut):
    text: str
    metadata: dict


class ArticlePage(Page):
    results: list[ArticleOut]


def _out(article) -> dict:
    return {
        "id": article.id, "title": article.title, "language": article.language, "source": article.source,
        "url": article.url, "published": article.published, "sha256": article.sha256, "length": len(article.text),
        "created_at": article.created_at,
    }


@router.get("/{project_id}/articles", response={200: ArticlePage, **problems(400, 403, 404)},
            summary="Articles of a project")
def article_list(request, project_id: int, language: str | None = None, source: str | None = None,
                 published_from: datetime.date | None = None, published_to: datetime.date | None = None,
                 order: Literal["id", "-id"] = "id", cursor: str | None = None, limit: int | None = None):
    """Filter by `language`, `source` and publication dates; order by `id` (oldest first) or `-id`."""
    project, _ = project_for(request, project_id)
    articles = project.articles.all()
    for name, value in (("language", language), ("source", source), ("published__gte", published_from),
                        ("published__lte", published_to)):
        if isinstance(value, str):
            refuse_control_characters(value, what=f"The {name}")  # PostgreSQL cannot even look a NUL up
        if value is not None:
            articles = articles.filter(**{name: value})
    rows, following = cursor_page(request, articles, cursor=cursor, limit=limit, descending=order == "-id")
    return {"next": following, "results": [_out(a) for a in rows]}


@router.get("/{project_id}/articles/{article_id}", response={200: ArticleDetail, **problems(403, 404)},
            summary="One article, with its text")
def article_detail(request, project_id: int, article_id: int):
    project, _ = project_for(request, project_id)
    article = project.articles.filter(pk=article_id).first()
    if article is None:
        raise not_found("article")
    return _out(article) | {"text": article.text, "metadata": article.metadata}


class ArticlesIn(Schema):
    """Rows as the import page's JSON files hold them: `text` and optional `title`, `source`, `url`,
    `published`, `language`, `metadata` (other keys are kept in `metadata`)."""

    articles: list[Any]


class ImportOut(Schema):
    created: list[int]
    duplicates: list[dict]


class JobOut(Schema):
    """An import running in the background: poll `url` until `status` is `done` or `failed`."""

    id: uuid.UUID
    url: str
    status: str
    progress_done: int
    progress_total: int
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    report: dict
    error: str


def _job_out(request, job: ImportJob) -> dict:
    return {
        "id": job.id, "status": job.status, "progress_done": job.progress_done, "progress_total": job.progress_total,
        "created_at": job.created_at, "finished_at": job.finished_at, "report": job.report, "error": job.error,
        "url": request.build_absolute_uri(reverse("api-v1:import_job", args=[job.project_id, job.id])),
    }


@router.post("/{project_id}/articles", response={201: ImportOut, 202: JobOut, **problems(403, 404, 413, 422)},
             summary="Import articles, all or nothing")
def article_import(request, project_id: int, body: ArticlesIn):
    """The import page's rules: every row is checked first, and if any row has an error nothing is
    imported and every error is listed with its row; a row whose text is already in the project is a
    duplicate, skipped and reported. Up to 1,000 rows are imported in the request (201); a larger
    batch becomes a background job (202) whose URL gives its progress, then the same report."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    if len(request.body) > settings.ANNOTATOR_MAX_UPLOAD_BYTES:
        raise HttpError(413, "This request is larger than the upload limit: send the articles in several requests.")
    if len(body.articles) > MAX_BATCH:
        # The rows as a JSON Lines file: the job reads them as the page's upload (the same checks and messages).
        lines = b"".join(orjson.dumps(row) + b"\n" for row in body.articles)
        job = import_job_create(project=project, user=request.user, files=[("api.jsonl", lines)])
        return Status(202, _job_out(request, job))
    places = {f"articles[{n}]": n for n in range(len(body.articles))}
    report = article_import_objects(project=project, objects=[(place, item) for place, item in zip(places, body.articles)])
    if report.errors:
        raise BatchRefused([{"field": issue.file, "row": places.get(issue.file), "message": issue.message}
                            for issue in report.errors])
    return Status(201, {
        "created": [a.pk for a in report.created],
        "duplicates": [{"field": i.file, "row": places.get(i.file), "message": i.message} for i in report.duplicates],
    })


@router.get("/{project_id}/import-jobs/{job_id}", response={200: JobOut, **problems(403, 404)}, url_name="import_job",
            summary="A background import's progress and report")
def import_job(request, project_id: int, job_id: uuid.UUID):
    """Its `report` once done: `created` (a count), `articles` (the first ones, with ids), `duplicates`;
    once failed, `errors`, each with its `file` (api.jsonl), `row` (from 1, a line of it) and `message`."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    job = project.import_jobs.filter(pk=job_id).first()
    if job is None:
        raise not_found("import job")
    return _job_out(request, job)


class BatchRefused(Exception):
    """A batch with errors: nothing was imported; `errors` lists each one with its row."""

    def __init__(self, errors: list[dict]):
        super().__init__("Nothing was imported: fix every row listed and send the batch again.")
        self.errors = errors
