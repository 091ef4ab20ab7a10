"""Bad input gets problem-details JSON (RFC 9457) naming the row and field; nothing is half-done."""

import uuid

import pytest

from annotator.corpus.models import Article
from annotator.labelling.models import Span
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(bearer):
    admin, analyst = UserFactory(username="lead"), UserFactory(username="ana")
    project = make_project(name="Errors", admin=admin, analyst=analyst)
    article = ArticleFactory(project=project, text="Lavrov said “NATO is expanding” on Monday. 👨‍👩‍👧 end")
    return project, article, bearer(admin), bearer(analyst)


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def test_an_import_with_a_bad_row_imports_nothing_and_names_every_bad_row(client, setup):
    project, _, admin, _ = setup
    rows = [{"text": "Fine article."}, {"title": "no text"}, "not an object", {"text": "ok", "published": "yesterday"}]
    body = problem(client.post(f"/api/v1/projects/{project.id}/articles", {"articles": rows},
                               content_type="application/json", headers=admin), 422)
    assert sorted(e["row"] for e in body["errors"]) == [1, 2, 3]
    assert all(e["message"] for e in body["errors"])
    assert Article.objects.filter(project=project).count() == 1  # only the fixture's


def test_duplicates_are_reported_not_refused(client, setup):
    project, article, admin, _ = setup
    response = client.post(f"/api/v1/projects/{project.id}/articles", {"articles": [{"text": article.text}, {"text": "New."}]},
                           content_type="application/json", headers=admin)
    assert response.status_code == 201
    assert len(response.json()["created"]) == 1 and response.json()["duplicates"][0]["row"] == 0


def test_a_large_batch_is_a_background_job_with_a_status_url(client, setup, settings, tmp_path,
                                                             django_capture_on_commit_callbacks):
    project, _, admin, _ = setup
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path
    rows = [{"text": f"Article number {n}.", "title": f"N{n}"} for n in range(1001)]
    with django_capture_on_commit_callbacks(execute=True):  # the worker's run, after the commit
        response = client.post(f"/api/v1/projects/{project.id}/articles", {"articles": rows},
                               content_type="application/json", headers=admin)
    assert response.status_code == 202, response.content
    job = client.get(response.json()["url"], headers=admin).json()
    assert job["status"] == "done" and job["report"]["created"] == 1001
    assert Article.objects.filter(project=project).count() == 1002


def test_a_large_batch_with_a_bad_row_imports_nothing_and_its_job_names_the_row(
        client, setup, settings, tmp_path, django_capture_on_commit_callbacks):
    project, _, admin, _ = setup
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path
    rows = [{"text": f"Article number {n}."} for n in range(1001)]
    rows[500] = {"title": "no text"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/projects/{project.id}/articles", {"articles": rows},
                               content_type="application/json", headers=admin)
    job = client.get(response.json()["url"], headers=admin).json()
    assert job["status"] == "failed"
    assert [(e["file"], e["row"]) for e in job["report"]["errors"]] == [("api.jsonl", 501)]
    assert Article.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(("start", "end", "text", "says"), [
    (12, 16, "WRONG", "does not match"),
    (0, 10_000, "x", "not inside the article"),
    (44, 46, None, "split"),  # inside the ZWJ family emoji
])
def test_a_span_the_text_does_not_hold_is_422_and_not_saved(client, setup, start, end, text, says):
    project, article, _, analyst = setup
    text = article.text[start:end] if text is None else text
    body = problem(client.post(f"/api/v1/projects/{project.id}/articles/{article.id}/spans",
                               {"label": "Quote", "start": start, "end": end, "text": text, "client_id": str(uuid.uuid4())},
                               content_type="application/json", headers=analyst), 422)
    assert says in body["detail"]
    assert not Span.objects.exists()


def test_an_unknown_label_is_422(client, setup):
    project, article, _, analyst = setup
    body = problem(client.post(f"/api/v1/projects/{project.id}/articles/{article.id}/spans",
                               {"label": "Nope", "start": 0, "end": 6, "text": "Lavrov", "client_id": str(uuid.uuid4())},
                               content_type="application/json", headers=analyst), 422)
    assert "Nope" in body["detail"]


def test_input_that_breaks_the_schema_names_the_field(client, setup):
    project, article, _, analyst = setup
    body = problem(client.post(f"/api/v1/projects/{project.id}/articles/{article.id}/spans",
                               {"label": "Quote", "start": "zero", "end": 6, "text": "Lavrov", "client_id": "x"},
                               content_type="application/json", headers=analyst), 422)
    assert {e["field"] for e in body["errors"]} == {"start", "client_id"}


