"""Before/after: the same export benchmark for two checkouts, their runs alternating.

    python -m bench.ab --base ../base --articles 10000 --formats jsonl conll spacy parquet --runs 3

Machines here vary by 2× from session to session and a busy minute skews one run: a change is
judged against the code before it measured in the same session, one run of each in turn
(base, this checkout, base, …). `--base` is a checkout of the older commit (e.g. `git worktree
add --detach ../base COMMIT`); both use this checkout's virtualenv and the same benchmark
project (loaded and migrated by this checkout), each run a fresh process (`bench.export --one`).
Peak RSS is the build's process's; a checkout whose build handed work to a helper process
(before the simpler build, issue #18) reports that process's peak too, as "helper".
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import median, setup_django


def run_one(checkout: Path, project_id: int, format_name: str) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    answer = subprocess.run(
        [sys.executable, "-m", "bench.export", "--one", str(project_id), format_name],
        cwd=checkout, env=environment, check=True, capture_output=True, text=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _rss(runs: list[dict]) -> str:
    own = f"{median(r['peak_rss_mb'] for r in runs):.0f}"
    helper = median(r.get("helper_rss_mb", 0.0) for r in runs)
    return f"{own} ({helper:.0f})" if helper else own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="a checkout of the commit to compare with")
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["jsonl"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from bench.export import ensure_project

    project = ensure_project(args.articles, args.analysts)
    head = Path.cwd()
    print(f"| articles | format | base s (runs) | this s (runs) | this / base | base RSS MB (helper) | this RSS MB (helper) |")
    print("| ---: | --- | --- | --- | ---: | ---: | ---: |")
    for format_name in args.formats:
        base, this = [], []
        for _ in range(args.runs):
            base.append(run_one(args.base.resolve(), project.id, format_name))
            this.append(run_one(head, project.id, format_name))
        b, t = median(r["seconds"] for r in base), median(r["seconds"] for r in this)
        print(
            f"| {args.articles} | {format_name} | {b:.2f} ({', '.join(f'{r['seconds']:.2f}' for r in base)}) "
            f"| {t:.2f} ({', '.join(f'{r['seconds']:.2f}' for r in this)}) | {t / b:.2f} "
            f"| {_rss(base)} | {_rss(this)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
