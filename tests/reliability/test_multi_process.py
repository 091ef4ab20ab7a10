"""Two app servers and a task worker on one database (issue 6, "nothing lost").

Two gunicorn processes on different ports and a `run_worker` share the test database; an
analyst's browser session (its cookies) moves between the servers the way a load balancer
would send it: log in on A, save spans alternately on A and B, retry a save on the other
server, edit and delete on B, topics and stance on A, submit on both. The database holds
exactly what the responses said. An admin then asks for a snapshot on A and downloads it from
B once the worker has built it: it holds every span. Runs on SQLite and on PostgreSQL.
"""

import json
import re
import time
import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from annotator.datasets.models import Snapshot
from annotator.labelling.models import Annotation, Span
from tests.factories import ArticleFactory, UserFactory, make_project

from . import processes

pytestmark = pytest.mark.django_db(transaction=True)

ARABIC_SEED = settings.BASE_DIR / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt"
ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"
FAMILY = "👩\u200d👩\u200d👧"
MIXED = f"{FAMILY} Lavrov said “NATO is expanding” 🇦🇲.\nq\u0307 مُحَمَّد replied."


@pytest.fixture
def servers(tasks_database, env_for_test_database, tmp_path):
    """App servers A and B (two gunicorn workers each) and a task worker, all on the test database."""
    env = env_for_test_database()
    started = []
    try:
        a = processes.Gunicorn(env, tmp_path / "server-a.log")
        started.append(a)
        b = processes.Gunicorn(env, tmp_path / "server-b.log")
        started.append(b)
        worker = processes.worker({**env, "CONN_MAX_AGE": "0"}, tmp_path / "worker.log")
        started.append(worker)
        yield a, b, worker
    finally:
        for process in reversed(started):
            process.stop()


def people_and_articles():
    analyst = UserFactory(username="analyst")
    admin = UserFactory(username="lead")
    # The servers run the production settings, whose password hashers the test settings' MD5 is not among.
    get_user_model().objects.update(password=processes.production_password("pw"))
    project = make_project(name="Two servers", analyst=analyst, admin=admin)
    arabic = ArticleFactory(project=project, title="Arabic", text=ARABIC_SEED.read_text(encoding="utf-8"), language="ar")
    mixed = ArticleFactory(project=project, title="Mixed", text=MIXED, language="")
    return analyst, project, arabic, mixed


def article_path(project, article) -> str:
    return f"/p/{project.id}/a/{article.id}/"


def saved_span(response) -> dict:
    """The span the answer to a save opened in the editor, as the page shows it."""
    html = response.text
    span_id = int(re.search(r'/spans/(\d+)/update/"', html).group(1))
    start, end = map(int, re.search(r"Characters (\d+)–(\d+)", html).groups())
    return {"id": span_id, "start": start, "end": end}


def listed_span_ids(html: str) -> set[int]:
    """The spans an answer puts in the span list (an entry marked for removal takes one out)."""
    return {int(i) for i in re.findall(r'<li id="span-(\d+)"(?: data-change="(?:add|replace)"[^>]*)?>', html)}


