"""A snapshot built by real `manage.py run_worker` processes: request to files ready, by the number
of workers, for this checkout and older ones, runs alternating.

    python -m bench.snapshot_workers --base ../base --articles 10000 --formats conll parquet jsonl --workers 1 2 --runs 2
    python -m bench.snapshot_workers --project bench-anchor --formats jsonl csv conll --workers 1 --runs 3

For each run: N workers of the checkout start on the benchmark database (django-tasks-db's
backend, as production runs them) and become idle; then the snapshot is asked for
(`snapshot_create`, as the export page does) and the clock runs until it is ready. Reported per
run: the seconds from the request to ready, the CPU seconds of all the workers over that time
(from /proc, their start-up excluded), each worker's peak RSS (VmHWM, start-up included), how
long the build task ran (the hand-out of the shards: before the thirteenth session, the select
and split too; or everything, for one shard) and how many shard tasks each worker ran
(django-tasks-db's rows: since the thirteenth session a shard's select and its write are a task each). Each run starts its workers
afresh, so a worker's first snapshot pays its imports (spaCy, pyarrow), as after a deploy.
A checkout's build in one task (before issue #18's shards) uses one worker whatever N is; with
shard tasks, every worker takes shards.

With `--warm` each run measures its workers' second snapshot (the first, the same, not counted),
as a worker that has run for a while would: a worker's first snapshot is about a second slower,
and not because of the imports (loading them as the worker starts changed nothing: twelfth
session in docs/performance.md).

Articles' tokens kept by earlier snapshots or by the worker after their import (`datasets.kept`)
are read by the token formats, and their near-duplicate sketches kept by earlier snapshots
(`datasets.kept_sketches`) by every select; with `--cold` the project's are forgotten before each
run, so the snapshot tokenizes and sketches every article (and keeps them), as the first one after
an upgrade of spaCy would. Older checkouts never read them.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import median, setup_django

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def idle(pids: list[int], seconds: float = 1.0) -> None:
    """Until no worker used CPU for `seconds` (they have started and recovered; on PostgreSQL an
    idle worker waits on LISTEN, looking at the queue itself only every --interval)."""
    last = None
    while True:
        now = sum(cpu_seconds(pid) for pid in pids)
        if now == last:
            return
        last = now
        time.sleep(seconds)


def discard(snapshot) -> None:
    from annotator.datasets.models import snapshot_root

    shutil.rmtree(snapshot_root() / snapshot.directory)  # 10k articles' files: not kept run after run
    snapshot.delete()


def run_one(checkout: Path, project, format_name: str, workers: int, cold: bool = False, warm: bool = False) -> dict:
    from django.contrib.auth import get_user_model
    from django_tasks_db.models import DBTaskResult

    from annotator.datasets.models import ArticleSketch, ArticleTokens, Snapshot
    from annotator.datasets.services import snapshot_create
    from bench.formats import snapshot_parameters

    env = {**os.environ, "PYTHONPATH": str(checkout)}
    logs = [tempfile.TemporaryFile() for _ in range(workers)]
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "5", "--no-startup-delay", "--no-reload"],
            cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    snapshot = None
    try:
        pids = [p.pid for p in processes]
        idle(pids)
        user, _ = get_user_model().objects.get_or_create(username="bench-exporter")
        for _ in range(2 if warm else 1):  # with --warm, the first snapshot is not the one measured
            if snapshot is not None:
                discard(snapshot)
                idle(pids)
            if cold:
                ArticleTokens.objects.filter(article__project=project).delete()
                ArticleSketch.objects.filter(article__project=project).delete()
            before = [cpu_seconds(pid) for pid in pids]
            started = time.monotonic()
            snapshot = snapshot_create(project=project, user=user, parameters=snapshot_parameters(project, format_name))
            while True:
                snapshot.refresh_from_db()
                if snapshot.finished:
                    break
                time.sleep(0.05)
            seconds = time.monotonic() - started
            cpu = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
        rss = [peak_rss_mb(pid) for pid in pids]
    finally:
        for process in processes:
            process.terminate()
        for process, log in zip(processes, logs, strict=True):
            process.wait(timeout=30)
            if snapshot is None or snapshot.status != Snapshot.Status.READY:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-3000:])
            log.close()
    assert snapshot.status == Snapshot.Status.READY, snapshot.error
    tasks = DBTaskResult.objects.filter(args_kwargs__args__0=str(snapshot.id))
    build = tasks.get(task_path__endswith=".snapshot_build")
    shards = Counter(t.worker_ids[-1] for t in tasks.filter(task_path__endswith=".snapshot_write_shard"))
    discard(snapshot)
    return {
        "seconds": seconds, "cpu": cpu, "rss": rss,
        "build_task": (build.finished_at - build.started_at).total_seconds(),
        "shards": sorted(shards.values(), reverse=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, action="append", default=[], help="an older checkout to compare with")
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["conll"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--project", help="an existing project by name instead (e.g. bench-anchor, made by bench.anchor --snapshots)")
    parser.add_argument("--cold", action="store_true", help="forget the articles' kept tokens and sketches before each run")
    parser.add_argument("--warm", action="store_true", help="measure each run's second snapshot: workers past their first")
    args = parser.parse_args()
    os.environ.setdefault("ANNOTATOR_SNAPSHOT_ROOT", tempfile.mkdtemp(prefix="annotator-bench-snapshots-"))
    os.environ["TASKS_BACKEND"] = "database"  # the snapshot's tasks go to the workers
    setup_django()
    from bench.export import ensure_project

    if args.project:
        from annotator.projects.models import Project

        project = Project.objects.get(name=args.project)
        args.articles = project.articles.count()
    else:
        project = ensure_project(args.articles, args.analysts)
    checkouts = [base.resolve() for base in args.base] + [Path.cwd()]
    print(f"Tokens and sketches: {'forgotten before each run (--cold)' if args.cold else 'as kept'}; workers: "
          f"{'past a first snapshot of the same (--warm)' if args.warm else 'fresh, their first snapshot'}")
    print("| articles | format | workers | checkout | s to ready (runs) | workers' CPU s (runs) | peak RSS MB per worker "
          "| build task s (runs) | shard tasks per worker (runs) | load average |")
    print("| ---: | --- | ---: | --- | --- | --- | --- | --- | --- | --- |")
    for format_name in args.formats:
        for workers in args.workers:
            runs = {checkout: [] for checkout in checkouts}
            loads = []
            for _ in range(args.runs):
                for checkout in checkouts:
                    runs[checkout].append(run_one(checkout, project, format_name, workers, args.cold, args.warm))
                    loads.append(os.getloadavg()[0])
            for checkout in checkouts:
                done = runs[checkout]
                print(
                    f"| {args.articles} | {format_name} | {workers} | {checkout.name} "
                    f"| {median(r['seconds'] for r in done):.1f} ({', '.join(f'{r['seconds']:.1f}' for r in done)}) "
                    f"| {median(sum(r['cpu']) for r in done):.1f} ({', '.join(f'{sum(r['cpu']):.1f}' for r in done)}) "
                    f"| {' + '.join(f'{median(r['rss'][i] for r in done):.0f}' for i in range(workers))} "
                    f"| {', '.join(f'{r['build_task']:.1f}' for r in done)} "
                    f"| {', '.join('+'.join(map(str, r['shards'])) or '-' for r in done)} "
                    f"| {min(loads):.1f}–{max(loads):.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
