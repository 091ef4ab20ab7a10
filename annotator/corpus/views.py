from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.projects.access import STAFF_ROLES, project_view

from . import jobs, services
from .forms import ArticleImportForm, LabelledImportForm
from .models import ImportJob

# Jobs listed on the import page, newest first.
RECENT_JOBS = 10


def _page(request, project, *, form=None, labelled_form=None, report=None, status=200):
    context = {
        "project": project,
        "form": form or ArticleImportForm(),
        "labelled_form": labelled_form or LabelledImportForm(project=project),
        "report": report,
        "jobs": project.import_jobs.select_related("created_by")[:RECENT_JOBS],
        "max_bytes": settings.ANNOTATOR_MAX_UPLOAD_BYTES,
        "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        "inline_bytes": jobs.inline_limit(),
    }
    return render(request, "corpus/import.html", context, status=status)


def _to_job(request, job: ImportJob):
    """After a job is made: its page, where the import's progress and result show."""
    url = job.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_http_methods(["GET", "POST"])
@project_view(roles=STAFF_ROLES)
def article_import(request, project):
    """Upload files or paste an article. A small batch is imported here and its result shown on
    this page; a larger one becomes a background job, and the browser goes to the job's page.

    A small batch's plain POST renders the whole page with the result rather than redirecting:
    its report (every error by file and row) is wanted once, right after the upload, and is not stored.
    """
    if request.method == "GET":
        return _page(request, project)
    form = ArticleImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        if form.size() > jobs.inline_limit():
            return _to_job(request, jobs.import_job_create(project=project, user=request.user, files=form.uploads()))
        report = services.article_import(project=project, files=form.batch())
    if request.htmx:
        return render(request, "corpus/import.html#result", {"project": project, "form": form, "report": report})
    return _page(request, project, form=form, report=report)


@require_POST
@project_view(roles=STAFF_ROLES)
def labelled_import(request, project):
    """Upload labelled files (this app's JSONL, Label Studio, doccano): always a background job."""
    form = LabelledImportForm(request.POST, request.FILES, project=project)
    if form.is_valid():
        job = jobs.import_job_create(
            project=project, user=request.user, files=form.uploads(), kind=ImportJob.Kind.ANNOTATIONS,
            options=form.options(),
        )
        return _to_job(request, job)
    if request.htmx:
        context = {
            "project": project, "labelled_form": form, "max_bytes": settings.ANNOTATOR_MAX_UPLOAD_BYTES,
            "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        }
        return render(request, "corpus/import.html#labelled", context)
    return _page(request, project, labelled_form=form, status=400)


@require_GET
@project_view(roles=STAFF_ROLES)
def import_job_detail(request, project, job_id):
    """One import job: its progress while it runs (the page polls this), then its result."""
    job = get_object_or_404(project.import_jobs.select_related("created_by"), pk=job_id)
    context = {"project": project, "job": job, "gold_by": _gold_by(project, job)}
    if request.htmx:
        return render(request, "corpus/import_job.html#job", context)
    return render(request, "corpus/import_job.html", context)


def _gold_by(project, job: ImportJob):
    gold_by = job.options.get("gold_by")
    return project.memberships.filter(user_id=gold_by).select_related("user").first() if gold_by else None
