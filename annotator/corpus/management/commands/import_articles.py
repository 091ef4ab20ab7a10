"""`manage.py import_articles PROJECT_ID FILE [FILE ...]`: the import page's batch, from disk.

The same all-or-nothing policy as the page (see `annotator.corpus.services`): if any file or
row has an error, nothing is imported, every error is listed and the command fails.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from annotator.corpus.services import article_import
from annotator.projects.models import Project


class Command(BaseCommand):
    help = "Import articles (.txt, .csv, .jsonl, .json, .html) into a project; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, project_id, files, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project with id {project_id}.")

        batch, unreadable = [], []
        # One byte over the limit is enough for the service to refuse a file.
        limit = settings.ANNOTATOR_MAX_UPLOAD_BYTES + 1
        for number, name in enumerate(files, start=1):
            # Progress, not an error: without style_func a terminal shows stderr in red.
            self.stderr.write(f"[{number}/{len(files)}] reading {name}", style_func=str)
            try:
                with Path(name).open("rb") as file:
                    batch.append((name, file.read(limit)))
            except OSError as error:
                unreadable.append(f"{name}: {error.strerror or error}")
        if unreadable:
            raise CommandError(_listing("Nothing was imported: some files could not be opened.", unreadable))

        report = article_import(project=project, files=batch)
        for issue in report.duplicates:
            self.stdout.write(f"duplicate {issue}")
        if report.errors:
            problems = len(report.errors)
            heading = f"Nothing was imported: {problems} problem{'s' if problems != 1 else ''}. Fix and run again."
            raise CommandError(_listing(heading, report.errors))
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(report.created)} article(s) into “{project}”; "
                f"skipped {len(report.duplicates)} duplicate(s)."
            )
        )


def _listing(heading, items) -> str:
    return "\n".join([heading, *(f"  {item}" for item in items)])
