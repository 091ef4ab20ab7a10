"""Benchmark 1: import N articles from a JSONL file through the import service.

    python -m bench.import_articles --articles 10000 --runs 3

The workload's rows (about 4,000 characters each, English, Arabic and emoji) are written to
files of 2,000 articles once; each run imports them as one batch into a fresh project in its
own process: reading, decoding,
validating, normalising, hashing, language detection and the bulk insert.
"""

import argparse
import json
from pathlib import Path

from bench.common import Timer, median, peak_rss_mb, run_in_fresh_process, setup_django


FILE_ARTICLES = 2000  # about 8 MB a file, under the import's per-file limit


def import_once(paths: list[str]) -> dict:
    from annotator.corpus.services import article_import
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Project
    from annotator.projects.services import project_create

    for old in Project.objects.filter(name="bench-import"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-import")
    files = [(Path(path).name, Path(path).read_bytes()) for path in paths]
    with Timer() as timer:
        report = article_import(project=project, files=files)
    assert not report.errors, report.errors[:3]
    return {"seconds": timer.seconds, "articles": len(report.created), "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.one:
        print(json.dumps(import_once(args.one)))
        return
    from bench.workload import articles

    paths = []
    for number, row in enumerate(articles(args.articles, analysts=0)):
        if number % FILE_ARTICLES == 0:
            paths.append(f"/tmp/annotator-bench-import-{args.articles}-{len(paths)}.jsonl")
            out = open(paths[-1], "w", encoding="utf-8")
        row.pop("annotations")
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.close()
    results = [
        json.loads(run_in_fresh_process(["-m", "bench.import_articles", "--one", *paths])) for _ in range(args.runs)
    ]
    seconds = median(r["seconds"] for r in results)
    print(f"imported {results[0]['articles']} articles: median {seconds:.2f} s "
          f"({results[0]['articles'] / seconds:.0f} articles/s), peak RSS {median(r['peak_rss_mb'] for r in results):.0f} MB, "
          f"runs {args.runs}")


if __name__ == "__main__":
    main()
