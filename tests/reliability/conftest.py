import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from .processes import database_url, manage, process_env


@pytest.fixture
def tasks_database(settings, transactional_db):
    """django-tasks-db's table in the test database, and its backend in this process, as the
    worker and app server processes have them (unless the project already installs it)."""
    installed = apps.is_installed("django_tasks_db")
    if not installed:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_tasks_db"]
    label = next(config.label for config in apps.get_app_configs() if config.name == "django_tasks_db")
    if not installed:
        call_command("migrate", label, verbosity=0)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    yield
    if not installed:
        # Its migrations cannot be reversed: drop the table, and forget them.
        from django_tasks_db.models import DBTaskResult

        with connection.schema_editor() as editor:
            editor.delete_model(DBTaskResult)
        MigrationRecorder(connection).migration_qs.filter(app=label).delete()


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

