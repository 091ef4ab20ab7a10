"""Benchmark 1: import N articles from a JSONL file through the import service.

    python -m bench.import_articles --articles 10000 --runs 3

The workload's rows (about 4,000 characters each, English, Arabic and emoji) are written to a
file once; each run imports it into a fresh project in its own process: reading, decoding,
validating, normalising, hashing, language detection and the bulk insert.
"""

import argparse
import json
from pathlib import Path

from bench.common import Timer, median, peak_rss_mb, run_in_fresh_process, setup_django


def import_once(path: str) -> dict:
    from annotator.corpus.services import article_import
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Project
    from annotator.projects.services import project_create

    for old in Project.objects.filter(name="bench-import"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-import")
    data = Path(path).read_bytes()
    with Timer() as timer:
        report = article_import(project=project, files=[(Path(path).name, data)])
    assert not report.errors, report.errors[:3]
    return {"seconds": timer.seconds, "articles": len(report.created), "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", help=__import__("argparse").SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.one:
        print(json.dumps(import_once(args.one)))
        return
    from bench.workload import articles

    path = f"/tmp/annotator-bench-import-{args.articles}.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for row in articles(args.articles, analysts=0):
            row.pop("annotations")
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    results = [json.loads(run_in_fresh_process(["-m", "bench.import_articles", "--one", path])) for _ in range(args.runs)]
    seconds = median(r["seconds"] for r in results)
    print(f"imported {results[0]['articles']} articles: median {seconds:.2f} s "
          f"({results[0]['articles'] / seconds:.0f} articles/s), peak RSS {median(r['peak_rss_mb'] for r in results):.0f} MB, "
          f"runs {args.runs}")


if __name__ == "__main__":
    main()
