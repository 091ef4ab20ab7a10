from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from annotator.projects.access import STAFF_ROLES, project_view

from . import services
from .forms import ArticleImportForm


@require_http_methods(["GET", "POST"])
@project_view(roles=STAFF_ROLES)
def article_import(request, project):
    """Upload files or paste an article; the result is shown on the same page.

    A plain POST renders the whole page with the result rather than redirecting: the report
    (every error by file and row) is wanted once, right after the upload, and is not stored.
    """
    report = None
    if request.method == "POST":
        form = ArticleImportForm(request.POST, request.FILES)
        if form.is_valid():
            report = services.article_import(project=project, files=form.batch())
    else:
        form = ArticleImportForm()
    context = {
        "project": project,
        "form": form,
        "report": report,
        "max_bytes": settings.ANNOTATOR_MAX_UPLOAD_BYTES,
    }
    if request.htmx and request.method == "POST":
        return render(request, "corpus/import.html#result", context)
    return render(request, "corpus/import.html", context)
