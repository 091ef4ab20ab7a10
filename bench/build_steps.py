"""Where a snapshot build spends its time: wall and CPU seconds of each step, one build.

    python -m bench.build_steps --articles 10000 --format jsonl

The build reads top to bottom as select, split, write, card, publish (`annotator.datasets.build`);
this times each of those functions in one build of the benchmark project (`bench.export`'s, every
analyst's work), as the export benchmark builds it. CPU is the build thread's own (`thread_time`),
which a busy machine inflates far less than the wall time; the database's work is not in it.
"""

import argparse
import json
import time

from bench.common import setup_django

STEPS = ("_select", "_split", "_write", "_card", "_publish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--format", default="jsonl", help='one format, or several joined by "+"')
    args = parser.parse_args()
    setup_django()
    from annotator.datasets import build
    from bench import formats
    from bench.export import ensure_project

    project = ensure_project(args.articles, args.analysts)
    seconds = {}

    def timed(name, step):
        def run(*arguments, **keywords):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return step(*arguments, **keywords)
            finally:
                seconds[name.strip("_")] = {
                    "wall": round(time.perf_counter() - wall, 2), "cpu": round(time.thread_time() - cpu, 2)
                }

        return run

    for name in STEPS:
        setattr(build, name, timed(name, getattr(build, name)))
    wall, cpu = time.perf_counter(), time.thread_time()
    formats.snapshot(project, args.format)
    seconds["build"] = {"wall": round(time.perf_counter() - wall, 2), "cpu": round(time.thread_time() - cpu, 2)}
    print(json.dumps({"articles": args.articles, "format": args.format, **seconds}))


if __name__ == "__main__":
    main()
