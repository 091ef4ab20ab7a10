"""Settings for the processes the reliability tests start: gunicorn app servers and task workers.

The production settings (DEBUG off, WhiteNoise's manifest storage, django-axes, django-tasks-db's
worker), pointed by the environment at the test's database and snapshot folder (see
processes.process_env), plus two things the production settings do not read from it.
"""

import os

from annotator.settings import *  # noqa: F403

# The static files the test collected into a folder of its own.
STATIC_ROOT = os.environ.get("STATIC_ROOT", STATIC_ROOT)  # noqa: F405
# A build's heartbeat, faster in a test so that a killed build goes stale in seconds.
ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS = float(os.environ.get("ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS", "5"))
# How long a build may go without a heartbeat before recovery takes it for stopped.
ANNOTATOR_SNAPSHOT_STALE_SECONDS = float(os.environ.get("ANNOTATOR_SNAPSHOT_STALE_SECONDS", "60"))
