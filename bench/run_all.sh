#!/usr/bin/env bash
# Every benchmark of docs/performance.md, one after the other (they must not share the two cores),
# each printing its own figures to bench-results/NAME.txt. Takes about 30 minutes; the 100k
# project is loaded first if it is missing (a few minutes more).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=.
PY=.venv/bin/python
out=bench-results
mkdir -p "$out"
$PY -m bench.export --articles 1000 10000 --formats jsonl-download jsonl csv label-studio parquet conll spacy \
    jsonl+csv+label-studio+parquet+conll+spacy --runs 3 > "$out/export.txt"
$PY -m bench.import_articles --articles 10000 --runs 3 --annotations > "$out/import_annotated.txt"
$PY -m bench.import_articles --articles 10000 --runs 3 > "$out/import_articles.txt"
$PY -m bench.labelling_page --runs 20 > "$out/labelling_page.txt"
$PY -m bench.selection --runs 20 > "$out/selection.txt"
$PY -m bench.span_load --analysts 50 --seconds 60 --think-ms 2000 > "$out/span_load.txt"
$PY -m bench.span_load --analysts 50 --seconds 60 --think-ms 2000 --article-chars 50000 --spans 500 > "$out/span_load_50k.txt"
$PY -m bench.export --articles 100000 --formats jsonl-download jsonl csv label-studio parquet conll spacy --runs 1 > "$out/export_100k.txt"
