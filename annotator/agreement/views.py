"""Agreement between a project's analysts: the page (with its htmx results partial) and CSV.

Only admins and reviewers see it: the figures name the analysts and compare their work.
"""

from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from annotator.projects.access import STAFF_ROLES, project_view
from annotator.suggestions.services import suggestion_counts

from . import data, export
from .charts import agreement_charts
from .data import DateRange
from .forms import DateRangeForm


@require_GET
@vary_on_headers("HX-Request")
@project_view(roles=STAFF_ROLES)
def project_agreement(request, project):
    form = DateRangeForm(request.GET)
    context = {"project": project, "form": form, "result": None}
    if form.is_valid():
        dates = form.date_range()
        result = data.project_agreement(project, dates)
        context |= {"result": result, "dates": dates, "query": _query(dates), **agreement_charts(result)}
        # What the analysts did with each suggester's suggestions, on the same submitted annotations.
        context["suggesters"] = suggestion_counts(project=project,
                                                  annotations=data.submitted_annotations(project, dates))
    # A history restore after hx-push-url asks for the whole page, though it comes from htmx.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "agreement/agreement.html#results", context | {"oob": True})
    return render(request, "agreement/agreement.html", context)


def _query(dates: DateRange) -> str:
    """The filter as a query string, for the CSV link: only the dates, and only those given."""
    return urlencode({key: day.isoformat() for key, day in (("from", dates.since), ("to", dates.until)) if day})


def _download_name(project, dates: DateRange) -> str:
    # Only ASCII letters, digits and dashes reach the header, whatever the project is called.
    name = f"{slugify(project.name) or 'project'}-{project.id}-agreement"
    if dates.since:
        name += f"-from-{dates.since.isoformat()}"
    if dates.until:
        name += f"-to-{dates.until.isoformat()}"
    return name + ".csv"


@require_GET
@project_view(roles=STAFF_ROLES)
def project_agreement_csv(request, project):
    form = DateRangeForm(request.GET)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        return HttpResponseBadRequest(" ".join(problems), content_type="text/plain; charset=utf-8")
    dates = form.date_range()
    response = HttpResponse(export.write(data.project_agreement(project, dates)), content_type=export.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_download_name(project, dates)}"'
    return response
