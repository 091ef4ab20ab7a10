"""`manage.py import_annotations PROJECT_ID FILE [FILE ...] --format jsonl|label-studio|doccano [--gold-by USERNAME]
[--map NAME=Label ...] [--text-key KEY] [--predictions-as USERNAME [--prediction-model VERSION]]`

Labelled articles into a project, all or nothing per file (see `annotator.datasets.imports`
for the policy): a JSONL snapshot keeps its annotators, who must be members of the project,
unless `--gold-by` makes each article's annotation gold by that user; Label Studio and doccano
files always import as gold by `--gold-by`. For those two, `--map` turns the file's names
(labels, choices, categories, relations) into the project's, and for Label Studio `--text-key`
names the `data` key holding the text and `--predictions-as` imports predictions as a member's
annotations in progress. Each file's summary counts what came in per kind and what did not.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotator.datasets.imports import IMPORTERS, ImportFailed
from annotator.projects.models import Project


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        name, sep, ours = pair.partition("=")
        if not sep or not name or not ours:
            raise CommandError(f"--map takes NAME=Label (the file's name, then the project's), not “{pair}”.")
        if mapping.get(name, ours) != ours:
            raise CommandError(f"--map gives “{name}” twice: “{mapping[name]}” and “{ours}”.")
        mapping[name] = ours
    return mapping


class Command(BaseCommand):
    help = "Import labelled articles (JSONL snapshot, Label Studio JSON, doccano JSONL) into a project."

    def add_arguments(self, parser):
        parser.add_argument("project_id", type=int)
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--format", required=True, choices=sorted(IMPORTERS))
        parser.add_argument("--gold-by", metavar="USERNAME", help="import every article's annotation as gold by this user")
        parser.add_argument(
            "--map", action="append", default=[], metavar="NAME=Label",
            help="Label Studio and doccano: the file's label, choice, category or relation NAME is the project's Label (repeat for each)",
        )
        parser.add_argument("--text-key", metavar="KEY", help="Label Studio: the task data key holding the text (default: text, or the one key every task has)")
        parser.add_argument(
            "--predictions-as", metavar="USERNAME",
            help="Label Studio: import each task's prediction as this member's annotation in progress (otherwise predictions are counted, not imported)",
        )
        parser.add_argument("--prediction-model", metavar="VERSION", help="Label Studio: with --predictions-as, only this model_version's predictions")

    def handle(self, *args, project_id, files, format, gold_by, map, text_key, predictions_as, prediction_model, **options):
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
        if format != "label-studio" and (text_key or predictions_as or prediction_model):
            raise CommandError("--text-key, --predictions-as and --prediction-model are for Label Studio files.")
        if prediction_model and not predictions_as:
            raise CommandError("--prediction-model chooses which predictions --predictions-as imports: give --predictions-as too.")
        if format == "jsonl" and map:
            raise CommandError("--map is for other tools' files: a JSONL snapshot already uses this app's names.")

        importer = IMPORTERS[format]
        kwargs = {"gold_by": user}
        if format != "jsonl":
            kwargs["mapping"] = _mapping(map)
        if format == "label-studio":
            kwargs.update(text_key=text_key, predictions_by=predictions_as, prediction_model=prediction_model)
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
                self.stdout.write(f"{name}: {result.summary()}")
        self.stdout.write(self.style.SUCCESS(f"Imported {len(files)} file(s) into “{project}”."))