def test_a_session_moving_between_two_servers_loses_nothing(servers):
    a, b, worker = servers
    analyst, project, arabic, mixed = people_and_articles()
    labels = {label.name: label.id for label in project.span_labels.all()}
    browser = processes.Browser()
    browser.log_in(a.port, "analyst", "pw")

    plan = [
        (arabic, "Quote", ARABIC_QUOTE),
        (mixed, "Source", FAMILY),
        (arabic, "Source", "سيرغي لافروف"),
        (mixed, "Claim", "NATO is expanding"),
        (mixed, "Claim", "🇦🇲"),
        (mixed, "Source", "q\u0307 مُحَمَّد"),
    ]
    expected = {}  # span id -> (article id, label, start, end, text)
    sent = []
    for n, (article, label, phrase) in enumerate(plan):
        port = (a, b)[n % 2].port
        start = article.text.index(phrase)
        form = {"label": labels[label], "start": start, "end": start + len(phrase), "text": phrase,
                "client_id": str(uuid.uuid4())}
        response = browser.post(port, article_path(project, article) + "spans/", form)
        assert response.status == 201, (port, response.status, response.text[:500])
        span = saved_span(response)
        assert (span["start"], span["end"]) == (form["start"], form["end"])
        assert span["id"] in listed_span_ids(response.text)
        expected[span["id"]] = (article.id, label, form["start"], form["end"], phrase)
        sent.append((article, form, span["id"]))

    # A save whose answer was lost, retried on the other server: the same span, not a second one.
    article, form, span_id = sent[-1]
    retried = browser.post(a.port, article_path(project, article) + "spans/", form)
    assert retried.status == 201
    assert saved_span(retried)["id"] == span_id

    # Edit on B: the Arabic quote gets its speaker; delete on B: the flag is not a claim after all.
    quote_id = sent[0][2]
    edited = browser.post(
        b.port, article_path(project, arabic) + f"spans/{quote_id}/update/",
        {"label": labels["Quote"], "attr-speaker": "سيرغي لافروف", "attr-stance": "critical"},
    )
    assert edited.status == 200, edited.text[:500]
    flag_id = sent[4][2]
    deleted = browser.post(b.port, article_path(project, mixed) + f"spans/{flag_id}/delete/", {})
    assert deleted.status == 200
    assert flag_id not in listed_span_ids(deleted.text)
    del expected[flag_id]

    # Topics and stance on A, then each article submitted on a different server.
    armenia = project.topics.get(name="Armenia")
    west, critical = project.stance_targets.get(name="the West"), project.stance_values.get(name="critical")
    labelled = browser.post(
        a.port, article_path(project, arabic) + "labels/", {"topics": [armenia.id], f"stance-{west.id}": critical.id}
    )
    assert labelled.status == 200 and "Saved at" in labelled.text
    for port, article in ((b.port, arabic), (a.port, mixed)):
        submitted = browser.post(port, article_path(project, article) + "submit/", {})
        assert submitted.status == 200 and submitted.headers["HX-Redirect"], submitted.text[:500]

    # The database holds exactly what the answers said, and each server's page shows it.
    spans = Span.objects.filter(annotation__annotator=analyst).select_related("label", "annotation__article")
    assert {s.id: (s.annotation.article_id, s.label.name, s.start, s.end, s.text) for s in spans} == expected
    for span in spans:
        assert span.annotation.article.text[span.start : span.end] == span.text
    assert Span.objects.get(pk=quote_id).attributes == {"speaker": "سيرغي لافروف", "stance": "critical"}
    annotation = Annotation.objects.get(article=arabic, annotator=analyst)
    assert [t.name for t in annotation.topics.all()] == ["Armenia"]
    assert {s.target.name: s.value.name for s in annotation.stances.all()} == {"the West": "critical"}
    assert set(Annotation.objects.filter(annotator=analyst).values_list("status", flat=True)) == {"submitted"}
    for port in (a.port, b.port):
        for article in (arabic, mixed):
            page = browser.get(port, article_path(project, article))
            assert page.status == 200
            assert listed_span_ids(page.text) == {i for i, e in expected.items() if e[0] == article.id}

    # The admin asks for a snapshot on A; the worker builds it; B serves its files.
    admin = processes.Browser()
    admin.log_in(a.port, "lead", "pw")
    asked = admin.post(
        a.port, f"/p/{project.id}/datasets/",
        {"scope": "analysts", "formats": ["jsonl"], "train": "100", "validation": "0", "test": "0",
         "seed": "1", "near_duplicate_threshold": "0.8"},
        htmx=False,
    )
    assert asked.status == 302, asked.text[:1000]
    snapshot = Snapshot.objects.get()
    deadline = time.monotonic() + 120
    while not snapshot.finished and time.monotonic() < deadline:
        assert worker.alive(), worker.output()
        time.sleep(0.2)
        snapshot.refresh_from_db()
    assert snapshot.status == "ready", (snapshot.error, worker.output())

    page = admin.get(b.port, f"/p/{project.id}/datasets/")
    assert page.status == 200
    links = re.findall(rf'href="(/p/{project.id}/datasets/{snapshot.id}/[\w.-]+\.jsonl)"', page.text)
    assert links, page.text[:2000]
    exported = {}
    for link in links:
        download = admin.get(b.port, link)
        assert download.status == 200
        for line in download.text.splitlines():
            record = json.loads(line)
            for annotation in record["annotations"]:
                assert annotation["annotator"] == "analyst"
                for span in annotation["spans"]:
                    assert record["text"][span["start"] : span["end"]] == span["text"]
                    exported[span["id"]] = (record["id"], span["label"], span["start"], span["end"], span["text"])
                    if span["id"] == quote_id:
                        assert span["attributes"] == {"speaker": "سيرغي لافروف", "stance": "critical"}
    assert exported == expected
