"""Benchmark 4: span saves under load on the production server.

    python -m bench.span_load --analysts 50 --seconds 60 --workers 4 --threads 4 [--think-ms 2000]
        [--article-chars 50000 --spans 500] [--api] [--port N]

gunicorn (gthread) serves the app with DEBUG off on PostgreSQL. Each simulated analyst logs in
through the login form; once all have, the clock starts and each creates, edits and deletes spans
on one article (with --think-ms, pausing between saves as a person does). Afterwards the database
must hold exactly the spans each client was told were saved. Prints p50/p95/p99 latency per
action, throughput and errors (a failed login is an error too).

By default the article is one of the workload's (about 4,000 characters) and each analyst starts
with no spans; --article-chars and --spans make it longer and give each analyst that many spans
already, as on the 50 KB / 500-span article of bench.labelling_page (every save then reads and
draws against all of them). A create of a span the analyst already has (same label and offsets)
is answered with that span, as the page does for a key pressed twice: such an answer counts as
saved when that span is there at the end; the other seeded spans are left out of the check.

With --api, each analyst uses the REST API with a personal token instead of the page: POST
/api/v1/…/spans (JSON), PATCH and DELETE /api/v1/…/spans/<id>; no login, no CSRF.

The logins come first because each one hashes a password (about half a second of CPU): 50 of
them at once would otherwise queue the first saves behind seconds of hashing, which measures a
login storm rather than saving.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

from bench.common import ROOT, percentile, setup_django

PASSWORD = "bench-load-password-1"
SPAN_ID = re.compile(rb"spans/(\d+)/update/")
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def prepare(analysts: int, article_chars: int = 0, spans: int = 0):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max

    from annotator import bulk
    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation, Span
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create
    from bench.workload import article_text, spans_for

    for old in Project.objects.filter(name="bench-load"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    # Every analyst labels the same article: the project must let that many analysts take it.
    project = project_create(name="bench-load")
    project.overlap = analysts
    project.save(update_fields=["overlap"])
    User = get_user_model()
    for i in range(analysts):
        user, _ = User.objects.get_or_create(username=f"bench-load-{i}")
        user.set_password(PASSWORD)
        user.save()
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    rng = random.Random(4)
    if article_chars:
        text = normalise("\n".join(article_text(rng, i) for i in range(article_chars // 3000 + 1)))[:article_chars]
    else:
        text = normalise(article_text(rng, 0))
    article = Article.objects.create(project=project, title="load", text=text, sha256=sha256(text), language="en")
    candidates = [(s["start"], s["end"], s["text"]) for s in spans_for(rng, text, 400)]
    label_id = project.span_labels.get(name="Claim").id
    labels = list(project.span_labels.all())
    existing = spans_for(rng, text, spans) if spans else []
    first = None
    for user in User.objects.filter(username__in=[f"bench-load-{i}" for i in range(analysts)]) if existing else []:
        annotation = Annotation.objects.create(article=article, annotator=user)
        if first is None:
            first = annotation
            bulk.create([  # COPY
                Span(annotation=annotation, label=labels[i % len(labels)], start=s["start"], end=s["end"],
                     text=s["text"])
                for i, s in enumerate(existing)
            ])
            continue
        # The same spans for everyone else, copied inside PostgreSQL: 50 analysts × 50,000 spans
        # (issue #17) is 2.5 million rows, too slow to send from Python.
        with connection.cursor() as cursor:
            cursor.execute(
                'INSERT INTO labelling_span (annotation_id, label_id, start, "end", text, attributes, client_id,'
                " review, created_at, updated_at) SELECT %s, label_id, start, \"end\", text, attributes,"
                " gen_random_uuid(), review, created_at, updated_at FROM labelling_span WHERE annotation_id = %s",
                [annotation.id, first.id],
            )
    if existing:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE labelling_span")  # as autovacuum soon would after such a load
    # Spans made during the run have larger ids than every seeded one.
    seeded = Span.objects.filter(annotation__article=article).aggregate(last=Max("id"))["last"] or 0
    return project.id, article.id, label_id, candidates, seeded


class Analyst:
    """One person at the labelling page: a keep-alive connection, a session and a CSRF token."""

    def __init__(self, port, username, token=None):
        self.port = port
        self.username = username
        self.token = token  # --api: a personal API token instead of a session
        self.cookies = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        headers["Host"] = "127.0.0.1"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
            if body is not None:
                body = json.dumps(body)
                headers["Content-Type"] = "application/json"
        elif body is not None:
            body = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection before reading this request (as
            # gunicorn does after 2 s): open a new one and send it again, as browsers do.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def log_in(self):
        _, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page).group(1).decode()
        status, _ = self.request(
            "POST", "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert status == 302, f"login failed for {self.username}: {status}"

    def post(self, path, body):
        headers = {"X-CSRFToken": self.cookies["csrftoken"], "HX-Request": "true"}
        return self.request("POST", path, body, headers)


def run_analyst(port, username, base, label_id, candidates, seconds, seed, results, ready, go, think_ms=0, token=None):
    rng = random.Random(seed)
    analyst = Analyst(port, username, token)
    saved: set[int] = set()
    timings = {"create": [], "edit": [], "delete": []}
    errors = []
    try:
        if token is None:
            analyst.log_in()
        else:  # as a login does for the page: the server has loaded everything before the clock starts
            status, _ = analyst.request("GET", base[0])
            assert status == 200, f"reading the project failed for {username}: {status}"
    except Exception as error:
        errors.append(f"login: {error!r}")
        results.append({"username": username, "saved": [], "timings": timings, "errors": errors})
        return
    finally:
        ready.put(username)
    go.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if think_ms:  # a person selects text, reads, decides: seconds between saves, not none
            time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
        roll = rng.random()
        action = "create" if not saved or roll < 0.5 else ("edit" if roll < 0.75 else "delete")
        started = time.perf_counter()
        try:
            if token is not None:
                status = api_action(analyst, action, base, rng, candidates, saved)
            elif action == "create":
                start, end, text = rng.choice(candidates)
                status, data = analyst.post(f"{base}spans/", {
                    "start": start, "end": end, "text": text, "label": label_id, "client_id": str(uuid.uuid4()),
                })
                if status == 201:
                    saved.add(int(SPAN_ID.search(data).group(1)))
            elif action == "edit":
                span = rng.choice(sorted(saved))
                status, _ = analyst.post(f"{base}spans/{span}/update/", {"label": label_id, "attr-claimant": f"c{rng.randint(1, 99)}"})
            else:
                span = rng.choice(sorted(saved))
                status, _ = analyst.post(f"{base}spans/{span}/delete/", {})
                if status == 200:
                    saved.discard(span)
        except Exception as error:  # a dropped connection counts as an error, and we go on
            errors.append(f"{action}: {error!r}")
            analyst.connection.close()
            analyst.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        timings[action].append((time.perf_counter() - started) * 1000)
        if status not in (200, 201):
            errors.append(f"{action}: HTTP {status}")
    results.append({"username": username, "saved": sorted(saved), "timings": timings, "errors": errors})


def api_action(analyst, action, base, rng, candidates, saved) -> int:
    """One save through the API (`base` is the project's API URL, then the article's id)."""
    project, article = base
    if action == "create":
        start, end, text = rng.choice(candidates)
        status, data = analyst.request("POST", f"{project}/articles/{article}/spans", {
            "label": "Claim", "start": start, "end": end, "text": text, "client_id": str(uuid.uuid4()),
        })
        if status == 201:
            saved.add(json.loads(data)["id"])
        return status
    span = rng.choice(sorted(saved))
    if action == "edit":
        return analyst.request("PATCH", f"{project}/spans/{span}", {"attributes": {"claimant": f"c{rng.randint(1, 99)}"}})[0]
    status, _ = analyst.request("DELETE", f"{project}/spans/{span}")
    if status == 204:
        saved.discard(span)
        return 200
    return status


def client_process(port, usernames, base, label_id, candidates, seconds, queue, ready, go, think_ms, tokens):
    results = []
    threads = [
        threading.Thread(
            target=run_analyst,
            args=(port, u, base, label_id, candidates, seconds, u, results, ready, go, think_ms, tokens.get(u)),
        )
        for u in usernames
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--analysts", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--client-processes", type=int, default=5)
    parser.add_argument("--think-ms", type=int, default=0, help="mean pause between one analyst's saves")
    parser.add_argument("--article-chars", type=int, default=0, help="article length (default: a workload article)")
    parser.add_argument("--spans", type=int, default=0, help="spans each analyst has before the test")
    parser.add_argument("--api", action="store_true", help="save through the REST API with tokens, not the page")
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: any free one)")
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    project_id, article_id, label_id, candidates, seeded = prepare(args.analysts, args.article_chars, args.spans)
    base = f"/p/{project_id}/a/{article_id}/"
    tokens = {}
    if args.api:
        from django.contrib.auth import get_user_model

        from annotator.api.services import token_create

        base = (f"/api/v1/projects/{project_id}", article_id)
        for user in get_user_model().objects.filter(username__startswith="bench-load-"):
            tokens[user.username] = token_create(user=user, name="bench")[1]

    port = args.port or free_port()
    # The API's per-token rate limit is lifted: this measures saving, and a client here saves without pause.
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "CONN_MAX_AGE": "60", "ANNOTATOR_API_RATE": "1000000/min"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        usernames = [f"bench-load-{i}" for i in range(args.analysts)]
        groups = [usernames[i :: args.client_processes] for i in range(args.client_processes)]
        queue, ready, go = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Event()
        processes = [
            multiprocessing.Process(
                target=client_process,
                args=(port, g, base, label_id, candidates, args.seconds, queue, ready, go, args.think_ms, tokens),
            )
            for g in groups
        ]
        for process in processes:
            process.start()
        for _ in usernames:  # every analyst has logged in (or failed to)
            ready.get()
        go.set()
        started = time.monotonic()
        results = [r for _ in processes for r in queue.get()]
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
    finally:
        # The clients have been joined: what the children's CPU grows by from here is the server's
        # (gunicorn's master waits for its workers, and this waits for the master).
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a busy machine: don't lose the figures to a slow shutdown
            server.kill()
            server.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    from annotator.corpus.models import Article
    from annotator.labelling.models import Span

    article_chars = len(Article.objects.get(pk=article_id).text)
    lost = extra = 0
    for result in results:
        theirs = Span.objects.filter(annotation__annotator__username=result["username"], annotation__article_id=article_id)
        told = set(result["saved"])
        # A create of a span the analyst already has (same label and offsets, e.g. a seeded one) is
        # answered with that span, by design: told ids may be seeded ones, and must be there too.
        lost += len(told - set(theirs.filter(id__in=told).values_list("id", flat=True)))
        extra += len(set(theirs.filter(id__gt=seeded).values_list("id", flat=True)) - told)
    everything = [t for r in results for ts in r["timings"].values() for t in ts]
    errors = [e for r in results for e in r["errors"]]
    summary = {
        "through": "api" if args.api else "page", "analysts": args.analysts, "think_ms": args.think_ms, "article_chars": article_chars,
        "spans_before": args.spans, "seconds": round(elapsed, 1), "gunicorn": f"{args.workers} workers × {args.threads} threads",
        "requests": len(everything), "throughput_per_s": round(len(everything) / elapsed, 1),
        "p50_ms": round(percentile(everything, 50), 1), "p95_ms": round(percentile(everything, 95), 1),
        "p99_ms": round(percentile(everything, 99), 1), "errors": len(errors),
        "spans_told_saved": sum(len(r["saved"]) for r in results), "lost": lost, "unexpected_in_db": extra,
    }
    for action in ("create", "edit", "delete"):
        times = [t for r in results for t in r["timings"][action]]
        summary[f"{action}_p95_ms"] = round(percentile(times, 95), 1)
        summary[f"{action}_count"] = len(times)
    # Each analyst's first save is a create that also makes their annotation and takes a place on
    # the article (overlap k); all 50 come in the first seconds. Shown apart from the creates after.
    firsts = [r["timings"]["create"][0] for r in results if r["timings"]["create"]]
    later = [t for r in results for t in r["timings"]["create"][1:]]
    summary["first_create_p95_ms"] = round(percentile(firsts, 95), 1) if firsts else None
    summary["later_create_p95_ms"] = round(percentile(later, 95), 1) if later else None
    summary["first_create_p50_ms"] = round(percentile(firsts, 50), 1) if firsts else None
    summary["later_create_p50_ms"] = round(percentile(later, 50), 1) if later else None
    # CPU seconds of gunicorn (its start included): steadier than wall times on a shared machine.
    summary["server_cpu_s"] = round(server_cpu, 1)
    print(json.dumps(summary, indent=2))
    if errors:
        print("first errors:", errors[:5])


if __name__ == "__main__":
    main()
