"""The production configuration, served the way the README says: collectstatic, migrate, gunicorn.

These run real processes with DEBUG unset, so they check what a deployment gets rather than
what the test settings give: security headers, hashed static files with far-future caching,
a plain 404, and a refusal to start without SECRET_KEY.
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "HTTPS", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "annotator.settings"
    env.update(overrides)
    return env


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, port: int):
        self.port = port
        self.cookies = SimpleCookie()

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body); keeps the cookies the server sets, like a browser."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
            return response.status, response.headers, content.decode("utf-8", "replace")
        finally:
            connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("production") / "db.sqlite3"
    env = production_env(
        SECRET_KEY="production-smoke-test-key-" + "x" * 40,
        HTTPS="0",
        DATABASE_URL=f"sqlite:///{db}",
        DJANGO_SUPERUSER_PASSWORD="smoke-test-password",
    )
    manage(env, "collectstatic", "--noinput")
    manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput", "--username", "smoke", "--email", "smoke@example.com")

    port = free_port()
    log = db.parent / "gunicorn.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"gunicorn did not answer in 30 s:\n{log.read_text()}"
                time.sleep(0.2)
        yield Server(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_login_page_has_security_headers(server):
    status, headers, body = server.request("GET", "/accounts/login/")

    assert status == 200
    assert 'name="username"' in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert re.search(r"script-src 'self' 'nonce-[\w+/=-]+'", csp)
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_hashed_stylesheet_is_served_with_far_future_caching(server):
    _, _, page = server.request("GET", "/accounts/login/")
    href = re.search(r'href="(/static/annotator/css/app\.[0-9a-f]{12}\.css)"', page)
    assert href, "the page should link the hashed stylesheet that collectstatic wrote"

    status, headers, css = server.request("GET", href.group(1))

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert css == (ROOT / "static/annotator/css/app.css").read_text(encoding="utf-8")
    assert "max-age=315360000" in headers["Cache-Control"]
    assert "immutable" in headers["Cache-Control"]


def test_unknown_url_gives_a_plain_404(server):
    status, _, body = server.request("GET", "/no-such-page/")

    assert status == 404
    assert "URLconf" not in body
    assert "DEBUG = True" not in body


def test_not_found_and_csrf_failure_pages_have_the_site_header_and_a_way_back(server):
    status, _, body = server.request("GET", "/no-such-page/")
    assert status == 404
    assert '<a class="brand" href="/">annotator</a>' in body
    assert "<h1>This page does not exist</h1>" in body
    assert '<a href="/">Back to your projects</a>' in body
    assert re.search(r'<link rel="stylesheet" href="/static/annotator/css/app\.[0-9a-f]+\.css">', body)

    # A form sent without its token (or with an old one): the CSRF failure page, not Django's bare one.
    status, _, body = server.request(
        "POST", "/accounts/login/", body=urlencode({"username": "x", "password": "y"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 403
    assert '<a class="brand" href="/">annotator</a>' in body
    assert "<h1>This form was out of date</h1>" in body
    assert "Nothing was saved." in body


def test_logging_in_works_over_plain_http_when_https_is_off(server):
    _, _, page = server.request("GET", "/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    status, headers, _ = server.request(
        "POST",
        "/accounts/login/",
        body=urlencode({"username": "smoke", "password": "smoke-test-password", "csrfmiddlewaretoken": token}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{server.port}/"},
    )
    assert status == 302, "a good login redirects"
    assert headers["Location"] == "/"

    status, _, body = server.request("GET", "/")
    assert status == 200
    assert "smoke" in body


def test_starting_without_secret_key_fails_when_debug_is_off():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr
