"""The API's permission matrix: every route × every role, and every object of another project.

The same rules as the pages (tests/test_permissions.py), answered in JSON: no credentials 401, a
non-member 404 (the project might as well not exist), a member whose role is not enough 403,
another analyst's span 404, and an object of another project 404 for everyone, whatever its id.
A refused request changes nothing.
"""

import re
import uuid

import pytest

from annotator.api.api import api
from tests.test_permissions import fingerprint, people, worlds  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

EVERY_MEMBER = {
    "project_detail", "project_progress", "article_list", "article_detail", "annotation_own", "span_create",
    "labels_set", "annotation_submit", "suggestion_list", "suggestion_accept", "suggestion_reject",
    "suggestions_accept_all",
}
OWN_WORK = {"span_update", "span_delete"}  # labelling is blind: only the analyst who made a span
STAFF = {
    "project_agreement_figures", "article_import", "annotation_list", "gold", "queue", "snapshot_list",
    "snapshot_create", "snapshot_detail", "snapshot_file", "import_job",
    "model_version_list", "model_train_start", "model_version_detail",
    "training_settings_read", "training_settings_update",  # the Model page's form
}
ADMIN = {"suggester_settings_read", "suggester_settings_update"}  # the admin site's switches
ROLES = ["anonymous", "outsider", "analyst", "reviewer", "admin"]


def routes():
    """(operation id, method, path template) of every route that names a project, from the served schema."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            if "{project_id}" in path:
                found.append((operation["operationId"].removeprefix("annotator_api_").split("_", 1)[1], method, path))
    return sorted(found)


def body(name, world):
    article = world.article
    start = article.text.index("NATO")
    return {
        "span_create": {"label": "Quote", "start": start, "end": start + 4, "text": "NATO", "client_id": str(uuid.uuid4())},
        "span_update": {"attributes": {}},
        "labels_set": {"topics": [], "stance": {}},
        "article_import": {"articles": [{"text": f"A new article {uuid.uuid4()}."}]},
        "snapshot_create": {"scope": "gold", "formats": ["jsonl"]},
        "training_settings_update": {"retrain_every": 7, "prefer_uncertain": True},
        "suggester_settings_update": {"quotes": False, "speakers": True, "topics": False, "model": True},
    }.get(name)


def url(path, world, project_id):
    values = {"project_id": project_id, "article_id": world.article.id, "span_id": world.span.id,
              "snapshot_id": world.snapshot.id, "job_id": world.import_job.id, "name": "README.md",
              "suggestion_id": world.suggestion.id, "version_id": world.model_version.id}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)


def call(client, method, path, world, project_id, headers, payload):
    response = client.generic(method.upper(), url(path, world, project_id),
                              data=b"" if payload is None else __import__("json").dumps(payload),
                              content_type="application/json", headers=headers)
    if response.streaming:
        b"".join(response.streaming_content)
        for close in response._resource_closers:
            close()
    return response


def allowed(name, role):
    if name in ADMIN:
        return role == "admin"
    if name in EVERY_MEMBER or name in OWN_WORK:
        return role in {"analyst", "reviewer", "admin"}
    return role in {"reviewer", "admin"}


def test_every_route_is_in_the_matrix():
    assert {name for name, _, _ in routes()} == EVERY_MEMBER | OWN_WORK | STAFF | ADMIN


@pytest.fixture
def headers(people, bearer):
    def make(role):
        return {} if role == "anonymous" else bearer(people[role])

    return make


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path"), routes())
def test_role_matrix(client, worlds, headers, name, method, path, role):  # noqa: F811
    mine, _ = worlds
    before = fingerprint()
    response = call(client, method, path, mine, mine.project.id, headers(role), body(name, mine))
    assert response["Content-Type"].startswith(("application/json", "application/problem+json", "text/markdown")), \
        response["Content-Type"]
    if role == "anonymous":
        assert response.status_code == 401, (name, response.status_code)
        assert response["Content-Type"] == "application/problem+json"
    elif name in OWN_WORK and role in {"reviewer", "admin"}:
        assert response.status_code == 404, (name, role, response.status_code)  # not their span
    elif allowed(name, role):
        assert response.status_code not in (401, 403, 404, 422, 500), (name, role, response.status_code, response.content)
        return
    elif role == "outsider":
        assert response.status_code == 404, (name, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)
    assert fingerprint() == before


OBJECT_ROUTES = [r for r in routes() if re.search(r"\{(article_id|span_id|snapshot_id|job_id|suggestion_id|version_id)", r[2])]


@pytest.mark.parametrize("role", ["analyst", "reviewer", "admin"])
@pytest.mark.parametrize(("name", "method", "path"), OBJECT_ROUTES)
def test_objects_of_another_project_are_never_reached(client, worlds, headers, name, method, path, role):  # noqa: F811
    """The URL names my project; every other id in it belongs to the other project."""
    mine, theirs = worlds
    before = fingerprint()
    response = call(client, method, path, theirs, mine.project.id, headers(role), body(name, theirs))
    assert response.status_code == (404 if allowed(name, role) else 403), (name, role, response.status_code)
    assert fingerprint() == before


PROJECT_ROUTES = [r for r in routes() if r[0].endswith("_settings_read") or r[0].endswith("_settings_update")]


@pytest.mark.parametrize("role", ["analyst", "reviewer", "admin"])
@pytest.mark.parametrize(("name", "method", "path"), PROJECT_ROUTES)
def test_another_projects_settings_are_never_reached(client, worlds, headers, name, method, path, role):  # noqa: F811
    """The settings are the project's own object: naming the other project's id is a 404 for every
    role of mine (the other project's admin is the outsider, who reaches them)."""
    mine, theirs = worlds
    before = fingerprint()
    response = call(client, method, path, theirs, theirs.project.id, headers(role), body(name, theirs))
    assert response.status_code == 404, (name, role, response.status_code)
    assert response["Content-Type"] == "application/problem+json"
    assert fingerprint() == before
    reached = call(client, method, path, theirs, theirs.project.id, headers("outsider"), body(name, theirs))
    assert reached.status_code == 200, (name, reached.status_code, reached.content)


def test_an_outsider_cannot_list_another_projects_articles_by_any_route(client, worlds, headers):  # noqa: F811
    mine, theirs = worlds
    listed = client.get("/api/v1/projects/", headers=headers("outsider")).json()
    assert [p["id"] for p in listed["results"]] == [theirs.project.id]
