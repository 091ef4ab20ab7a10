"""The app while its PostgreSQL server restarts (issue 6, "nothing lost").

A gunicorn server runs against a PostgreSQL cluster of the test's own (initdb in a temporary
folder, its own port and socket folder; the system cluster that everyone else uses is never
touched). The cluster is stopped: pages answer at once with a server error instead of hanging,
and a span save answers with a non-2xx status, which the labelling page's JavaScript shows as
"not saved" and keeps for a retry (tested in the browser in tests/browser). The cluster starts
again: the same server process, the same gunicorn worker, serves pages and saves spans again
(CONN_HEALTH_CHECKS drops the dead connection). Runs whatever database the other tests use.
"""

import time
import uuid

from . import processes

ARTICLE = "Lavrov said “NATO is expanding” today.\nالدول الغربية تتودد إلى أرمينيا 👩‍👩‍👧."
SETUP = """
from django.contrib.auth import get_user_model
from annotator.corpus.models import Article
from annotator.corpus.text import normalise, sha256
from annotator.projects.models import Membership
from annotator.projects.services import project_create

analyst = get_user_model().objects.create_user("analyst", password="pw")
project = project_create(name="Restart")
Membership.objects.create(project=project, user=analyst, role="analyst")
text = normalise({text!r})
article = Article.objects.create(project=project, title="Restart", text=text, sha256=sha256(text))
print(project.id, article.id, project.span_labels.get(name="Claim").id)
"""


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def span_count(cluster) -> int:
    with cluster.connect() as connection:
        return connection.execute("SELECT count(*) FROM labelling_span").fetchone()[0]


def test_app_answers_clearly_while_postgres_is_down_and_recovers_after(cluster, static_root, tmp_path):
    env = processes.process_env(
        database_url=cluster.url(), snapshot_root=tmp_path / "snapshots", static_root=static_root
    )
    processes.manage(env, "migrate", "--noinput", "--verbosity", "0")
    made = processes.manage(env, "shell", "--no-imports", "-c", SETUP.format(text=ARTICLE))
    project_id, article_id, label_id = map(int, made.split())
    page_path = f"/p/{project_id}/a/{article_id}/"

    def span_form(phrase):
        start = ARTICLE.index(phrase)
        return {"label": label_id, "start": start, "end": start + len(phrase), "text": phrase,
                "client_id": str(uuid.uuid4())}

    server = processes.Gunicorn(env, tmp_path / "gunicorn.log", workers=1)
    try:
        browser = processes.Browser()
        browser.log_in(server.port, "analyst", "pw")
        assert browser.get(server.port, page_path).status == 200
        assert browser.post(server.port, page_path + "spans/", span_form("NATO is expanding")).status == 201
        workers = server.worker_pids()
        assert len(workers) == 1

        cluster.stop()
        page, seconds = timed(lambda: browser.get(server.port, page_path))
        assert page.status == 503 and "Nothing from this request was saved" in page.text, page.text[:500]
        assert seconds < 10
        assert page.text.strip()
        assert "Traceback" not in page.text and "OperationalError" not in page.text
        unsaved = span_form("تتودد إلى أرمينيا")
        save, seconds = timed(lambda: browser.post(server.port, page_path + "spans/", unsaved))
        # Not a 2xx, and not a redirect (which the page would read as an expired session): the
        # page's JavaScript shows "The server failed (500). Your change is not saved." with Retry.
        assert save.status == 503 and "not saved" in save.text, save.text[:500]
        assert seconds < 10
        assert server.alive(), server.output()

        cluster.start()
        page = browser.get(server.port, page_path)
        assert page.status == 200, page.text[:500]
        assert "NATO is expanding" in page.text
        retried = browser.post(server.port, page_path + "spans/", unsaved)  # the page's Retry
        assert retried.status == 201, retried.text[:500]
        assert "تتودد إلى أرمينيا" in retried.text
        assert span_count(cluster) == 2
        assert server.alive() and server.worker_pids() == workers, "the same gunicorn worker served throughout"
    finally:
        server.stop()
