"""One settings module, driven by environment variables.

Safe defaults are the production ones: DEBUG is off and SECRET_KEY must come from the
environment. The quick start (`make run`) sets DEBUG=1, which also allows a local key.
"""

import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    value = environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "annotator.projects",
    "annotator.corpus",
    "annotator.labelling",
    "annotator.datasets",
    "annotator.suggestions",
    "annotator.training",
    "annotator.api",
    # django-ninja, for its API docs page served from its own static files (no CDN).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "annotator.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a flagged login attempt into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "annotator.urls"
WSGI_APPLICATION = "annotator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A transaction that reads before it writes takes SQLite's write lock when it begins, so
    # concurrent writers queue for up to `timeout` seconds instead of failing at once with
    # "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the app's queries are short, and on a large table PostgreSQL would spend
    # more time compiling a chunk's query (over a second, measured) than running it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes refuses a login for a username from an address after repeated failures; it must
# come first so that a locked-out attempt never reaches the password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploaded files are never kept or served back. A file over FILE_UPLOAD_MAX_MEMORY_SIZE waits
# in a temporary file that Django removes when the request ends, so an upload of hundreds of
# megabytes (200 files of ANNOTATOR_MAX_UPLOAD_BYTES) does not become the web process's memory;
# a background import copies it to its folder under ANNOTATOR_IMPORT_ROOT a chunk at a time.
ANNOTATOR_MAX_UPLOAD_BYTES = int(os.environ.get("ANNOTATOR_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = ANNOTATOR_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 200

# Security headers. HTTPS-only settings default on outside DEBUG; a deployment behind plain
# HTTP on localhost (the production smoke test) turns them off explicitly.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one username from
# one address, that username is locked out from that address for LOGIN_LOCKOUT_MINUTES. Any
# attempt while locked, even with the right password, starts the wait again. Keying on the pair
# means an attacker cannot lock a colleague out from the colleague's own address.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"


def client_ip_address(request) -> str | None:
    """The address a login attempt came from, for throttling.

    Behind a proxy every request comes from the proxy, so the client is the address the proxy
    appended to X-Forwarded-For: the right-most entry. Entries to its left are whatever the
    client sent and are never trusted. Without BEHIND_PROXY the header is ignored.
    """
    from django.conf import settings

    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.BEHIND_PROXY:
        candidates.insert(0, request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


AXES_CLIENT_IP_CALLABLE = client_ip_address

# Background work (dataset snapshots). Production runs `manage.py run_worker` beside the web
# server, taking tasks from the database, and so does `make run` (it sets TASKS_BACKEND=database
# and starts one). DEBUG alone, or TASKS_BACKEND=immediate, runs each task in the request that
# enqueued it, once its transaction commits (the tests, a bare `manage.py runserver`).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate" if DEBUG else "database")
TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend"
        if TASKS_BACKEND == "immediate"
        else "django_tasks_db.DatabaseBackend"
    }
}
# API requests a personal token (or a session user) may make, per period (s, min, hour, day).
ANNOTATOR_API_RATE = os.environ.get("ANNOTATOR_API_RATE", "1200/min")
# Snapshot files: outside static and media, served only by the permission-checked download view.
ANNOTATOR_SNAPSHOT_ROOT = Path(os.environ.get("ANNOTATOR_SNAPSHOT_ROOT", BASE_DIR / "var" / "snapshots"))
# A snapshot of more records than this is written by shard tasks of this many records each, which
# every worker takes (datasets/build.py): smaller shards share the work out more evenly between
# workers, each costs a task and a file per split to join. 1,000 against 2,000: 0.78-0.89x the
# time to ready with two workers, 1.09-1.12x with one (docs/performance.md, eleventh session).
ANNOTATOR_SNAPSHOT_SHARD_RECORDS = int(os.environ.get("ANNOTATOR_SNAPSHOT_SHARD_RECORDS", "1000"))
# Uploaded batches waiting for their import job (corpus.jobs), removed when the job ends. With
# workers on other machines, a folder they share with the web servers, as for snapshots.
# Trained models (annotator.training), written by the worker only; shared with the web servers
# as the snapshots' folder is.
ANNOTATOR_MODEL_ROOT = Path(os.environ.get("ANNOTATOR_MODEL_ROOT", BASE_DIR / "var" / "models"))
# How many of a project's newest ready model versions keep their file; older ones' files are
# deleted once their suggestions are replaced (training.services.model_files_prune).
ANNOTATOR_MODEL_KEEP = int(os.environ.get("ANNOTATOR_MODEL_KEEP", "2"))
ANNOTATOR_IMPORT_ROOT = Path(os.environ.get("ANNOTATOR_IMPORT_ROOT", BASE_DIR / "var" / "imports"))
# A batch (files and pasted text) up to this size is imported in the request, larger ones by a
# worker: 256 KiB is about 60 news articles, a second or so of checks and language detection,
# well inside gunicorn's timeout; beyond it, the time grows with the batch.
ANNOTATOR_IMPORT_INLINE_BYTES = int(os.environ.get("ANNOTATOR_IMPORT_INLINE_BYTES", str(256 * 1024)))



def mailer(environ: Mapping[str, str], debug: bool) -> dict:
    """The default mailer (Django 6.1's MAILERS) from `EMAIL_URL`, else from `EMAIL_HOST` and its companions.

    `EMAIL_URL` is `smtp://user:password@host:port` (plain, port 25), `smtp+tls://…` (STARTTLS,
    port 587), `smtps://…` (TLS from the start, port 465) or `console://` (mail printed on the
    server's output). With neither, the quick start (DEBUG) prints mail on the console, and
    production hands it to an SMTP server on localhost:25, Django's default. A server that does
    not answer fails the request in `EMAIL_TIMEOUT` seconds, not at the web server's timeout.
    """
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    console = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    timeout = int(environ.get("EMAIL_TIMEOUT") or 10)
    url = environ.get("EMAIL_URL", "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme == "console":
            return console
        ports = {"smtp": 25, "smtp+tls": 587, "smtps": 465}
        if parts.scheme not in ports or not parts.hostname:
            raise ImproperlyConfigured(
                "EMAIL_URL must look like smtp://user:password@host:port (or smtp+tls://, smtps://, console://)."
            )
        options = {
            "host": parts.hostname,
            "port": parts.port or ports[parts.scheme],
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": parts.scheme == "smtp+tls",
            "use_ssl": parts.scheme == "smtps",
        }
        return {"BACKEND": smtp, "OPTIONS": options | {"timeout": timeout}}
    if environ.get("EMAIL_HOST", "").strip():
        use_ssl = env_bool("EMAIL_USE_SSL", False, environ)
        use_tls = env_bool("EMAIL_USE_TLS", False, environ)
        options = {
            "host": environ["EMAIL_HOST"].strip(),
            "port": int(environ.get("EMAIL_PORT") or (465 if use_ssl else 587 if use_tls else 25)),
            "username": environ.get("EMAIL_HOST_USER", ""),
            "password": environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": use_tls,
            "use_ssl": use_ssl,
        }
        return {"BACKEND": smtp, "OPTIONS": options | {"timeout": timeout}}
    if debug:
        return console
    return {"BACKEND": smtp, "OPTIONS": {"host": "localhost", "port": 25, "timeout": timeout}}


MAILERS = {"default": mailer(os.environ, DEBUG)}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "annotator@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
