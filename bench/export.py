"""Benchmark 2: export a project of N articles × 20 spans × k analysts, per format.

    python -m bench.export --articles 1000 10000 --formats jsonl spacy conll parquet csv label-studio jsonl-download --runs 3

A format may be several joined by "+" ("jsonl+csv"): one snapshot that writes them all.

Each run is a fresh process (so its peak RSS is its own) that streams the export to a file
under /tmp and prints seconds and peak RSS; the median of the runs is reported. A snapshot is
built in the process, as a worker builds it: one process does all the work.
"""

import argparse
import json
import sys

from bench.common import median, run_in_fresh_process, setup_django


def ensure_project(n: int, analysts: int):
    from annotator.projects.models import Project
    from bench.workload import load_into_database

    # The default two analysts keep the plain name the earlier results were measured on.
    name = f"bench-{n}" if analysts == 2 else f"bench-{n}-{analysts}-analysts"
    project = Project.objects.filter(name=name).first()
    if project is None or project.articles.count() != n:
        print(f"loading {n} articles…", file=sys.stderr)
        project = load_into_database(name, n, analysts)
        # Fresh rows have no visibility map or hint bits yet: the first reads would set them (the
        # 100k JSONL download took 27.3 s just after loading, 12.9 s after this).
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return project


def export_once(project_id: int, format_name: str) -> dict:
    """One export in this process: the work measured, nothing else."""
    from annotator.projects.models import Project
    from bench import formats
    from bench.common import Timer, peak_rss_mb

    project = Project.objects.get(pk=project_id)
    with Timer() as timer:
        if format_name == "jsonl-download":
            size = formats.jsonl_download(project, f"/tmp/annotator-bench-{project_id}.jsonl")
        else:
            size = formats.snapshot(project, format_name)
    return {"seconds": timer.seconds, "peak_rss_mb": peak_rss_mb(), "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["jsonl"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("PROJECT_ID", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.one:
        print(json.dumps(export_once(int(args.one[0]), args.one[1])))
        return
    print("| articles | format | seconds (median) | peak RSS MB (median) | file MB | runs |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for n in args.articles:
        project = ensure_project(n, args.analysts)
        for format_name in args.formats:
            results = [
                json.loads(run_in_fresh_process(["-m", "bench.export", "--one", str(project.id), format_name]))
                for _ in range(args.runs)
            ]
            print(
                f"| {n} | {format_name} | {median(r['seconds'] for r in results):.2f} "
                f"| {median(r['peak_rss_mb'] for r in results):.0f} "
                f"| {results[0]['bytes'] / 1e6:.1f} | {args.runs} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
