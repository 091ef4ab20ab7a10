"""`manage.py import_annotations PROJECT_ID FILE [FILE ...] --format jsonl|label-studio|doccano [--gold-by USERNAME]`

Labelled articles into a project, all or nothing per file (see `annotator.datasets.imports`
for the policy): a JSONL snapshot keeps its annotators, who must be members of the project,
unless `--gold-by` makes each article's annotation gold by that user; Label Studio and doccano
files always import as gold by `--gold-by`.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotator.datasets.imports import IMPORTERS, ImportFailed
from annotator.projects.models import Project


class Command(BaseCommand):
    help = "Import labelled articles (JSONL snapshot, Label Studio JSON, doccano JSONL) into a project."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--format", required=True, choices=sorted(IMPORTERS))
        parser.add_argument("--gold-by", metavar="USERNAME", help="import every article's annotation as gold by this user")

    def handle(self, *args, project_id, files, format, gold_by, **options):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"There is no project with id {project_id}.")
        user = None
        if gold_by:
            user = get_user_model().objects.filter(username=gold_by).first()
            if user is None:
                raise CommandError(f"There is no user called “{gold_by}”.")
        elif format != "jsonl":
            raise CommandError(f"A {format} file has no annotators of this app: say whose gold it is with --gold-by.")

        importer = IMPORTERS[format]
        kwargs = {"gold_by": user}
        # Every file, or none of them.
        with transaction.atomic():
            for name in files:
                try:
                    data = Path(name).read_bytes()
                except OSError as error:
                    raise CommandError(f"Nothing was imported: {name}: {error.strerror or error}") from error
                try:
                    result = importer(project=project, data=data, **kwargs)
                except ImportFailed as failed:
                    lines = [f"Nothing was imported: {len(failed.problems)} problem(s) in {name}."]
                    lines += [f"  {problem}" for problem in failed.problems]
                    raise CommandError("\n".join(lines)) from failed
                self.stdout.write(
                    f"{name}: {result.articles_created} new article(s), {result.articles_matched} already here, "
                    f"{result.annotations} annotation(s), {result.spans} span(s)"
                )
        self.stdout.write(self.style.SUCCESS(f"Imported {len(files)} file(s) into “{project}”."))
