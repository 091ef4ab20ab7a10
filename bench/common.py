"""What every benchmark shares: Django on the benchmark database, timing and memory figures."""

import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/annotator_bench"


def setup_django() -> None:
    """Production settings (DEBUG off) on the benchmark PostgreSQL database, migrated."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    os.environ.setdefault("TASKS_BACKEND", "immediate")
    sys.path.insert(0, str(ROOT))
    _create_database(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def setup_code(code: Path | None = None) -> None:
    """Django for a benchmark that times code alone (no database): with `code`, that checkout's
    `annotator` first on the path, so an older checkout's code is timed by this benchmark."""
    if code is not None:
        sys.path.insert(0, str(Path(code).resolve()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    os.environ.setdefault("HTTPS", "0")
    import django

    django.setup()


def _create_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Read from VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives fork and exec, so a
    benchmark child would report its parent's peak (the parent may have built the workload).
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def median(values) -> float:
    return statistics.median(values)


def percentile(values, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_in_fresh_process(args: list[str]) -> str:
    """Run a benchmark step in its own process, so its peak RSS is its own."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return result.stdout


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def production_server(port: int, web_workers: int = 2):
    """The app as deploy/ runs it, on the benchmark database: gunicorn (DEBUG off, `web_workers`
    sync workers, as annotator-web.service) and a task worker beside it (`run_worker`, as
    annotator-worker.service). Yields the base URL; both are stopped on the way out.

    Call after `setup_django()`: the static files are collected first (the pages link hashed files).
    """
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "TASKS_BACKEND": "database"}
    env.pop("DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the caller's, for Playwright beside the ORM; not the server's
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(web_workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-reload", "--verbosity", "0"], cwd=ROOT, env=env
        ),
    ]
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not listen on port {port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def logged_in_page(browser, base: str, username: str, password: str):
    """A fresh browser context's page (1280×720, 15 s timeouts), logged in through the login form;
    yields the page and the list its console errors and page errors go into."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    try:
        yield page, errors
    finally:
        context.close()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
