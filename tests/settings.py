import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment")
os.environ.setdefault("HTTPS", "0")
# Snapshots build in the request that asks for them; tests/datasets/test_worker.py runs a real worker.
os.environ.setdefault("TASKS_BACKEND", "immediate")

from annotator.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests render templates without running collectstatic first.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# A file, not SQLite's shared in-memory database: the browser tests' live server thread and the
# test thread then wait on each other's locks instead of failing with "table is locked".
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test process, so that runs side by side don't share it.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"annotator-test-{os.getpid()}.sqlite3")}  # noqa: F405

# The tests never run collectstatic, so STATIC_ROOT may not exist: WhiteNoise looks files up
# when asked, as in development, instead of warning that the directory is missing.
WHITENOISE_AUTOREFRESH = True

# Django's test client logs in without a request, which django-axes refuses; see the backend.
AUTHENTICATION_BACKENDS = ["tests.security.backends.RequestlessTestLoginBackend", *AUTHENTICATION_BACKENDS[1:]]  # noqa: F405
