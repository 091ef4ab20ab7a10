"""A throwaway PostgreSQL cluster of a test's own, to stop and start: the system cluster that
everyone else uses is never touched (initdb in a temporary folder, its own port and socket folder).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from . import processes


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's programs (Debian keeps each version apart)."""
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    for directory in sorted(versions, key=lambda p: int(p.parent.name), reverse=True):
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


class PrivateCluster:
    """A throwaway PostgreSQL cluster: its own data folder, port and socket folder."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="annotator-pg-"))
        self.data = self.base / "data"
        self.port = processes.free_port()
        # PostgreSQL refuses to run as root: as root, run it as the postgres user.
        self.as_owner = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, program, *args):
        result = subprocess.run(
            [*self.as_owner, str(self.bin / program), *args], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (
            f"{program} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}\n{self.log()}"
        )

    def log(self) -> str:
        path = self.base / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def init(self):
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self):
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.base / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def connect(self, dbname="annotator"):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/annotator"

    def remove(self):
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60,
            )
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def cluster():
    """A running private cluster with an empty `annotator` database."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        # Not a skip: this machine kind (and CI) has them; a missing one is a broken set-up to fix.
        pytest.fail("a private cluster needs PostgreSQL's server programs (initdb, pg_ctl) in /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.fail("running as root without runuser: PostgreSQL cannot be started as root")
    cluster = PrivateCluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        with cluster.connect("postgres") as connection:
            connection.execute("CREATE DATABASE annotator")
        yield cluster
    finally:
        cluster.remove()
