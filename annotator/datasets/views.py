from django.http import StreamingHttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from annotator.projects.access import STAFF_ROLES, project_view

from .formats import jsonl
from .records import article_records


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
