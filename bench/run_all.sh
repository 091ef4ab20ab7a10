#!/usr/bin/env bash
# Every benchmark of docs/performance.md, one after the other (they must not share the two cores),
# each printing its own figures to bench-results/NAME.txt. Takes about 35 minutes; the 100k
# projects are loaded first if they are missing (a few minutes more each).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=.venv/bin/python
out=bench-results
mkdir -p "$out"
$PY -m bench.export --articles 1000 10000 --formats jsonl-download jsonl csv label-studio parquet conll spacy \
    jsonl+csv+label-studio+parquet+conll+spacy --runs 3 > "$out/export.txt"
$PY -m bench.import_articles --articles 10000 --runs 3 --annotations > "$out/import_annotated.txt"
# The issue's own size, 10k articles × 20 spans: one analyst (the lines above have two).
$PY -m bench.export --articles 1000 10000 --analysts 1 --formats jsonl-download jsonl conll spacy --runs 3 > "$out/export_one_analyst.txt"
$PY -m bench.import_articles --articles 10000 --runs 3 --annotations --analysts 1 > "$out/import_annotated_one_analyst.txt"
$PY -m bench.import_articles --articles 10000 --runs 3 > "$out/import_articles.txt"
$PY -m bench.labelling_page --runs 20 > "$out/labelling_page.txt"
$PY -m bench.huge_document --spans 50000 --runs 5 > "$out/huge_document.txt"
$PY -m bench.selection --runs 20 > "$out/selection.txt"
$PY -m bench.span_load --analysts 50 --seconds 60 --think-ms 2000 > "$out/span_load.txt"
$PY -m bench.span_load --analysts 50 --seconds 60 --think-ms 2000 --article-chars 50000 --spans 500 > "$out/span_load_50k.txt"
$PY -m bench.export --articles 100000 --formats jsonl-download jsonl csv label-studio parquet conll spacy --runs 1 > "$out/export_100k.txt"
$PY -m bench.export --articles 100000 --analysts 1 --formats jsonl-download jsonl --runs 3 > "$out/export_100k_one_analyst.txt"
# Issue #14's analyst's and reviewer's days, in Chromium against gunicorn and a task worker.
$PY -m bench.analyst_day --articles 20 --runs 2 > "$out/analyst_day.txt"
$PY -m bench.reviewer_day --articles 20 --runs 2 > "$out/reviewer_day.txt"
