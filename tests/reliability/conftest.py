import pytest
from django.db import connection

from .cluster import cluster  # noqa: F401  (the private PostgreSQL cluster, a fixture)
from .processes import database_url, manage, process_env


@pytest.fixture
def tasks_database(settings, transactional_db):
    """Tasks enqueued in this process go to the database, where the worker processes take them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def snapshot_root(settings, tmp_path):
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path / "snapshots"
    return settings.ANNOTATOR_SNAPSHOT_ROOT


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """collectstatic once, into a folder of the tests' own, for the production settings' manifest storage."""
    root = tmp_path_factory.mktemp("static")
    env = process_env(database_url=f"sqlite:///{root / 'unused.sqlite3'}", snapshot_root=root, static_root=root)
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    return root


@pytest.fixture
def env_for_test_database(transactional_db, snapshot_root, static_root):
    """Builds the environment of a process that shares this test's database and folders."""

    def build(**overrides):
        return process_env(
            database_url=database_url(connection.settings_dict), snapshot_root=snapshot_root,
            static_root=static_root, **overrides,
        )

    return build

