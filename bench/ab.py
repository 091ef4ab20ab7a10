"""Before/after: the same export benchmark for two checkouts, their runs alternating.

    python -m bench.ab --base ../base --articles 10000 --formats jsonl conll spacy parquet --runs 3
    python -m bench.ab --base ../base-a --base ../base-b …   # several older checkouts, in turn

Machines here vary by 2× from session to session and a busy minute skews one run: a change is
judged against the code before it measured in the same session, one run of each in turn
(base, this checkout, base, …). `--base` is a checkout of the older commit (e.g. `git worktree
add --detach ../base COMMIT`); both use this checkout's virtualenv and the same benchmark
project (loaded and migrated by this checkout), each run a fresh process (`bench.export --one`).
"CPU s" is the CPU time of the whole run (start-up included, and any process it waited for), which
a busy machine inflates less than the wall time. Peak RSS is the build's process's; a checkout whose build handed work to a helper process
(before the simpler build, issue #18) reports that process's peak too, as "helper".
"""

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from bench.common import median, setup_django


def run_one(checkout: Path, project_id: int, format_name: str) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    answer = subprocess.run(
        [sys.executable, "-m", "bench.export", "--one", str(project_id), format_name],
        cwd=checkout, env=environment, check=True, capture_output=True, text=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the whole run and of every process it waited for (a helper process too), start-up included.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {**json.loads(answer.stdout.strip().splitlines()[-1]), "cpu_seconds": cpu}


def _rss(runs: list[dict]) -> str:
    own = f"{median(r['peak_rss_mb'] for r in runs):.0f}"
    helper = median(r.get("helper_rss_mb", 0.0) for r in runs)
    return f"{own} ({helper:.0f})" if helper else own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--base", type=Path, action="append", required=True,
        help="a checkout of a commit to compare with; several --base alternate with this checkout in turn",
    )
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["jsonl"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from bench.export import ensure_project

    project = ensure_project(args.articles, args.analysts)
    head = Path.cwd()
    bases = [base.resolve() for base in args.base]
    print("| articles | format | base | base s (runs) | this s (runs) | this / base | base CPU s | this CPU s | base RSS MB (helper) | this RSS MB |")
    print("| ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for format_name in args.formats:
        runs = {base: [] for base in bases}
        this = []
        for _ in range(args.runs):
            for base in bases:
                runs[base].append(run_one(base, project.id, format_name))
            this.append(run_one(head, project.id, format_name))
        t = median(r["seconds"] for r in this)
        for base in bases:
            b = median(r["seconds"] for r in runs[base])
            print(
                f"| {args.articles} | {format_name} | {base.name} | {b:.2f} ({', '.join(f'{r['seconds']:.2f}' for r in runs[base])}) "
                f"| {t:.2f} ({', '.join(f'{r['seconds']:.2f}' for r in this)}) | {t / b:.2f} "
                f"| {median(r['cpu_seconds'] for r in runs[base]):.1f} | {median(r['cpu_seconds'] for r in this):.1f} "
                f"| {_rss(runs[base])} | {_rss(this)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
