"""The documented production environment passes Django's deployment checklist and gets the
security settings it promises.

Each test starts a fresh Python with `annotator.settings` (not the test settings) and only the
environment variables the README documents, so it sees exactly what a deployment sees.
"""

import json
import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str) -> dict[str, str]:
    """The README's production environment: a long random key, DEBUG unset, HTTPS on."""
    removed = {"DEBUG", "SECRET_KEY", "HTTPS", "DATABASE_URL", "ALLOWED_HOSTS", "BEHIND_PROXY", "CSRF_TRUSTED_ORIGINS"}
    env = {k: v for k, v in os.environ.items() if k not in removed and not k.startswith(("LOGIN_", "DJANGO_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "annotator.example.org",
    }
    env |= overrides
    return {k: v for k, v in env.items() if v is not None}


def run(env, *args, timeout=120):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def deploy_check(env):
    return run(env, sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING")


class TestDeployCheck:
    def test_the_documented_production_environment_passes(self):
        env = production_env()
        assert len(env["SECRET_KEY"]) >= 50

        result = deploy_check(env)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout

    def test_it_passes_behind_a_tls_proxy(self):
        result = deploy_check(production_env(BEHIND_PROXY="1", CSRF_TRUSTED_ORIGINS="https://annotator.example.org"))

        assert result.returncode == 0, result.stdout + result.stderr

    @pytest.mark.parametrize(("overrides", "warning"), [
        ({"SECRET_KEY": "short-and-guessable"}, "security.W009"),
        ({"HTTPS": "0"}, "security.W008"),
        ({"DEBUG": "1"}, "security.W018"),
    ], ids=["weak-key", "https-off", "debug-on"])
    def test_it_fails_when_the_environment_is_unsafe(self, overrides, warning):
        result = deploy_check(production_env(**overrides))

        assert result.returncode != 0
        assert warning in result.stdout + result.stderr

    def test_without_secret_key_it_refuses_to_start(self):
        result = deploy_check(production_env(SECRET_KEY=None))

        assert result.returncode != 0
        assert "SECRET_KEY must be set in the environment when DEBUG is off." in result.stderr


# Runs in the production process: migrates a fresh SQLite database, then makes requests with
# Django's test client the way a browser reaches the site over HTTPS (or through a TLS proxy).
PROBE = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user("analyst", password="a long passphrase for the probe")
    behind_proxy = settings.BEHIND_PROXY
    host = {"HTTP_HOST": "annotator.example.org"}
    https = {"HTTP_X_FORWARDED_PROTO": "https"} if behind_proxy else {"secure": True}

    def cookie(response, name):
        morsel = response.cookies[name]
        return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
                "samesite": morsel["samesite"]}

    def refused(password, user=None):
        try:
            validate_password(password, user)
        except ValidationError as error:
            return [e.code for e in error.error_list]
        return []

    client = Client(**host)
    plain = client.get("/accounts/login/")
    page = client.get("/accounts/login/", **https)
    token = page.cookies["csrftoken"].value
    login = client.post("/accounts/login/", {"username": "analyst", "password": "a long passphrase for the probe",
                        "csrfmiddlewaretoken": token}, HTTP_REFERER="https://annotator.example.org/", **https)
    home = client.get("/", **https)
    user = get_user_model().objects.get(username="analyst")
    print(json.dumps({
        "plain": {"status": plain.status_code, "location": plain.get("Location")},
        "page": {"status": page.status_code, "headers": dict(page.headers)},
        "csrf_cookie": cookie(page, "csrftoken"),
        "login": {"status": login.status_code, "location": login.get("Location")},
        "session_cookie": cookie(login, "sessionid"),
        "home": {"status": home.status_code, "headers": dict(home.headers)},
        "validators": {
            "short": refused("x7#kQ"),
            "common": refused("password123"),
            "numeric": refused("4839205716"),
            "like_username": refused("analyst1", user),
            "good": refused("correct horse battery staple 93"),
        },
        "backends": settings.AUTHENTICATION_BACKENDS,
        "axes": {"limit": settings.AXES_FAILURE_LIMIT, "minutes": settings.AXES_COOLOFF_TIME.total_seconds() / 60,
                 "parameters": settings.AXES_LOCKOUT_PARAMETERS},
        "middleware_last": settings.MIDDLEWARE[-1],
        "debug": settings.DEBUG,
    }))
""")


def probe(tmp_path, **overrides):
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}", STATIC_ROOT=str(tmp_path / "static"), **overrides
    )
    # Pages link hashed static files: a fresh checkout has none until collectstatic has run.
    collected = run(env, sys.executable, "manage.py", "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    result = run(env, sys.executable, "-c", PROBE, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    return probe(tmp_path_factory.mktemp("direct"))


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    return probe(tmp_path_factory.mktemp("proxied"), BEHIND_PROXY="1")


class TestProductionResponses:
    def test_plain_http_is_redirected_to_https(self, direct):
        assert direct["debug"] is False
        assert direct["plain"] == {"status": 301, "location": "https://annotator.example.org/accounts/login/"}

    def test_headers(self, direct):
        headers = direct["page"]["headers"]

        assert direct["page"]["status"] == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp

    def test_cookies_are_secure(self, direct):
        assert direct["csrf_cookie"]["secure"] is True
        assert direct["login"] == {"status": 302, "location": "/"}
        assert direct["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}

    def test_pages_after_login_carry_the_headers_too(self, direct):
        assert direct["home"]["status"] == 200
        assert direct["home"]["headers"]["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" in direct["home"]["headers"]

    def test_password_validators(self, direct):
        validators = direct["validators"]

        assert "password_too_short" in validators["short"]
        assert "password_too_common" in validators["common"]
        assert "password_entirely_numeric" in validators["numeric"]
        assert "password_too_similar" in validators["like_username"]
        assert validators["good"] == []

    def test_login_throttling_is_configured(self, direct):
        assert direct["backends"] == [
            "axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"
        ]
        assert direct["axes"] == {"limit": 5, "minutes": 15.0, "parameters": [["username", "ip_address"]]}
        assert direct["middleware_last"] == "axes.middleware.AxesMiddleware"

    def test_behind_a_tls_proxy(self, proxied):
        # The proxy says the request came over HTTPS: no redirect loop, and the same protections.
        assert proxied["plain"]["status"] == 301
        assert proxied["page"]["status"] == 200
        assert "Strict-Transport-Security" in proxied["page"]["headers"]
        assert proxied["login"] == {"status": 302, "location": "/"}
        assert proxied["session_cookie"]["secure"] is True
