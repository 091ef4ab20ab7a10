import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from annotator.corpus.models import Article

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
SEEDS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "seeds").glob("*.txt"))


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_articles", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_files_with_progress_on_stderr(project):
    files = [FIXTURES / "articles.csv", FIXTURES / "articles.jsonl", *SEEDS]
    out, err = run(project.id, *files)

    assert err.splitlines() == [f"[{n}/{len(files)}] reading {path}" for n, path in enumerate(files, start=1)]
    assert f"Imported {2 + 2 + 5} article(s) into “{project.name}”; skipped 0 duplicate(s)." in out
    assert project.articles.count() == 9
    assert sorted(project.articles.values_list("language", flat=True)) == ["ar"] + ["en"] * 8


def test_duplicates_are_reported_and_not_an_error(project):
    run(project.id, FIXTURES / "articles.jsonl")
    out, _ = run(project.id, FIXTURES / "articles.jsonl", FIXTURES / "news-page.html")

    assert f"duplicate {FIXTURES / 'articles.jsonl'}, row 1: skipped: this text is already in the project" in out
    assert "Imported 1 article(s)" in out and "skipped 2 duplicate(s)" in out
    assert project.articles.count() == 3


def test_errors_fail_the_command_and_import_nothing(project, tmp_path):
    latin1 = tmp_path / "cafe.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    bad = FIXTURES / "bad-rows.csv"

    with pytest.raises(CommandError) as caught:
        run(project.id, FIXTURES / "articles.csv", bad, latin1)

    message = str(caught.value)
    assert message.splitlines()[0] == "Nothing was imported: 4 problems. Fix and run again."
    assert f"  {bad}, row 2: published is not a date" in message
    assert f"  {bad}, row 3: url is not an http:// or https:// address" in message
    assert f"  {bad}, row 4: text is empty" in message
    assert f"  {latin1}: is not UTF-8 text" in message
    assert Article.objects.count() == 0


def test_missing_file(project, tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(CommandError, match=re.escape(f"could not be opened.\n  {missing}: No such file or directory")):
        run(project.id, FIXTURES / "articles.csv", missing)
    assert Article.objects.count() == 0


def test_oversized_file(project, tmp_path, settings):
    settings.ANNOTATOR_MAX_UPLOAD_BYTES = 10
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1000)
    with pytest.raises(CommandError, match=re.escape(f"  {big}: is larger than the limit of 10")):
        run(project.id, big)


def test_unknown_project(db):
    with pytest.raises(CommandError, match="There is no project with id 999"):
        run(999, FIXTURES / "articles.csv")


def test_exits_non_zero_from_the_command_line(project, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    # call_command raises; manage.py turns the CommandError into exit status 1.
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "import_articles", str(project.id), str(empty)])
    assert exited.value.code == 1
