"""No server-side request forgery: the app never fetches a URL it is given.

Imported rows carry URLs (metadata addresses, loopback, private ranges) and HTML pages carry
remote images, scripts and stylesheets; importing and showing them must not resolve a name or
open a connection. Whoever adds URL import must refuse loopback, private, link-local and
metadata addresses, after redirects and DNS resolution, and extend these tests.
"""

import json
import socket

import pytest
from django.urls import reverse

from annotator.corpus.services import article_import

pytestmark = pytest.mark.django_db

TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://[::1]/",
    "http://10.0.0.1/admin",
    "http://metadata.google.internal/computeMetadata/v1/",
]


@pytest.fixture
def network_watch(monkeypatch):
    """Every name resolution and connection attempt, refused and recorded."""
    attempts = []

    def refuse(kind):
        def attempt(*args, **kwargs):
            attempts.append((kind, args[:2]))
            raise OSError(f"test: no {kind} allowed")

        return attempt

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    return attempts


def test_importing_rows_with_internal_urls_fetches_nothing(project, network_watch):
    rows = [{"title": f"Row {i}", "text": f"Article {i} about Armenia.", "url": url} for i, url in enumerate(TARGETS[:1])]
    rows += [{"title": f"Meta {i}", "text": f"Another article {i}.", "metadata": {"source_url": url}}
             for i, url in enumerate(TARGETS)]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = article_import(project=project, files=[("rows.jsonl", data)])
    assert report.errors == [] and len(report.created) == len(rows)
    assert network_watch == []


def test_importing_an_html_page_full_of_remote_references_fetches_nothing(project, network_watch):
    references = "".join(
        f'<img src="{url}"><script src="{url}"></script><link rel="stylesheet" href="{url}"><iframe src="{url}"></iframe>'
        for url in TARGETS
    )
    page = (
        "<html><head><title>Lavrov in Yerevan</title>"
        f'<meta property="og:url" content="{TARGETS[0]}"><base href="{TARGETS[1]}"></head>'
        f"<body>{references}<article><h1>Lavrov in Yerevan</h1>"
        + "".join(f"<p>Paragraph {i}: the minister said the talks would continue next week in Yerevan.</p>" for i in range(6))
        + "</article></body></html>"
    ).encode()
    report = article_import(project=project, files=[("page.html", page)])
    assert report.errors == [] and len(report.created) == 1
    assert network_watch == []


def test_showing_articles_with_internal_urls_fetches_nothing(client, project, analyst, network_watch):
    data = json.dumps({"title": "Row", "text": "Article about Syria.", "url": TARGETS[0]}).encode()
    [article] = article_import(project=project, files=[("row.jsonl", data)]).created
    client.force_login(analyst)
    assert client.get(reverse("label_article", args=[project.id, article.id])).status_code == 200
    assert client.get(reverse("export_jsonl", args=[project.id])).status_code == 200
    assert network_watch == []
