"""Imports as background jobs: a batch too big for one request is stored, queued and imported by a worker.

The import page imports a small batch in the request (`inline`); anything larger, and every
labelled file (Label Studio, doccano, this app's JSONL), becomes an `ImportJob`
(`import_job_create`): the uploaded files are written under `import_root()`, and the
`import_job_run` task is enqueued once the row is committed. The task runs on the same task
framework as snapshots (django-tasks-db's `db_worker` in production, the immediate backend in the
quick start and the tests), and follows the same rules:

- It claims its job (queued → running) in one statement, so a task run twice does the work once.
- While it runs, a thread stamps the job's heartbeat and its progress every
  `ANNOTATOR_IMPORT_HEARTBEAT_SECONDS` on its own connection, so the page sees progress while the
  import's transaction is still open, and `import_jobs_recover` can tell a job whose worker was
  killed from a slow one.
- Everything it writes (the articles or annotations, and the job's report) is committed in one
  transaction at the end: a job killed midway leaves nothing behind but its row, which recovery
  fails visibly. A job that recovery gave up meanwhile commits nothing.
- The policy is the imports' own, all or nothing: if any file or row has a problem, nothing is
  imported and the report lists every problem with its file and row.
- The uploaded files are removed when the job finishes, fails, or is recovered.

The report (`ImportJob.report`) of an articles job: `created` (a count), `articles` (the first
`REPORT_ARTICLES` created: id, title, language), `duplicates` and `errors` (each `{file, row,
message}`). Of a labelled job: `files` (per file: its name, `ImportResult`'s counts, `summary`
and `not_imported`), or `problems` (per file: its name and `ImportFailed.problems`).
"""

import logging
import re
import shutil
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from annotator.heartbeat import Abandoned, TaskProgress, claim_queued, recover_lost
from annotator.projects.models import Project

from . import services
from .models import ImportJob, import_root

# The articles listed by name on a finished job's page; the rest are counted.
REPORT_ARTICLES = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
STOPPED = "the worker stopped while importing these files; nothing was imported, upload them again"

logger = logging.getLogger(__name__)


def inline_limit() -> int:
    """Batches up to this many bytes in all are imported in the request; larger ones become jobs."""
    return int(getattr(settings, "ANNOTATOR_IMPORT_INLINE_BYTES", 256 * 1024))


def heartbeat_seconds() -> float:
    return float(getattr(settings, "ANNOTATOR_IMPORT_HEARTBEAT_SECONDS", 1))


class _Refused(Exception):
    """The batch has problems: nothing is imported, and the job's report lists them."""

    def __init__(self, report: dict):
        super().__init__("the batch has problems; nothing was imported")
        self.report = report


# Creating a job ------------------------------------------------------------------------------


def import_job_create(
    *, project: Project, user: AbstractBaseUser, files: Sequence[tuple[str, bytes | File]],
    kind: str = ImportJob.Kind.ARTICLES, options: dict | None = None,
) -> ImportJob:
    """A queued job holding the batch; its task is enqueued once the row is committed.

    A file may be given as bytes or as an uploaded file, which is copied a chunk at a time (and
    never more than one byte over `ANNOTATOR_MAX_UPLOAD_BYTES`, enough for the import to refuse
    it), so that a batch of hundreds of megabytes never sits in the web process's memory whole.
    """
    job = ImportJob(project=project, created_by=user, kind=kind, options=options or {})
    directory = import_root() / job.directory
    directory.mkdir(parents=True)
    try:
        for number, (name, data) in enumerate(files):
            # Stored under a number: no uploaded name ever reaches the file system.
            size = _store(directory / str(number), data)
            # PostgreSQL's JSON cannot hold NUL, and no other control character belongs in a name.
            name = _CONTROL.sub("\ufffd", name)
            job.files.append({"name": name, "path": f"{job.directory}/{number}", "size": size})
        with transaction.atomic():
            job.save()
            transaction.on_commit(partial(import_job_run.enqueue, str(job.id)))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return job


def _store(path: Path, data: bytes | File) -> int:
    """Write one file of the batch; the bytes written."""
    if isinstance(data, bytes):
        path.write_bytes(data)
        return len(data)
    room = settings.ANNOTATOR_MAX_UPLOAD_BYTES + 1
    with path.open("wb") as out:
        for chunk in data.chunks():
            out.write(chunk[:room])
            room -= min(len(chunk), room)
            if not room:
                break
    return settings.ANNOTATOR_MAX_UPLOAD_BYTES + 1 - room


