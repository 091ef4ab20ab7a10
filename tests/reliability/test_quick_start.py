"""`make run`, the quick start (issue 14): snapshots are built by a worker beside the dev server,
not in the request, and Ctrl-C leaves no process behind.

The checkout's files are copied to a temporary folder (the quick start writes its SQLite database
beside them), with this test run's virtualenv as its `.venv`. `make run` runs there in a process
group of its own with SIGINT at its default, as a terminal's foreground job; the test presses
Ctrl-C by sending SIGINT to that group.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.urls import reverse

from annotator.datasets.services import snapshot_build
from annotator.projects.management.commands.seed_demo import DEMO_ACCOUNTS

from . import processes

SNAPSHOT_FORM = {
    "scope": "gold", "formats": ["jsonl", "csv"], "train": "80", "validation": "10", "test": "10",
    "seed": "5", "near_duplicate_threshold": "0.8",
}


def copy_of_checkout(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=processes.ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = processes.ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
    (target / ".venv").symlink_to(sys.prefix)
    return target


def processes_in(folder: Path) -> list[int]:
    """Processes whose working folder is inside `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                    found.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile, or not ours to read
    return found


def test_make_run_builds_snapshots_in_a_worker_and_ctrl_c_stops_everything(tmp_path):
    checkout = copy_of_checkout(tmp_path / "checkout")
    port = processes.free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "TASKS_BACKEND"}}
    log = open(tmp_path / "make.log", "wb")
    make = subprocess.Popen(
        # -o: the virtualenv is this run's, already installed.
        ["make", "-o", ".venv/.installed-run", "run", f"ADDRESS=127.0.0.1:{port}"],
        cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert make.poll() is None, (tmp_path / "make.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "make.log").read_text()
                time.sleep(0.5)

        # The address it prints is the one it serves (seed_demo runs to its end before the server starts).
        assert f"Open http://127.0.0.1:{port}/ and log in" in (tmp_path / "make.log").read_text()
        username, password, *_ = DEMO_ACCOUNTS[0]  # the demo's admin
        browser = processes.Browser()
        browser.log_in(port, username, password)
        database = sqlite3.connect(checkout / "db.sqlite3")
        [(project_id,)] = database.execute("SELECT id FROM projects_project").fetchall()
        asked = browser.post(port, reverse("dataset_list", args=[project_id]), SNAPSHOT_FORM, htmx=False)
        assert asked.status == 302
        [(status,)] = database.execute("SELECT status FROM datasets_snapshot").fetchall()
        deadline = time.monotonic() + 120
        while status != "ready":
            assert status != "failed" and time.monotonic() < deadline, (tmp_path / "make.log").read_text()
            time.sleep(0.2)
            [(status,)] = database.execute("SELECT status FROM datasets_snapshot").fetchall()
        # Built by a worker, through the database backend (the immediate one keeps no task rows).
        [(task_status, worker_ids)] = database.execute(
            "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path = ?",
            (snapshot_build.module_path,),
        ).fetchall()
        database.close()
        assert task_status == "SUCCESSFUL" and worker_ids != "[]"
        assert len(processes_in(checkout)) >= 3  # make's shell, the dev server, the worker

        # An analyst labels on the embedded database (SQLite refuses queries PostgreSQL takes).
        analyst, analyst_password, *_ = DEMO_ACCOUNTS[2]
        labeller = processes.Browser()
        labeller.log_in(port, analyst, analyst_password)
        database = sqlite3.connect(checkout / "db.sqlite3")
        [(article_id, text)] = database.execute(
            "SELECT id, text FROM corpus_article WHERE language = 'ar'"
        ).fetchall()
        [(label_id,)] = database.execute(
            "SELECT id FROM projects_spanlabel WHERE project_id = ? AND name = 'Claim'", (project_id,)
        ).fetchall()
        article = f"/p/{project_id}/a/{article_id}/"
        assert labeller.get(port, article).status == 200
        phrase = " ".join(next(line for line in text.split("\n") if len(line) > 40).split(" ")[:5])
        start = text.index(phrase)
        saved = labeller.post(port, article + "spans/", {
            "label": label_id, "start": start, "end": start + len(phrase), "text": phrase, "client_id": str(uuid.uuid4()),
        })
        assert saved.status == 201, saved.text[:500]
        assert database.execute("SELECT start, \"end\" FROM labelling_span").fetchall() == [(start, start + len(phrase))]
        database.close()
        page = labeller.get(port, article)
        assert page.status == 200 and 'class="span ' in page.text
        assert browser.get(port, f"/p/{project_id}/review/{article_id}/").status == 200

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(timeout=60)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        log.close()
    deadline = time.monotonic() + 10
    while processes_in(checkout) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_in(checkout) == [], (tmp_path / "make.log").read_text()