def test_a_stale_if_match_is_412_and_changes_nothing(client, setup):
    project, article, _, analyst = setup
    base = f"/api/v1/projects/{project.id}"
    first = client.post(f"{base}/articles/{article.id}/spans",
                        {"label": "Source", "start": 0, "end": 6, "text": "Lavrov", "client_id": str(uuid.uuid4())},
                        content_type="application/json", headers=analyst)
    seen = first["ETag"]
    client.put(f"{base}/articles/{article.id}/labels", {"topics": ["Syria"]}, content_type="application/json",
               headers=analyst)  # another client's change moves the version on
    span = first.json()["id"]
    problem(client.patch(f"{base}/spans/{span}", {"label": "Claim"}, content_type="application/json",
                         headers=analyst | {"If-Match": seen}), 412)
    problem(client.delete(f"{base}/spans/{span}", headers=analyst | {"If-Match": seen}), 412)
    assert Span.objects.get().label.name == "Source"
    fresh = client.get(f"{base}/articles/{article.id}/annotation", headers=analyst)["ETag"]
    assert client.delete(f"{base}/spans/{span}", headers=analyst | {"If-Match": fresh}).status_code == 204
    assert not Span.objects.exists()


def test_a_malformed_if_match_or_cursor_is_refused(client, setup):
    project, article, _, analyst = setup
    base = f"/api/v1/projects/{project.id}"
    problem(client.put(f"{base}/articles/{article.id}/labels", {"topics": []}, content_type="application/json",
                       headers=analyst | {"If-Match": "yesterday"}), 412)
    problem(client.get(f"{base}/articles?cursor=bm9wZQ", headers=analyst), 400)
    problem(client.get(f"{base}/articles?cursor=eyJhZnRlciI6ICJ4In0=", headers=analyst), 400)  # {"after": "x"}


def test_a_nul_anywhere_a_name_is_looked_up_is_refused_not_a_server_error(client, setup):
    """PostgreSQL cannot hold or even look up a NUL: found by Schemathesis as a 500."""
    import base64

    project, article, _, analyst = setup
    base = f"/api/v1/projects/{project.id}"
    body = problem(client.post(f"{base}/articles/{article.id}/spans",
                               {"label": "Quote\u0000", "start": 0, "end": 6, "text": "Lavrov",
                                "client_id": str(uuid.uuid4())},
                               content_type="application/json", headers=analyst), 422)
    assert "U+0000" in body["detail"]
    problem(client.get(f"{base}/articles", {"language": "en\x00"}, headers=analyst), 422)
    problem(client.get(f"{base}/articles", {"source": "\x00"}, headers=analyst), 422)
    cursor = base64.urlsafe_b64encode(b'{"after": "\\u0000"}').decode()
    problem(client.get(f"{base}/articles", {"cursor": cursor}, headers=analyst), 400)
    assert not Span.objects.exists()
    admin = setup[2]
    body = problem(client.post(f"{base}/snapshots", {"scope": "analyst", "analyst": "analyst1\u0000"},
                               content_type="application/json", headers=admin), 422)
    assert "U+0000" in body["detail"]


def test_a_snapshot_with_the_pages_bad_choices_is_422_naming_the_field(client, setup):
    project, _, admin, _ = setup
    body = problem(client.post(f"/api/v1/projects/{project.id}/snapshots",
                               {"scope": "analyst", "formats": ["jsonl"], "train": 90},
                               content_type="application/json", headers=admin), 422)
    fields = {e["field"] for e in body["errors"]}
    assert "analyst" in fields and "__all__" in fields  # no analyst chosen; percentages add up to 110
    assert not project.snapshots.exists()


def test_a_url_no_route_matches_is_problem_json_under_api_and_the_page_elsewhere(client, setup):
    _, _, admin, _ = setup
    problem(client.get("/api/v1/projects/1/snapshots/x/files/a%0Ab", headers=admin), 404)
    problem(client.get("/api/v1/nothing-here", headers=admin), 404)
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_request_over_the_upload_limit_is_413_problem_json(client, setup, settings):
    project, _, admin, _ = setup
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    problem(client.post(f"/api/v1/projects/{project.id}/articles", {"articles": [{"text": "x" * 2000}]},
                        content_type="application/json", headers=admin), 413)
    assert project.articles.count() == 1
