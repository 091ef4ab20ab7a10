"""Where a snapshot's select step spends its time: its parts' wall and CPU seconds, one build.

    python -m bench.select_parts --articles 10000 --format jsonl
    python -m bench.select_parts --project bench-anchor --format jsonl   # a project already loaded

`bench.build_steps` times the build's steps; this times the parts of the first one, `_select`
(`annotator.datasets.build`), in one build of the benchmark project as `bench.export` builds it
(every analyst's submitted work): reading the records (`selected_records`: the queries and
assembling the dicts), their JSONL lines, the MinHash sketches (`NearDuplicates._flush`, which
sketches the texts a batch at a time), reading and keeping the articles' kept sketches
(`KeptSketches.read` and `save`), the splitting units and primary topics, and the progress saves. CPU is this thread's own
(`thread_time`); "PostgreSQL CPU" is the server process serving this connection, for the whole
build, read from /proc (the database must run on this machine).
"""

import argparse
import json
import os
import time
from collections import defaultdict

from bench.common import setup_django


def _timed(totals: dict, name: str, function):
    def run(*arguments, **keywords):
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*arguments, **keywords)
        finally:
            totals[name][0] += time.perf_counter() - wall
            totals[name][1] += time.thread_time() - cpu

    return run


def _timed_iterator(totals: dict, name: str, function):
    """A generator function's time: only the time spent making each item, not the caller's."""

    def run(*arguments, **keywords):
        items = function(*arguments, **keywords)
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += time.thread_time() - cpu
            yield item

    return run


def _backend_cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--project", help="the name of a project already in the database, instead of bench-N")
    parser.add_argument("--format", default="jsonl", help='one format, or several joined by "+"')
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from annotator.datasets import build
    from annotator.projects.models import Project
    from bench import formats
    from bench.export import ensure_project

    project = Project.objects.get(name=args.project) if args.project else ensure_project(args.articles, args.analysts)
    totals = defaultdict(lambda: [0.0, 0.0])
    build.selected_records = _timed_iterator(totals, "records", build.selected_records)
    build.jsonl.line = _timed(totals, "json_line", build.jsonl.line)
    build.NearDuplicates._flush = _timed(totals, "minhash", build.NearDuplicates._flush)
    build.KeptSketches.read = _timed(totals, "kept_sketches_read", build.KeptSketches.read)
    build.KeptSketches.save = staticmethod(_timed(totals, "kept_sketches_save", build.KeptSketches.save))
    build.Units.add = _timed(totals, "units", build.Units.add)
    build.record_primary_topic = _timed(totals, "primary_topic", build.record_primary_topic)
    build.Progress.step = _timed(totals, "progress", build.Progress.step)
    build._select = _timed(totals, "select", build._select)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    database = _backend_cpu(backend)
    formats.snapshot(project, args.format)
    print(json.dumps({
        "project": project.name, "articles": project.articles.count(), "format": args.format,
        **{name: {"wall": round(wall, 2), "cpu": round(cpu, 2)} for name, (wall, cpu) in totals.items()},
        "postgresql_cpu_whole_build": round(_backend_cpu(backend) - database, 2),
    }))


if __name__ == "__main__":
    main()
