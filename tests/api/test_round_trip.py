"""A data team's round trip through the API alone: articles in, spans labelled, read back, a
snapshot made, downloaded and loaded (the README shows the same calls with curl and Python)."""

import json
import uuid

import pytest

from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def test_articles_spans_snapshot_round_trip(client, bearer, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path
    admin, analyst = UserFactory(username="lead"), UserFactory(username="ana")
    project = make_project(name="API", admin=admin, analyst=analyst)
    as_admin, as_analyst = bearer(admin), bearer(analyst)
    base = f"/api/v1/projects/{project.id}"

    text = "Lavrov said “NATO is expanding” on Monday. 👨‍👩‍👧 مرحبا"
    response = client.post(f"{base}/articles", {"articles": [{"text": text, "title": "One"}, {"text": "Second article."}]},
                           content_type="application/json", headers=as_admin)
    assert response.status_code == 201, response.content
    first, second = response.json()["created"]

    listed = client.get(f"{base}/articles?limit=1", headers=as_analyst).json()
    assert [a["id"] for a in listed["results"]] == [first]
    following = client.get(listed["next"], headers=as_analyst).json()
    assert [a["id"] for a in following["results"]] == [second] and following["next"] is None

    article = client.get(f"{base}/articles/{first}", headers=as_analyst).json()
    assert article["text"] == text
    start = text.index("NATO")
    span = {"label": "Quote", "start": start, "end": start + 17, "text": "NATO is expanding", "client_id": str(uuid.uuid4())}
    created = client.post(f"{base}/articles/{first}/spans", span, content_type="application/json", headers=as_analyst)
    assert created.status_code == 201, created.content
    assert created["ETag"] == '"v2"'  # made at v1 by this first span, which moved it on
    again = client.post(f"{base}/articles/{first}/spans", span, content_type="application/json", headers=as_analyst)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]  # idempotent by client id

    labels = client.put(f"{base}/articles/{first}/labels", {"topics": ["Syria"], "stance": {}},
                        content_type="application/json", headers=as_analyst | {"If-Match": created["ETag"]})
    assert labels.status_code == 200, labels.content
    submitted = client.post(f"{base}/articles/{first}/submit", headers=as_analyst)
    assert submitted.json()["status"] == "submitted"

    mine = client.get(f"{base}/articles/{first}/annotation", headers=as_analyst)
    body = mine.json()
    assert [(s["label"], s["start"], s["end"], s["text"]) for s in body["spans"]] == [
        ("Quote", start, start + 17, "NATO is expanding")
    ]
    assert body["topics"] == ["Syria"] and mine["ETag"] == f'"v{body["version"]}"'

    with django_capture_on_commit_callbacks(execute=True):  # the build, as the worker runs it after the commit
        asked = client.post(f"{base}/snapshots", {"scope": "analysts", "formats": ["jsonl"]},
                            content_type="application/json", headers=as_admin)
    assert asked.status_code == 202, asked.content
    snapshot = client.get(f"{base}/snapshots/{asked.json()['id']}", headers=as_admin).json()
    assert snapshot["status"] == "ready", snapshot
    urls = {f["name"]: f["url"] for f in snapshot["files"]}
    jsonl_name = next(name for name in urls if name.endswith(".jsonl"))
    download = client.get(urls[jsonl_name], headers=as_admin)
    assert download.status_code == 200
    records = [json.loads(line) for line in b"".join(download.streaming_content).decode().splitlines()]
    labelled = next(r for r in records if r["id"] == first)
    [annotation] = labelled["annotations"]
    assert [(s["start"], s["end"], s["text"]) for s in annotation["spans"]] == [(start, start + 17, "NATO is expanding")]
