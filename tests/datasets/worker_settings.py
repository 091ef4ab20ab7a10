"""Settings for the real `manage.py run_worker` process that test_worker.py starts.

The test settings, plus the lead's production tasks setup (django-tasks-db's DatabaseBackend),
pointed by the environment at the test database and the test's snapshot folder.
"""

import os

from tests.settings import *  # noqa: F403

if "django_tasks_db" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]  # noqa: F405
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
ANNOTATOR_SNAPSHOT_ROOT = os.environ["ANNOTATOR_SNAPSHOT_ROOT"]
