"""A killed import leaves no partial articles: a batch is one transaction, all or nothing."""

import json
import signal
import subprocess
import sys
import time

import pytest

from annotator.corpus.models import Article
from tests.factories import make_project

from .processes import ROOT

BATCH = 3000


@pytest.fixture
def batch_files(tmp_path):
    paths = []
    for number in range(3):
        path = tmp_path / f"batch-{number}.jsonl"
        rows = (
            {"title": f"Article {number}-{i}", "text": f"Article {number}-{i}. " + "Lavrov said “yes”. " * 200}
            for i in range(BATCH // 3)
        )
        path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("kill_after", [0.5, 1.5, 2.0, 2.5, 3.0])
def test_a_killed_import_leaves_all_or_nothing(env_for_test_database, batch_files, kill_after):
    """Killed at moments after the last file is read: during checks, language detection, the insert."""
    project = make_project(name="Killed import")
    command = [sys.executable, "manage.py", "import_articles", str(project.id), *map(str, batch_files)]
    process = subprocess.Popen(command, cwd=ROOT, env=env_for_test_database(), stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True)
    for line in process.stderr:  # "[3/3] reading batch-2.jsonl": every file is in memory now
        if line.startswith(f"[{len(batch_files)}/{len(batch_files)}]"):
            break
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()
    count = Article.objects.filter(project=project).count()
    print(f"killed {kill_after} s after reading: {count} articles")
    assert count in (0, BATCH), f"{count} articles: a partial batch was left behind"


def test_the_same_import_left_alone_imports_everything(env_for_test_database, batch_files):
    project = make_project(name="Whole import")
    command = [sys.executable, "manage.py", "import_articles", str(project.id), *map(str, batch_files)]
    result = subprocess.run(command, cwd=ROOT, env=env_for_test_database(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert Article.objects.filter(project=project).count() == BATCH
