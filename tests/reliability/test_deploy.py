"""The systemd units in deploy/ (issue 17, "a supervisor configuration, documented and tested").

There is no systemd to run them under here, so: `systemd-analyze verify` checks both units (with
their paths pointed at this checkout), and the worker unit's own ExecStart command line is run,
killed with SIGKILL mid-build, and run again as `Restart=always` has systemd do. The restarted
worker fails the killed build visibly and removes its files before it builds the next snapshot.
"""

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from annotator.datasets.models import Snapshot
from annotator.datasets.recovery import STOPPED
from tests.datasets.helpers import annotate, article

from . import processes
from .processes import current, wait_for
from .test_import_jobs import GUNICORN_OPTIONS

DEPLOY = processes.ROOT / "deploy"
UNITS = ["annotator-web.service", "annotator-worker.service"]
SERVER_ROOT = "/srv/annotator"

SNAPSHOT_FORM = {
    "scope": "gold", "formats": ["jsonl", "csv"], "train": "60", "validation": "20", "test": "20",
    "seed": "5", "near_duplicate_threshold": "0.8",
}


def here(value: str) -> str:
    """A unit's value with the server's paths replaced by this checkout and its Python."""
    value = value.replace(f"{SERVER_ROOT}/.venv/bin/", f"{Path(sys.executable).parent}/")
    return value.replace(SERVER_ROOT, str(processes.ROOT))


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(DEPLOY / name)
    return parser


def test_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze (Debian's systemd package) is needed to check deploy/*.service")
    (tmp_path / "env").write_text("SECRET_KEY=x\n")
    for name in UNITS:
        text = here((DEPLOY / name).read_text()).replace("/etc/annotator/env", str(tmp_path / "env"))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_units_restart_and_kill_every_process():
    for name in UNITS:
        service = unit(name)["Service"]
        assert service["Restart"] == "always"
        assert service["KillMode"] == "control-group"
        assert unit(name)["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up restarting
    assert "run_worker" in unit("annotator-worker.service")["Service"]["ExecStart"]


def gunicorn_options(command: str) -> list[str]:
    """A gunicorn command line's options, the address it binds to left out."""
    words = shlex.split(command)
    words = words[words.index("annotator.wsgi") + 1 :]
    at = words.index("--bind")
    return words[:at] + words[at + 2 :]


def test_the_web_unit_runs_gunicorn_as_the_readme_documents():
    """Threaded workers and the timeouts README's "Production" section gives (and the reliability
    tests run), so that a slow upload holds one thread rather than one of two processes."""
    [readme_command] = [
        line for line in (processes.ROOT / "README.md").read_text().splitlines() if line.startswith("gunicorn annotator.wsgi")
    ]
    unit_options = gunicorn_options(unit("annotator-web.service")["Service"]["ExecStart"])
    assert unit_options == gunicorn_options(readme_command)
    assert unit_options[unit_options.index("--worker-class") + 1] == "gthread"
    assert tuple(unit_options[2:]) == GUNICORN_OPTIONS


@pytest.mark.django_db(transaction=True)
def test_worker_unit_restarted_after_a_crash_recovers_the_snapshot(
    client, tasks_database, env_for_test_database, project, admin_user, snapshot_root, tmp_path
):
    from django_tasks_db.models import DBTaskResult

    service = unit("annotator-worker.service")["Service"]
    command = shlex.split(here(service["ExecStart"]))
    cwd = here(service["WorkingDirectory"])
    # What EnvironmentFile gives the unit; recovery takes a build for stopped after 3 s of silence.
    env = env_for_test_database(ANNOTATOR_SNAPSHOT_HEARTBEAT_SECONDS="0.5", ANNOTATOR_SNAPSHOT_STALE_SECONDS="3")
    # Every record of a build sleeps, so that the kill lands mid-build (tests/reliability/slow_worker.py).
    slow = {**env, "SLOW_BUILD_STEP_SECONDS": "0.2"}
    slow_command = [command[0], "-m", "tests.reliability.slow_worker", *command[2:]]
    assert command[1] == "manage.py"

    for n in range(20):
        item = article(project, f"Lavrov spoke to envoy number {n} about the grain deal, clause {n * 7}.")
        annotate(item, admin_user, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
    client.force_login(admin_user)
    page_url = reverse("dataset_list", args=[project.id])
    assert client.post(page_url, SNAPSHOT_FORM).status_code == 302
    killed = Snapshot.objects.get()

    with processes.Process(slow_command, slow, tmp_path / "worker.log", cwd=cwd) as worker:
        wait_for(lambda: current(killed).status == "running" and killed.progress_done >= 2, "the build", worker)
        worker.kill()
    assert current(killed).status == "running"
    assert (snapshot_root / killed.directory).exists()

    # systemd starts the same command again.
    with processes.Process(command, env, tmp_path / "worker-restarted.log", cwd=cwd) as worker:
        wait_for(lambda: current(killed).status == "failed", "the recovery", worker)
        assert killed.error == STOPPED
        assert not (snapshot_root / killed.directory).exists()
        assert DBTaskResult.objects.get().status == "FAILED"

        assert client.post(page_url, SNAPSHOT_FORM).status_code == 302
        new = Snapshot.objects.exclude(pk=killed.pk).get()
        wait_for(lambda: current(new).finished, "the next build", worker)
        assert new.status == "ready", new.error
        assert worker.alive()
    assert STOPPED in client.get(page_url).content.decode()
