"""The local demo: four accounts with published passwords, one project, the five seed articles.

Safe to run again (`make run` runs it at every start): existing accounts are left alone, since
setting a password again would end every session of it; memberships are brought back to the
roles below, the project is reused by name, and the import skips articles it already holds.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from annotator.corpus.services import article_import
from annotator.projects.models import Membership, Project
from annotator.projects.services import membership_set, project_create

DEMO_URL = "http://127.0.0.1:8000/"
PROJECT_NAME = "Demo: Lavrov in the news"
PROJECT_DESCRIPTION = "Five scraped news articles about Sergey Lavrov (one in Arabic), to try labelling on."
SEEDS_DIR = Path(settings.BASE_DIR) / "fixtures" / "seeds"

# username, password, project role, superuser. Published on purpose: this is a local demo,
# which is why the command refuses to run outside DEBUG.
DEMO_ACCOUNTS = [
    ("admin", "demo-admin", Membership.Role.ADMIN, True),
    ("reviewer", "demo-reviewer", Membership.Role.REVIEWER, False),
    ("analyst1", "demo-analyst1", Membership.Role.ANALYST, False),
    ("analyst2", "demo-analyst2", Membership.Role.ANALYST, False),
]


class Command(BaseCommand):
    help = "Create the demo accounts and project and import the seed articles (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (the passwords are public)."
        )
        parser.add_argument("--url", default=DEMO_URL, help=f"Where the demo is served (default {DEMO_URL}).")

    def handle(self, *args, force: bool = False, url: str = DEMO_URL, **options):
        if not (settings.DEBUG or force):
            raise CommandError(
                "seed_demo creates accounts whose passwords are published; it runs only with DEBUG=1 "
                "(or --force, never on a real deployment)."
            )
        with transaction.atomic():
            users = {}
            for username, password, _role, superuser in DEMO_ACCOUNTS:
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    user = get_user_model()(username=username, is_staff=superuser, is_superuser=superuser)
                    user.set_password(password)
                    user.save()
                users[username] = user

            project = Project.objects.filter(name=PROJECT_NAME).order_by("id").first()
            if project is None:
                project = project_create(name=PROJECT_NAME, description=PROJECT_DESCRIPTION)
            for username, _password, role, _superuser in DEMO_ACCOUNTS:
                membership_set(project=project, user=users[username], role=role)

            files = [(path.name, path.read_bytes()) for path in sorted(SEEDS_DIR.glob("*.txt"))]
            report = article_import(project=project, files=files)
            if report.errors:
                raise CommandError("The seed articles did not import:\n" + "\n".join(map(str, report.errors)))

        self.stdout.write(
            f'Project "{project.name}": {project.articles.count()} articles '
            f"({len(report.created)} imported now, {len(report.duplicates)} already there)."
        )
        self.stdout.write(self.style.SUCCESS(f"\nOpen {url} and log in as one of:\n"))
        rows = [("username", "password", "role")] + [
            (username, password, f"{role.label.lower()}" + (", and Django admin at /admin/" if superuser else ""))
            for username, password, role, superuser in DEMO_ACCOUNTS
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        rows.insert(1, tuple("-" * w for w in widths))
        for row in rows:
            self.stdout.write("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        self.stdout.write("")
