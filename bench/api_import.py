"""Benchmark: 10k articles imported through the REST API against `manage.py import_articles`.

    python -m bench.api_import --articles 10000 --runs 3

The workload's articles (bench.import_articles' files) go in two ways, alternating, each into a
fresh project: the command (timed around `call_command`, in a process of its own), and the API
on gunicorn (2 workers, as the README's production setup) with a personal token, in requests of
1,000 articles (the API's largest batch), one after the other, timed from the first request to
the last answer, after each worker has answered once (`warm`). Prints both medians and their ratio.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from io import StringIO

from bench.common import ROOT, Timer, median, run_in_fresh_process, setup_django
from bench.import_articles import fresh_project, remove_projects, write_files

BATCH = 1000
WORKERS = 2  # as the README's production setup


def command_once(paths: list[str]) -> dict:
    from django.core.management import call_command

    project = fresh_project(analysts=0)
    with Timer() as timer:
        call_command("import_articles", str(project.id), *paths, stdout=StringIO())
    return {"seconds": timer.seconds, "articles": project.articles.count()}


def api_once(port: int, paths: list[str]) -> dict:
    from django.contrib.auth import get_user_model

    from annotator.api.services import token_create
    from annotator.projects.models import Membership

    project = fresh_project(analysts=0)
    user, _ = get_user_model().objects.get_or_create(username="bench-api-admin")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ADMIN)
    _, secret = token_create(user=user, name="bench")
    rows = [json.loads(line) for path in paths for line in open(path, encoding="utf-8")]
    bodies = [json.dumps({"articles": rows[i : i + BATCH]}, ensure_ascii=False).encode() for i in range(0, len(rows), BATCH)]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json", "Host": "127.0.0.1"}
    warm(port, f"/api/v1/projects/{project.id}", headers)
    with Timer() as timer:
        for body in bodies:
            connection.request("POST", f"/api/v1/projects/{project.id}/articles", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            assert response.status == 201, (response.status, answer[:300])
    connection.close()
    return {"seconds": timer.seconds, "articles": project.articles.count()}


def warm(port: int, path: str, headers: dict) -> None:
    """Read the project from every worker at once, before the clock starts: a worker imports the API's
    URLconf (django-ninja, about a second) on its first request, a cost of starting the server that
    the command, whose process is already set up when it is timed, does not pay either."""

    def read():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        connection.close()

    threads = [threading.Thread(target=read) for _ in range(2 * WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def serve() -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "ANNOTATOR_API_RATE": "1000000/min"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
         "--timeout", "300", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.one:
        print(json.dumps(command_once(args.one)))
        return
    paths = write_files(args.articles, annotations=False)
    server, port = serve()
    command, api = [], []
    try:
        for _ in range(args.runs):
            run_in_fresh_process(["-m", "bench.import_articles", "--remove"])
            command.append(json.loads(run_in_fresh_process(["-m", "bench.api_import", "--one", *paths])))
            remove_projects()
            api.append(api_once(port, paths))
            print(json.dumps({"command": command[-1], "api": api[-1]}), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        remove_projects()
    c, a = median(r["seconds"] for r in command), median(r["seconds"] for r in api)
    print(f"{api[0]['articles']} articles: command median {c:.2f} s, API median {a:.2f} s "
          f"(API / command = {a / c:.2f}), runs {args.runs}")


if __name__ == "__main__":
    main()
