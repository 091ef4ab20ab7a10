"""Benchmark: N articles imported through the import page as a background job (issue #17).

    python -m bench.page_import --articles 10000 --runs 3
    python -m bench.page_import --articles 100000 --runs 1 --suggestions-timeout 0
    python -m bench.page_import --articles 21250 --file-articles 125 --runs 1   # 170 files, 100 MB

As a person does it, against the production setup the README documents: gunicorn (`--workers 2
--worker-class gthread --threads 4 --timeout 30 --graceful-timeout 30`, DEBUG off) and
`manage.py run_worker` beside it, both started afresh for each run (so each peak RSS is that run's).
The workload's articles (`bench.import_articles.write_files`: about 4,000 characters each, files
of `--file-articles` articles, 2,000 by default: about 8 MB) are posted as one multipart upload of the import form (without
JavaScript: the browser follows the 302 to the job's page), as several if the page's limits
(`DATA_UPLOAD_MAX_NUMBER_FILES` files, `ANNOTATOR_MAX_UPLOAD_BYTES` each) do not allow one. Then the
job's page is polled (its htmx fragment, as the page polls itself) until it says the job finished.

Reported per run: the upload request's seconds; request → job finished (what the person waits);
the job's own timings from its row (queued, running); the slowest poll of the job page; peak RSS
(VmHWM) and CPU seconds of each gunicorn worker process and of the task worker when the job
finished; then, unless `--suggestions-timeout 0`, how long the worker takes after that to compute
the imported articles' suggestions (queued by the import as tasks of 100 articles), and its peak
RSS then. Suggestion tasks still queued at the timeout are removed before the next run.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.common import ROOT, load_average, median, run_in_fresh_process, setup_django

PROJECT = "bench-page-import"
USERNAME = "bench-page-importer"
# As README's "Production" section runs gunicorn.
GUNICORN_OPTIONS = ["--workers", "2", "--worker-class", "gthread", "--threads", "4",
                    "--timeout", "30", "--graceful-timeout", "30"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# Processes ---------------------------------------------------------------------------------------


def process_figures(pid: int) -> dict:
    """Peak and current resident memory (MB) and CPU seconds (user + system) of one process."""
    figures = {"pid": pid}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmHWM:", "VmRSS:")):
                figures[line[:5].lower() + "_mb"] = round(int(line.split()[1]) / 1024, 1)
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    figures["cpu_s"] = round((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, 2)
    return figures


def database_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the bench database (the server is local),
    this process's own left out."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        pids = [pid for (pid,) in cursor.fetchall()]
    cpu = {}
    for pid in pids:
        try:
            cpu[pid] = process_figures(pid)["cpu_s"]
        except OSError:  # ended meanwhile
            pass
    return cpu


def children(pid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return sorted(int(child) for child in result.stdout.split())


class Servers:
    """gunicorn and run_worker as README's "Production" section runs them, on the bench database."""

    def __init__(self, port: int, log_dir: Path):
        env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "TASKS_BACKEND": "database"}
        env.pop("DEBUG", None)
        self.port = port
        self.logs = [log_dir / "gunicorn.log", log_dir / "worker.log"]
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTIONS],
            cwd=ROOT, env=env, stdout=open(self.logs[0], "wb"), stderr=subprocess.STDOUT,
        )
        self.worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload"],
            cwd=ROOT, env=env, stdout=open(self.logs[1], "wb"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.web.poll() is not None or self.worker.poll() is not None:
                self.stop()
                raise RuntimeError("a server exited:\n" + "\n".join(log.read_text()[-3000:] for log in self.logs))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if len(children(self.web.pid)) == 2:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not listen on port {port}")
            time.sleep(0.1)

    def figures(self) -> dict:
        return {
            "web": [process_figures(pid) for pid in children(self.web.pid)],
            "worker": process_figures(self.worker.pid),
            # run_worker runs import jobs in its own process; any child it started would show here.
            "worker_children": [process_figures(pid) for pid in children(self.worker.pid)],
        }

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process.poll() is None:
                process.terminate()
        for process in (self.web, self.worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# A person's browser, without JavaScript ------------------------------------------------------------


class Browser:
    def __init__(self, port: int):
        self.port = port
        self.cookies = SimpleCookie()
        self.slowest = 0.0

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 600):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        self.slowest = max(self.slowest, seconds)
        for value in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(value)
        return response, content.decode("utf-8", "replace"), seconds

    def log_in(self, username: str, password: str) -> None:
        _, page, _ = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        response, text, _ = self.request(
            "POST", "/accounts/login/", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status == 302, f"log in failed ({response.status}): {text[:500]}"

    def upload(self, path: str, files: list[Path]):
        """The import form's files as one multipart POST, streamed from disk."""
        boundary = "----bench-page-import-" + secrets.token_hex(8)
        token = self.cookies["csrftoken"].value
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n"
                f"{token}\r\n").encode()
        parts = [head]
        for file in files:
            parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file.name}\"\r\n"
                         f"Content-Type: application/octet-stream\r\n\r\n".encode())
            parts.append(file)
            parts.append(b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        length = sum(part.stat().st_size if isinstance(part, Path) else len(part) for part in parts)

        def body():
            for part in parts:
                yield part.read_bytes() if isinstance(part, Path) else part

        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
        return self.request("POST", path, body(), headers)


# One run -----------------------------------------------------------------------------------------


def uploads_for(paths: list[Path]) -> list[list[Path]]:
    """The files in as few uploads as the page's limits allow (files per upload; bytes per file)."""
    from django.conf import settings

    per_upload = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    too_big = [path for path in paths if path.stat().st_size > settings.ANNOTATOR_MAX_UPLOAD_BYTES]
    assert not too_big, f"files over the per-file limit: {too_big}"
    return [paths[start : start + per_upload] for start in range(0, len(paths), per_upload)]


def prepare(password: str) -> int:
    """A fresh project with one admin (the last run's project and tasks removed); its id."""
    from django.contrib.auth import get_user_model
    from django_tasks_db.models import DBTaskResult

    from annotator.projects.models import Membership
    from annotator.projects.services import project_create

    run_in_fresh_process(["-m", "bench.page_import", "--remove"])
    DBTaskResult.objects.all().delete()
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(password)
    user.save()
    project = project_create(name=PROJECT, admin=user)
    assert project.memberships.filter(user=user, role=Membership.Role.ADMIN).exists()
    return project.id


def remove_projects() -> None:
    from bench.import_articles import remove_projects as remove

    remove(PROJECT)


def pending_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()


def run_once(paths: list[Path], articles: int, port: int, log_dir: Path, suggestions_timeout: float) -> dict:
    from annotator.corpus.models import ImportJob

    password = secrets.token_urlsafe(16)
    project_id = prepare(password)
    servers = Servers(port, log_dir)
    try:
        browser = Browser(port)
        browser.log_in(USERNAME, password)
        for _ in range(4):  # both gunicorn workers have served the import page once
            assert browser.request("GET", f"/p/{project_id}/import/")[0].status == 200
        browser.slowest = 0.0
        before, database_before = servers.figures(), database_cpu()
        started = time.perf_counter()
        upload_seconds, job_urls = [], []
        for batch in uploads_for(paths):
            response, text, seconds = browser.upload(f"/p/{project_id}/import/", batch)
            assert response.status == 302, f"upload answered {response.status}: {text[:2000]}"
            upload_seconds.append(round(seconds, 2))
            job_urls.append(response.headers["Location"])
        polls = 0
        for url in job_urls:
            while True:
                _, fragment, _ = browser.request("GET", url, headers={"HX-Request": "true"})
                polls += 1
                status = re.search(r'data-status="(\w+)"', fragment).group(1)
                if status in ("done", "failed"):
                    break
                time.sleep(0.25)
        waited = time.perf_counter() - started
        at_finish, database_after = servers.figures(), database_cpu()
        _, page, _ = browser.request("GET", job_urls[-1])
        jobs = list(ImportJob.objects.filter(project_id=project_id).order_by("created_at"))
        assert all(job.status == "done" for job in jobs), [(job.status, job.error, job.report.get("errors", [])[:3]) for job in jobs]
        created = sum(job.report["created"] for job in jobs)
        assert created == articles, (created, articles)
        assert f"Imported {jobs[-1].report['created']} articles" in page, page[:3000]
        result = {
            "articles": created,
            "uploads": len(job_urls),
            "upload_s": upload_seconds,
            "request_to_finished_s": round(waited, 2),
            "job_queued_s": [round((job.started_at - job.created_at).total_seconds(), 2) for job in jobs],
            "job_running_s": [round((job.finished_at - job.started_at).total_seconds(), 2) for job in jobs],
            "slowest_request_s": round(browser.slowest, 2),
            "polls": polls,
            "web": [{**after, "vmrss_before_mb": start["vmrss_mb"], "cpu_s": round(after["cpu_s"] - start["cpu_s"], 2)}
                    for start, after in zip(before["web"], at_finish["web"], strict=True)],
            "worker": {**at_finish["worker"], "vmrss_before_mb": before["worker"]["vmrss_mb"], "cpu_s": round(at_finish["worker"]["cpu_s"] - before["worker"]["cpu_s"], 2)},
            "worker_children": at_finish["worker_children"],
            # Backends that disconnected before the job finished are not counted.
            "postgres_cpu_s": round(sum(cpu - database_before.get(pid, 0) for pid, cpu in database_after.items()), 2),
        }
        if suggestions_timeout > 0:
            deadline = time.perf_counter() + suggestions_timeout
            while pending_tasks() and time.perf_counter() < deadline:
                time.sleep(0.5)
            drained = servers.figures()["worker"]
            result["suggestions"] = {
                "left": pending_tasks(),
                "seconds_after_job": round(time.perf_counter() - started - waited, 1),
                "worker_vmhwm_mb": drained["vmhwm_mb"],
                "worker_cpu_s": round(drained["cpu_s"] - at_finish["worker"]["cpu_s"], 2),
            }
        return result
    finally:
        servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--file-articles", type=int, default=2000, help="articles a file (2,000: about 8 MB)")
    parser.add_argument("--port", type=int, default=18220)
    parser.add_argument("--suggestions-timeout", type=float, default=600,
                        help="seconds to wait for the imported articles' suggestions after the job (0: not at all)")
    parser.add_argument("--remove", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.remove:
        remove_projects()
        return
    from django.core.management import call_command

    from bench.import_articles import write_files

    call_command("collectstatic", interactive=False, verbosity=0)
    paths = [Path(path) for path in write_files(args.articles, annotations=False, per_file=args.file_articles)]
    print(f"{len(paths)} files, {sum(path.stat().st_size for path in paths) / 1e6:.0f} MB; "
          f"load average before: {load_average()}", flush=True)
    log_dir = Path(f"/tmp/bench-page-import-{os.getpid()}")
    log_dir.mkdir()
    results = []
    for _ in range(args.runs):
        results.append(run_once(paths, args.articles, args.port, log_dir, args.suggestions_timeout))
        print(json.dumps(results[-1]), flush=True)
    run_in_fresh_process(["-m", "bench.page_import", "--remove"])
    waited = median(r["request_to_finished_s"] for r in results)
    web_peak = median(max(p["vmhwm_mb"] for p in r["web"]) for r in results)
    worker_peak = median(r["worker"]["vmhwm_mb"] for r in results)
    print(f"{args.articles} articles through the page: request → job finished median {waited:.2f} s "
          f"({args.articles / waited:.0f} articles/s), upload request median "
          f"{median(sum(r['upload_s']) for r in results):.2f} s, job running median "
          f"{median(sum(r['job_running_s']) for r in results):.2f} s, peak RSS web {web_peak:.0f} MB, "
          f"worker {worker_peak:.0f} MB, runs {args.runs}; load average after: {load_average()}")


if __name__ == "__main__":
    main()