# Running it ----------------------------------------------------------------------------------


@task
def import_job_run(job_id: str) -> str:
    """Import a queued job's files. A job already taken by another run is left alone."""
    job = claim_queued(ImportJob, job_id)
    if job is None:
        return "skipped"
    try:
        progress = TaskProgress(ImportJob, job.pk, seconds=heartbeat_seconds(), name=f"Import {job.pk}")
        with progress.heartbeat:
            try:
                with transaction.atomic():
                    report = RUNNERS[job.kind](job, progress)
                    _finish(job, ImportJob.Status.DONE, report, progress.total)
            except _Refused as refused:
                with transaction.atomic():
                    _finish(job, ImportJob.Status.FAILED, refused.report, progress.total)
        return job.status
    except Abandoned:
        return "abandoned"
    except BaseException as error:
        message = "".join(traceback.format_exception_only(error)).strip() or type(error).__name__
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED, error=message[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        shutil.rmtree(import_root() / job.directory, ignore_errors=True)


def _finish(job: ImportJob, status: str, report: dict, total: int) -> None:
    """Record the outcome, in the transaction that wrote the import, if the job is still running."""
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=status, report=report, finished_at=timezone.now(), progress_done=total, progress_total=total,
    ):
        raise Abandoned(f"Import {job.pk} is no longer running.")
    job.status = status


def _read(job: ImportJob) -> Iterator[tuple[str, bytes]]:
    """The job's files one at a time, so that the import holds one file's bytes, not the batch's."""
    root = import_root()
    for file in job.files:
        yield file["name"], (root / file["path"]).read_bytes()


def article_report(report: services.ImportReport) -> dict:
    """An articles import's report as the job keeps it (JSON)."""

    def issues(items):
        return [{"file": issue.file, "row": issue.row, "message": issue.message} for issue in items]

    return {
        "created": len(report.created),
        "articles": [
            {"id": article.id, "title": article.title, "language": article.language}
            for article in report.created[:REPORT_ARTICLES]
        ],
        "duplicates": issues(report.duplicates),
        "errors": issues(report.errors),
    }


def _run_articles(job: ImportJob, progress) -> dict:
    report = services.article_import(project=job.project, files=_read(job), progress=progress)
    if report.errors:
        raise _Refused(article_report(report))
    return article_report(report)


def _run_annotations(job: ImportJob, progress) -> dict:
    # Imported here, not at the top: datasets imports corpus, not the other way round.
    from annotator.datasets.imports import IMPORTERS, ImportFailed

    options = job.options
    kwargs = {"gold_by": get_user_model().objects.filter(pk=options.get("gold_by")).first()}
    if options["format"] != "jsonl":
        kwargs["mapping"] = options.get("mapping") or {}
    if options["format"] == "label-studio":
        kwargs["text_key"] = options.get("text_key") or None
    importer = IMPORTERS[options["format"]]
    files, problems = [], []
    # Every file is checked, even after one is refused, so the report lists every problem;
    # the transaction around the job then writes none of them.
    for name, data in _read(job):
        try:
            result = importer(project=job.project, data=data, progress=progress, **kwargs)
        except ImportFailed as failed:
            problems.append({"file": name, "problems": failed.problems})
        else:
            files.append({"file": name, "summary": result.summary(), **asdict(result)})
    if problems:
        raise _Refused({"problems": problems})
    return {"files": files}


RUNNERS = {ImportJob.Kind.ARTICLES: _run_articles, ImportJob.Kind.ANNOTATIONS: _run_annotations}


# Recovery ------------------------------------------------------------------------------------


def import_jobs_recover(*, stale_after: timedelta | None = None, wait: bool = False, poll: float = 1.0) -> list[ImportJob]:
    """Fail every import job that lost its worker, remove its files, and return them.

    As `datasets.recovery.snapshots_recover` does for snapshots, and run with it.
    """
    recovered = recover_lost(
        ImportJob.objects.all(), import_job_run, error=STOPPED, clean_up=_remove_files,
        stale_after=stale_after, wait=wait, poll=poll,
    )
    for job in recovered:
        logger.warning("Import %s into project %s failed: %s", job.pk, job.project_id, STOPPED)
    return recovered


def _remove_files(job: ImportJob) -> None:
    shutil.rmtree(import_root() / job.directory, ignore_errors=True)
