"""Schemathesis against the schema the app serves: generated requests to every route, valid and
not, must never get a 500 nor a response that breaks the schema (status, content type, body).

Requests carry an admin's token (the role that may use every route) and go to a real project:
the generated ids are kept half the time (a 404 is documented) and otherwise replaced by real
ones, so the checks reach the services and not only the 404s.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotator.api.services import token_create
from annotator.corpus.models import ImportJob
from annotator.datasets.models import Snapshot
from tests.factories import ArticleFactory, UserFactory, make_project

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Loaded from the application itself, as served at /api/v1/openapi.json (no database is needed for it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    # Requests go to the WSGI application itself, which would close the test's database connection
    # when each one ends (as Django's test client prevents for its own requests).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, tmp_path):
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path / "snapshots"
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path / "imports"
    settings.ANNOTATOR_API_RATE = "100000/min"
    admin = UserFactory(username="fuzz-admin")
    project = make_project(name="Fuzz", admin=admin, analyst=UserFactory(username="fuzz-analyst"))
    article = ArticleFactory(project=project, text="Lavrov said “NATO is expanding” on Monday. 👨‍👩‍👧 مرحبا")
    snapshot = Snapshot.objects.create(project=project, created_by=admin, parameters={}, status=Snapshot.Status.READY)
    job = ImportJob.objects.create(project=project, created_by=admin)
    _, secret = token_create(user=admin, name="fuzz")
    real = {"project_id": project.id, "article_id": article.id, "snapshot_id": str(snapshot.id), "job_id": str(job.id)}
    return real, {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_matches_the_schema(case, world):
    real, headers = world
    parameters = case.path_parameters or {}
    if "project_id" in parameters:
        parameters["project_id"] = real["project_id"]
    for name in ("article_id", "snapshot_id", "job_id"):
        if name in parameters and hash(str(parameters[name])) % 2 == 0:
            parameters[name] = real[name]
    case.call_and_validate(headers=headers, checks=CHECKS)
