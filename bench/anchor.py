"""Benchmark 6: Label Studio's anchor workload, imported with its annotations (issue #18).

    python -m bench.anchor --generator ../shared/workloads/anchor_gen.py --articles 2000 10000 --runs 3
    python -m bench.anchor --generator … --articles 2000 --runs 3 --base /work/wt/base-import
    python -m bench.anchor --generator … --articles 2000 --snapshots jsonl csv conll spacy parquet label-studio

The generator (`anchor_gen.py`, kept outside this project, run as it is) writes the articles
Label Studio 1.23.2 and doccano were measured on: about 4,060 characters each (English, a
tenth Arabic, emoji), 20 `Claim`/`Quote` spans, a topic and a stance, no language. Its output
becomes a Label Studio JSON export (one task an article, one annotation a task: `labels`
regions, a `topic` choice and a `stance` choice), because that is what Label Studio imported
when it was measured: the same document through both tools. The project gets that schema
(labels Claim and Quote, topics Armenia, Syria and Iran deal, the stance values, a stance
target called `stance`), and each run imports the file as a user would:
`manage.py import_annotations PROJECT FILE --format label-studio --gold-by USER`, language
detection included (the workload has no `language`), in a fresh process of its own.

Reported per run: seconds, articles per second, peak RSS of the importing process, the CPU
seconds of the importing process and of the PostgreSQL server process serving its connection
(read from /proc: the database must run on this machine), and cores used (both CPU times over
the wall time). On a shared, busy machine the CPU seconds are the steadier figure. Tasks go to
the database queue, as in production: the tasks the import queues for the worker (the new
articles' suggestions) are counted and reported, not run (they are the worker's work after the
import; until the ninth session's end the benchmarks' immediate backend ran them inside the import).

With `--base`, the same runs alternate with another checkout's code (e.g. `git worktree add
--detach ../base-import main`), each in turn, on the same file.
With `--snapshots`, the last size is imported once more as this app's own JSONL, each article
one analyst's submitted annotation (a snapshot exports the analysts' work: `bench.formats`),
and that project is exported in each format given through `bench.export`'s one-run entry point
(`jsonl-download` is the plain download), each in a fresh process.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.common import ROOT, median, setup_django

PROJECT = "bench-anchor"
GOLD_BY = "bench-anchor-gold"
ANALYST = "bench-anchor-analyst"
LABELS = ("Claim", "Quote")
TOPICS = ("Armenia", "Syria", "Iran deal")
STANCE_VALUES = ("supportive", "critical", "neutral")
STANCE_TARGET = "stance"


def workload(generator: Path, n: int) -> Path:
    """The generator's JSONL for `n` articles (made once, it is deterministic)."""
    out = Path(f"/tmp/annotator-anchor-{n}.jsonl")
    if not out.exists():
        subprocess.run([sys.executable, str(generator), "--n", str(n), "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def label_studio_file(generator: Path, n: int) -> Path:
    """The workload as Label Studio's JSON export of it: a list of tasks with one annotation each."""
    out = Path(f"/tmp/annotator-anchor-{n}.label-studio.json")
    if out.exists():
        return out
    tasks = []
    with workload(generator, n).open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            result = [
                {"id": f"s{number}", "from_name": "label", "to_name": "text", "type": "labels",
                 "value": {"start": span["start"], "end": span["end"], "text": span["text"], "labels": [span["label"]]}}
                for number, span in enumerate(row["spans"])
            ]
            result.append({"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [row["topic"]]}})
            result.append({"from_name": STANCE_TARGET, "to_name": "text", "type": "choices", "value": {"choices": [row["stance"]]}})
            tasks.append({"id": row["id"], "data": {"text": row["text"], "title": row["title"]}, "annotations": [{"result": result}]})
    out.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return out


def jsonl_file(generator: Path, n: int) -> Path:
    """The workload as this app's JSONL snapshot records, each article one analyst's submitted
    annotation: what a snapshot of the analysts' work exports (`bench.export` measures that scope)."""
    out = Path(f"/tmp/annotator-anchor-{n}.annotator.jsonl")
    if out.exists():
        return out
    with workload(generator, n).open(encoding="utf-8") as lines, out.open("w", encoding="utf-8") as records:
        for line in lines:
            row = json.loads(line)
            spans = [
                {"id": number, "start": span["start"], "end": span["end"], "label": span["label"], "text": span["text"]}
                for number, span in enumerate(row["spans"], start=1)
            ]
            annotation = {"annotator": ANALYST, "kind": "analyst", "status": "submitted", "spans": spans,
                          "topics": [row["topic"]], "stance": {STANCE_TARGET: row["stance"]}}
            records.write(json.dumps({"text": row["text"], "title": row["title"], "annotations": [annotation]}, ensure_ascii=False) + "\n")
    return out


def fresh_project() -> int:
    """The workload's project, new, with its schema (the previous run's deleted in this process)."""
    from django.contrib.auth import get_user_model

    from annotator.labelling.models import Annotation
    from annotator.projects.models import Membership, Project, SpanLabel, StanceTarget, StanceValue, Topic

    for old in Project.objects.filter(name=PROJECT):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = Project.objects.create(name=PROJECT)
    SpanLabel.objects.bulk_create(
        SpanLabel(project=project, name=name, colour=colour, hotkey=str(order + 1), order=order)
        for order, (name, colour) in enumerate(zip(LABELS, ("#1f77b4", "#ff7f0e")))
    )
    Topic.objects.bulk_create(Topic(project=project, name=name, order=order) for order, name in enumerate(TOPICS))
    StanceValue.objects.bulk_create(StanceValue(project=project, name=name, order=order) for order, name in enumerate(STANCE_VALUES))
    StanceTarget.objects.create(project=project, name=STANCE_TARGET)
    get_user_model().objects.get_or_create(username=GOLD_BY)
    analyst, _ = get_user_model().objects.get_or_create(username=ANALYST)
    Membership.objects.create(project=project, user=analyst, role=Membership.Role.ANALYST)
    return project.id


def import_once(checkout: Path, project_id: int, path: str) -> dict:
    """One import in this process, as the command runs it, with `checkout`'s code."""
    sys.path.insert(0, str(checkout))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    from io import StringIO

    import django

    django.setup()
    from django.core.management import call_command

    from annotator.labelling.models import Span
    from annotator.projects.models import Project
    from bench.common import peak_rss_mb

    assert Path(sys.modules["annotator"].__file__).is_relative_to(checkout), "the other checkout's code ran"
    from django_tasks_db.models import DBTaskResult

    queued = set(DBTaskResult.objects.values_list("id", flat=True))
    server = database_process()
    before, cpu_before, server_before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server)
    how = ["--format", "jsonl"] if path.endswith(".annotator.jsonl") else ["--format", "label-studio", "--gold-by", GOLD_BY]
    call_command("import_annotations", str(project_id), path, *how, stdout=StringIO())
    seconds, cpu_after, server_after = time.perf_counter() - before, resource.getrusage(resource.RUSAGE_SELF), cpu_seconds(server)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    project = Project.objects.get(pk=project_id)
    # The follow-on tasks the import queued for the worker: counted, then dropped (no worker runs here).
    follow_on = DBTaskResult.objects.exclude(id__in=queued)
    tasks = dict(Counter(path.rsplit(".", 1)[1] for path in follow_on.values_list("task_path", flat=True)))
    follow_on.delete()
    return {
        "queued_tasks": tasks,
        "seconds": seconds,
        "cpu": cpu,
        "server_cpu": server_after - server_before,
        "cores": (cpu + server_after - server_before) / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "articles": project.articles.count(),
        "languages": sorted(set(project.articles.values_list("language", flat=True))),
        "spans": Span.objects.filter(annotation__article__project=project).count(),
    }


def database_process() -> int | None:
    """The PostgreSQL server process serving this connection, when it runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of a process so far (0 when it cannot be read)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(checkout: Path, args: list[str]) -> dict:
    """`bench.anchor` in a fresh process, with `checkout`'s code for the project (its own settings too).

    Tasks go to the database queue, as in production: the import's follow-on work (the new
    articles' suggestions, `suggestions.tasks`) is the worker's, after the import, not the import's
    (the benchmarks' default immediate backend would run it inside the timed command)."""
    answer = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args], cwd=checkout, check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(checkout), "TASKS_BACKEND": "database"},
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", type=Path, default=ROOT.parent / "shared" / "workloads" / "anchor_gen.py")
    parser.add_argument("--articles", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with, runs alternating")
    parser.add_argument("--snapshots", nargs="+", metavar="FORMAT", help="then export the imported project in these formats")
    parser.add_argument("--one", nargs=3, metavar=("CHECKOUT", "PROJECT_ID", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(import_once(Path(args.one[0]).resolve(), int(args.one[1]), args.one[2])))
        return
    setup_django()
    if args.fresh:
        print(json.dumps({"project": fresh_project()}))
        return
    checkouts = [("base", args.base.resolve())] if args.base else []
    checkouts.append(("this", ROOT))
    print("| articles | code | seconds (median; runs) | articles/s | CPU s: import + PostgreSQL | cores used | peak RSS MB | languages |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | --- |")
    project_id = None
    for n in args.articles:
        path = label_studio_file(args.generator, n)
        results = {name: [] for name, _ in checkouts}
        for _ in range(args.runs):
            for name, checkout in checkouts:
                project_id = run(ROOT, ["--fresh"])["project"]
                results[name].append(run(checkout, ["--one", str(checkout), str(project_id), str(path)]))
                assert results[name][-1]["articles"] == n, results[name][-1]
        for name, checkout in checkouts:
            rs = results[name]
            seconds = median(r["seconds"] for r in rs)
            print(
                f"| {n} | {name} | {seconds:.2f} ({', '.join(f'{r['seconds']:.2f}' for r in rs)}) | {n / seconds:.0f} "
                f"| {median(r['cpu'] for r in rs):.2f} + {median(r['server_cpu'] for r in rs):.2f} | {median(r['cores'] for r in rs):.2f} | {median(r['peak_rss_mb'] for r in rs):.0f} | {', '.join(rs[0]['languages'])} |",
                flush=True,
            )
            print(f"  {name}: tasks the import queued for the worker: {rs[0]['queued_tasks']}", flush=True)
    if args.snapshots:
        # Snapshots export submitted analysts' work: the same workload as one analyst's, in this
        # app's JSONL (imported by this checkout, timed too), then each format by bench.export.
        project_id = run(ROOT, ["--fresh"])["project"]
        path = jsonl_file(args.generator, args.articles[-1])
        result = run(ROOT, ["--one", str(ROOT), str(project_id), str(path)])
        print(f"imported {path.name} (this app's JSONL): {result['seconds']:.2f} s, CPU {result['cpu']:.2f} + {result['server_cpu']:.2f} s")
    for format_name in args.snapshots or []:
        answer = subprocess.run(
            [sys.executable, "-m", "bench.export", "--one", str(project_id), format_name],
            cwd=ROOT, check=True, capture_output=True, text=True,
        )
        result = json.loads(answer.stdout.strip().splitlines()[-1])
        print(f"snapshot {format_name} of {args.articles[-1]}: {result['seconds']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MB, "
              f"{result['bytes'] / 1e6:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
