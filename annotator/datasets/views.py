from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.corpus.text import control_character
from annotator.projects.access import STAFF_ROLES, project_view

from . import services
from .formats import jsonl
from .forms import SnapshotForm
from .models import Snapshot, snapshot_storage
from .records import article_records

CONTENT_TYPES = {
    "jsonl": jsonl.CONTENT_TYPE,
    "csv": "text/csv; charset=utf-8",
    "conll": "text/plain; charset=utf-8",
    "card": "text/markdown; charset=utf-8",
    "label-studio": "application/json; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "spacy": "application/octet-stream",
}


def download_name(project, extension: str) -> str:
    # Only ASCII letters, digits and dashes reach the header, whatever the project is called.
    return f"{slugify(project.name) or 'project'}-{project.id}.{extension}"


@require_GET
@project_view()
def export_jsonl(request, project):
    # Labelling is blind: an analyst downloads only their own annotations.
    annotator = None if request.role in STAFF_ROLES else request.user
    records = article_records(project, annotator=annotator)
    response = StreamingHttpResponse(jsonl.write(records), content_type=jsonl.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{download_name(project, jsonl.EXTENSION)}"'
    return response


def _page_context(project, form):
    snapshots = project.snapshots.select_related("created_by").prefetch_related("files")
    return {"project": project, "form": form, "snapshots": snapshots}


@require_http_methods(["GET", "POST"])
@project_view(roles=STAFF_ROLES)
def dataset_list(request, project):
    """The export page: ask for a snapshot, and see every snapshot of the project."""
    if request.method == "POST":
        form = SnapshotForm(request.POST, project=project)
        if form.is_valid():
            services.snapshot_create(project=project, user=request.user, parameters=form.parameters())
            if not request.htmx:
                return redirect("dataset_list", project.id)
            form = SnapshotForm(project=project)
        context = _page_context(project, form)
        if request.htmx:
            return render(request, "datasets/dataset_list.html#exports", context)
        return render(request, "datasets/dataset_list.html", context, status=400)
    return render(request, "datasets/dataset_list.html", _page_context(project, SnapshotForm(project=project)))


@require_GET
@project_view(roles=STAFF_ROLES)
def snapshot_detail(request, project, snapshot_id):
    """One snapshot's status; the page polls it while the snapshot is being built."""
    snapshot = get_object_or_404(project.snapshots.prefetch_related("files"), pk=snapshot_id)
    if request.htmx:
        return render(request, "datasets/dataset_list.html#snapshot", {"project": project, "snapshot": snapshot})
    return redirect(f"{reverse('dataset_list', args=[project.id])}#snapshot-{snapshot.id}")


@require_GET
@project_view(roles=STAFF_ROLES)
def snapshot_file(request, project, snapshot_id, name):
    """A file of a ready snapshot, as an attachment; files have no other address."""
    snapshot = get_object_or_404(project.snapshots, pk=snapshot_id, status=Snapshot.Status.READY)
    return snapshot_file_response(snapshot, name)


def snapshot_file_response(snapshot: Snapshot, name: str) -> FileResponse:
    """A file of a ready snapshot as an attachment (the page's link and the API's download); 404 if absent."""
    # No file is named with a control character, and PostgreSQL cannot even compare one with NUL.
    file = None if control_character(name) else snapshot.files.filter(name=name).first()
    if file is None:
        raise Http404("No such file in this snapshot.")
    storage = snapshot_storage()
    if not storage.exists(file.path):
        raise Http404("The file is missing from the snapshot folder.")
    response = FileResponse(
        storage.open(file.path, "rb"),
        as_attachment=True,
        # A file in folders (a shipped tokenizer's) is saved under one flat name.
        filename=file.name.replace("/", "-"),
        content_type=CONTENT_TYPES.get(file.format, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@project_view(roles=STAFF_ROLES)
def snapshot_delete(request, project, snapshot_id):
    """Delete a ready or failed snapshot and its files (the page removes its panel)."""
    snapshot = get_object_or_404(project.snapshots, pk=snapshot_id)
    try:
        services.snapshot_delete(snapshot=snapshot)
    except ValidationError as error:
        return HttpResponse(error.messages[0], status=409, content_type="text/plain; charset=utf-8")
    if request.htmx:
        return HttpResponse()
    messages.success(request, "The snapshot and its files were deleted.")
    return redirect("dataset_list", project.id)
