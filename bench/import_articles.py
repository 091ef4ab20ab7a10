"""Benchmark 1: import N articles from JSONL files, with or without their annotations.

    python -m bench.import_articles --articles 10000 --runs 3
    python -m bench.import_articles --articles 10000 --runs 3 --annotations [--analysts 1]

The workload's rows (about 4,000 characters each, English, Arabic and emoji) are written to
files of 2,000 articles once; each run imports them as one batch into a fresh project in its
own process.

Without `--annotations`: articles only, through `corpus.services.article_import` (reading,
decoding, validating, normalising, hashing, language detection and the bulk insert).

With `--annotations`: each row also carries each analyst's annotation (two analysts unless
`--analysts` says otherwise; 20 spans each, topics, stance) in the JSONL snapshot format, and
the files go through `manage.py import_annotations PROJECT FILE... --format jsonl`, all or
nothing: parsing, every check (members, schema names, offsets against the normalised text), the
articles through `article_import_objects`, then annotations, spans, topics, stances and one
`Change` an annotation. The issue's target is 10k articles × 20 spans: `--analysts 1`.
"""

import argparse
import json
from pathlib import Path

from bench.common import Timer, median, peak_rss_mb, run_in_fresh_process, setup_django

FILE_ARTICLES = 2000  # articles only: about 8 MB a file, under the article import's per-file limit
PROJECT = "bench-import"


def remove_projects(name: str = PROJECT) -> None:
    """Delete the last run's project (in a process of its own: the cascade holds every span in memory)."""
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Project

    for old in Project.objects.filter(name=name):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()


def fresh_project(analysts: int):
    """The benchmark's project, new, with the workload's analysts as members."""
    from django.contrib.auth import get_user_model

    from annotator.projects.models import Membership
    from annotator.projects.services import project_create

    project = project_create(name=PROJECT)
    for n in range(analysts):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-analyst-{n + 1}")
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return project


def import_once(paths: list[str], annotations: bool, analysts: int = 2) -> dict:
    from annotator.corpus.services import article_import
    from annotator.labelling.models import Annotation, Change, Span

    project = fresh_project(analysts=analysts if annotations else 0)
    if annotations:
        from io import StringIO

        from django.core.management import call_command

        with Timer() as timer:
            call_command("import_annotations", str(project.id), *paths, "--format", "jsonl", stdout=StringIO())
        imported = Annotation.objects.filter(article__project=project)
        return {
            "seconds": timer.seconds,
            "articles": project.articles.count(),
            "annotations": imported.count(),
            "spans": Span.objects.filter(annotation__article__project=project).count(),
            "changes": Change.objects.filter(annotation__article__project=project).count(),
            "peak_rss_mb": peak_rss_mb(),
        }
    files = [(Path(path).name, Path(path).read_bytes()) for path in paths]
    with Timer() as timer:
        report = article_import(project=project, files=files)
    assert not report.errors, report.errors[:3]
    return {"seconds": timer.seconds, "articles": len(report.created), "peak_rss_mb": peak_rss_mb()}


def write_files(n: int, annotations: bool, analysts: int = 2, per_file: int = FILE_ARTICLES) -> list[str]:
    """The workload as import files (`per_file` articles each): articles only, or JSONL snapshot
    records with annotations."""
    from bench.workload import articles

    paths, out = [], None
    kind = f"annotated-{analysts}" if annotations else "articles"
    for number, row in enumerate(articles(n, analysts=analysts if annotations else 0)):
        if number % per_file == 0:
            if out:
                out.close()
            paths.append(f"/tmp/annotator-bench-import-{kind}-{n}-{per_file}-{len(paths)}.jsonl")
            out = open(paths[-1], "w", encoding="utf-8")
        if annotations:
            # As a JSONL snapshot writes them (annotator.datasets.records), relations aside.
            for annotation in row["annotations"]:
                annotation.update(kind="analyst", status="submitted", relations=[])
                for span_id, span in enumerate(annotation["spans"], start=1):
                    span.update(id=span_id, attributes={})
        else:
            row.pop("annotations")
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--annotations", action="store_true", help="import the analysts' annotations too")
    parser.add_argument("--analysts", type=int, default=2, help="analysts annotating each article (with --annotations)")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--remove", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django()
    if args.remove:
        remove_projects()
        return
    if args.one:
        print(json.dumps(import_once(args.one, args.annotations, args.analysts)))
        return
    paths = write_files(args.articles, args.annotations, args.analysts)
    flag = ["--annotations", "--analysts", str(args.analysts)] if args.annotations else []
    results = []
    for _ in range(args.runs):
        run_in_fresh_process(["-m", "bench.import_articles", "--remove"])
        results.append(json.loads(run_in_fresh_process(["-m", "bench.import_articles", *flag, "--one", *paths])))
        print(json.dumps(results[-1]), flush=True)
    run_in_fresh_process(["-m", "bench.import_articles", "--remove"])
    seconds = median(r["seconds"] for r in results)
    first = results[0]
    what = f"{first['articles']} articles"
    if args.annotations:
        what += f" with {first['annotations']} annotations, {first['spans']} spans ({first['changes']} changes)"
    print(f"imported {what}: median {seconds:.2f} s ({first['articles'] / seconds:.0f} articles/s), "
          f"peak RSS {median(r['peak_rss_mb'] for r in results):.0f} MB, runs {args.runs}")


if __name__ == "__main__":
    main()
