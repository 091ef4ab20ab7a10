# make run   — the demo on http://127.0.0.1:8000/ (SQLite, DEBUG on, demo accounts printed)
# make test  — the whole test suite, browser tests included (PostgreSQL when DATABASE_URL is set)

VENV := .venv
PY := $(VENV)/bin/python
# The first of these that is Python 3.12 or newer makes the virtualenv.
PYTHONS := python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) python3
# The quick start always uses the embedded SQLite database, whatever DATABASE_URL says, and
# builds snapshots in a worker beside the dev server, as production does.
DEV := env -u DATABASE_URL DEBUG=1 TASKS_BACKEND=database $(PY) manage.py
# Where `make run` serves; e.g. `make run ADDRESS=127.0.0.1:8001`.
ADDRESS ?= 127.0.0.1:8000

.PHONY: run test

run: $(VENV)/.installed-run
	$(DEV) migrate
	$(DEV) seed_demo --url http://$(ADDRESS)/
	@# A snapshot still "running" now lost its worker when the last `make run` stopped.
	$(DEV) recover_snapshots --stale-after 0 --no-wait
	@# The worker looks for snapshots to build every 0.2 s (SQLite has no NOTIFY to wake it) and
	@# stops with the dev server, however that stops (Ctrl-C, an error, a port already in use).
	@$(DEV) run_worker --interval 0.2 --no-startup-delay --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(DEV) runserver $(ADDRESS)

test: $(VENV)/.installed-test
	@test -x /usr/bin/chromium || { echo "The browser tests need Debian's Chromium at /usr/bin/chromium:" \
		"run 'apt-get install chromium' (as root)." >&2; exit 1; }
	@fc-list : family | grep -q "Noto Sans Arabic" || { echo "The browser tests measure Arabic text drawn" \
		"with the Noto fonts: run 'apt-get install fonts-noto-core' (as root)." >&2; exit 1; }
	$(PY) -m pytest $(PYTEST_ARGS)

$(PY):
	@for candidate in $(PYTHONS); do \
		if $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
			echo "Creating $(VENV) with $$candidate"; exec $$candidate -m venv $(VENV); \
		fi; \
	done; \
	echo "annotator needs Python 3.12 or newer, and none was found (tried: $(PYTHONS))." >&2; \
	echo "Install one (your system's python3.13 package, 'pyenv install 3.13', or python.org) and run make again." >&2; \
	exit 1

# Dependencies are installed again only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@
