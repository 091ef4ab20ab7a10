"""Real processes for the reliability tests: gunicorn app servers, task workers, and an HTTP
client that keeps its cookies across servers the way a browser does (cookies ignore the port).

Every process runs `tests.reliability.process_settings` (the production settings) against the
database and folders the environment names.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

from django.contrib.auth.hashers import PBKDF2PasswordHasher

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET_KEY = "reliability-tests-secret-key-" + "x" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


def process_env(*, database_url: str, snapshot_root, static_root=None, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.reliability.process_settings",
        SECRET_KEY=SECRET_KEY,
        HTTPS="0",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        TASKS_BACKEND="database",
        ANNOTATOR_SNAPSHOT_ROOT=str(snapshot_root),
    )
    if static_root is not None:
        env["STATIC_ROOT"] = str(static_root)
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def manage(env, *args, timeout=300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def production_password(password: str) -> str:
    """A hash the production settings accept (the test settings hash with MD5, which they don't)."""
    hasher = PBKDF2PasswordHasher()
    # Few iterations: the server upgrades it on the first login, once.
    return hasher.encode(password, hasher.salt(), iterations=1000)


class Process:
    """A child process whose output goes to a log file, stopped (and reaped) by `stop()`, or when
    the `with` block it is used in ends, however it ends."""

    def __init__(self, args, env, log: Path, *, cwd: Path | str = ROOT):
        self.log = log
        with open(log, "wb") as handle:
            self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def children(self) -> set[int]:
        """The processes this one started that are still running."""
        result = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True)
        return {int(pid) for pid in result.stdout.split()}

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


class Gunicorn(Process):
    def __init__(self, env, log: Path, workers: int = 2, options=("--timeout", "60")):
        self.port = free_port()
        super().__init__(
            [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), *options],
            env, log,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.alive(), f"gunicorn exited:\n{self.output()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, f"gunicorn did not answer in 30 s:\n{self.output()}"
                time.sleep(0.2)

    def worker_pids(self) -> set[int]:
        return self.children()


def worker(
    env, log: Path, *, slow_step: float | None = None, slow_import_step: float | None = None, max_tasks: int | None = None
) -> Process:
    """`manage.py run_worker`, looking every 0.1 s; with `slow_step`, builds sleep at every record;
    with `slow_import_step`, import jobs sleep at every report of progress; with `max_tasks`, it
    exits after running that many."""
    options = ["run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"]
    if max_tasks is not None:
        options += ["--max-tasks", str(max_tasks)]
    if slow_step is None and slow_import_step is None:
        return Process([sys.executable, "manage.py", *options], env, log)
    env = {**env, "SLOW_BUILD_STEP_SECONDS": str(slow_step or 0), "SLOW_IMPORT_STEP_SECONDS": str(slow_import_step or 0)}
    return Process([sys.executable, "-m", "tests.reliability.slow_worker", *options], env, log)


def wait_for(predicate, what: str, *watched: Process, timeout: float = 60) -> None:
    """Until `predicate()` holds; fails at once if one of the `watched` processes exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for process in watched:
            assert process.alive(), f"a process exited while waiting for {what}:\n{process.output()}"
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + "".join(f":\n{process.output()}" for process in watched))


def current(row):
    """The row as the database has it now (a snapshot or a job a worker moves on)."""
    row.refresh_from_db()
    return row


class Response:
    def __init__(self, status, headers, body: bytes):
        self.status, self.headers, self.content = status, headers, body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Browser:
    """One person's cookies (session, CSRF), sent to whichever server a request goes to."""

    def __init__(self):
        self.cookies = SimpleCookie()

    def request(self, port: int, method: str, path: str, data=None, headers=None, timeout=15) -> Response:
        headers = dict(headers or {})
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
            return Response(response.status, response.headers, content)
        finally:
            connection.close()

    def upload(self, port, path, files: list[tuple[str, bytes]], field: str = "files", timeout=60) -> Response:
        """A plain (no JavaScript) multipart POST of files, as the import form sends it."""
        boundary = "----annotator-test-boundary-7MA4YWxkTrZu0gW"
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n"
                 f"{self.cookies['csrftoken'].value}\r\n".encode()]
        for name, data in files:
            parts.append(
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("POST", path, body=b"".join(parts), headers=headers)
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def get(self, port, path, **kwargs) -> Response:
        return self.request(port, "GET", path, **kwargs)

    def post(self, port, path, data, htmx=True, **kwargs) -> Response:
        """A POST as the page's JavaScript sends it: the CSRF cookie's token in X-CSRFToken."""
        headers = {"X-CSRFToken": self.cookies["csrftoken"].value}
        if htmx:
            headers["HX-Request"] = "true"
        return self.request(port, "POST", path, data=data, headers=headers, **kwargs)

    def log_in(self, port, username, password) -> None:
        page = self.get(port, "/accounts/login/")
        assert page.status == 200, page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.request(
            port, "POST", "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        )
        assert response.status == 302, f"login of {username} failed ({response.status}):\n{response.text[:2000]}"
        assert "sessionid" in self.cookies
