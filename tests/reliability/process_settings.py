"""Settings for the processes the reliability tests start: gunicorn app servers and task workers.

The production settings (DEBUG off, WhiteNoise's manifest storage, django-axes), plus the
task worker the deployment runs: django-tasks-db's DatabaseBackend, unless the settings already
configure it. The environment says which database, snapshot folder and static folder to use.
"""

import os

os.environ.setdefault("TASKS_BACKEND", "database")

from annotator.settings import *  # noqa: E402,F403

if "django_tasks_db" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_db"]  # noqa: F405
if globals().get("TASKS", {}).get("default", {}).get("BACKEND") != "django_tasks_db.DatabaseBackend":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

STATIC_ROOT = os.environ.get("STATIC_ROOT", STATIC_ROOT)  # noqa: F405
ANNOTATOR_SNAPSHOT_ROOT = os.environ["ANNOTATOR_SNAPSHOT_ROOT"]
ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS = float(os.environ.get("ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS", "5"))
