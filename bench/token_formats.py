"""CPU seconds of the token formats' writers (spaCy, CoNLL, Parquet), per format and per step.

    python -m bench.token_formats --articles 1000 --runs 5
    python -m bench.token_formats --articles 1000 --runs 5 --code /work/wt/base   # an older checkout's writers

The records are the workload's (`bench.workload`: about 4,000 characters, 20 spans an article
for each of two analysts), shaped as `records` makes them (ids, times, review) and handed to the
writers as a snapshot build hands them: decoded from their JSONL line, one record at a time to
every writer of the snapshot in turn (`build._write`). No database: only the writers are timed.
"all" is the three written together, as a snapshot with every format does (they share each
article's tokens and layers).

Each run writes into a fresh temporary folder; before the runs, one untimed pass warms spaCy's
tokenizer cache as a worker's earlier builds would have (`--cold`: a new tokenizer each run, as
in a fresh process, which `bench.ab`'s builds are). Times are CPU seconds of this process
(`time.process_time`, the spaCy writer's compressing thread included), best of `--runs`: the
machine is shared, and CPU time is what a busy neighbour inflates least. A step's time is the
CPU time of its calls (`time.thread_time`) inside the run, callees included (the spaCy
tokenizer's time is inside `Tokens`'); a step a checkout does not have is left out. The spaCy
writer compresses its files on a thread of its own: that CPU is in the format's total, not in
any step.
`--code` puts an older checkout's `annotator` first on the path, so the same records and steps
time its writers: run it and this checkout in turn for a before/after.
"""

import argparse
import functools
import importlib
import os
import tempfile
import time
from pathlib import Path

from bench.common import setup_code

FORMATS = ("conll", "parquet", "spacy")
MODULES = {"conll": "conll", "parquet": "parquet", "spacy": "spacy_docbin"}
# (name shown, module under annotator.datasets.formats, attribute path): the steps timed when present.
STEPS = [
    ("spaCy tokenizer", "tokens", "_tokenize"),
    ("Tokens", "tokens", "Tokens.__init__"),
    ("clitic split", "tokens", "Tokens.split_at"),
    ("record_tokens", "tokens", "record_tokens"),
    ("conll.Words", "conll", "Words.__init__"),
    ("all-O document", "conll", "_Article.__init__"),
    ("layered", "conll", "layered"),
    ("  align", "tokens", "Tokens.align"),
    ("  layers", "conll", "layers"),  # before this session's change
    ("  placed", "tokens", "placed"),  # after it (spaCy's calls too)
    ("  word_codes", "conll", "word_codes"),
    ("conll tagged", "conll", "_Article.tagged"),
    ("conll write", "conll", "Writer.add"),
    ("parquet row", "parquet", "row"),  # before the tenth session's change
    ("parquet row", "parquet", "_Rows.add"),  # after it
    ("parquet add", "parquet", "Writer.add"),
    ("parquet flush", "parquet", "Writer._flush"),
    ("spacy article arrays", "spacy_docbin", "Writer._article_arrays"),
    ("spacy add", "spacy_docbin", "Writer.add"),
]


def records(articles: int) -> list[bytes]:
    """The workload's articles as `records` gives them, each as its JSONL line (`jsonl.line`)."""
    from annotator.corpus.text import normalise, sha256
    from annotator.datasets.formats import jsonl
    from bench.workload import articles as workload

    lines, ids = [], iter(range(1, 10**9))
    for number, article in enumerate(workload(articles)):
        text = normalise(article["text"])
        annotations = []
        for analyst in article["annotations"]:
            spans = [
                {"id": next(ids), **span, "attributes": {}, "created": "2026-12-01T10:00:00Z",
                 "updated": "2026-12-01T10:00:00Z", "review": None}
                for span in analyst["spans"]
            ]
            spans.sort(key=lambda s: (s["start"], -s["end"], s["id"]))
            annotations.append({
                "id": next(ids), "annotator": analyst["annotator"], "kind": "analyst", "status": "submitted",
                "created": "2026-12-01T09:00:00Z", "updated": "2026-12-01T11:00:00Z", "spans": spans, "relations": [],
                "topics": analyst["topics"], "stance": analyst["stance"],
            })
        record = {
            "id": number + 1, "title": article["title"], "text": text, "sha256": sha256(text), "source": article["source"],
            "url": article["url"], "published": article["published"], "language": article["language"], "metadata": {},
            "annotations": annotations,
        }
        lines.append(jsonl.line(record))
    return lines


def schema() -> dict:
    from bench.workload import LABELS, STANCE_TARGETS, STANCE_VALUES, TOPICS

    return {
        "labels": [{"name": name, "colour": "#000000", "attributes": []} for name in LABELS],
        "relation_types": [], "topics": TOPICS, "stance_values": STANCE_VALUES, "stance_targets": STANCE_TARGETS,
    }


class Steps:
    """CPU seconds spent in each step's calls (a call inside another of the same step counts once)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.present: list[str] = []
        for name, module_name, path in STEPS:
            module = importlib.import_module(f"annotator.datasets.formats.{module_name}")
            owner, _, attribute = path.rpartition(".")
            target = getattr(module, owner, None) if owner else module
            if target is None or not hasattr(target, attribute):
                continue
            original = getattr(target, attribute)
            timed = self._timed(name, original)
            setattr(target, attribute, timed)
            if not owner:  # a function other modules imported by name (`from .tokens import record_tokens`)
                for other in [*MODULES.values(), "tokens"]:
                    other = importlib.import_module(f"annotator.datasets.formats.{other}")
                    if getattr(other, attribute, None) is original:
                        setattr(other, attribute, timed)
            self.present.append(name)

    def _timed(self, name, function):
        depth = [0]

        @functools.wraps(function)
        def timed(*arguments, **keywords):
            if depth[0]:
                return function(*arguments, **keywords)
            depth[0] += 1
            start = time.thread_time()
            try:
                return function(*arguments, **keywords)
            finally:
                depth[0] -= 1
                self.seconds[name] = self.seconds.get(name, 0.0) + time.thread_time() - start

        return timed


def forget(cold: bool) -> None:
    """Each run tokenizes every article again (the writers' caches hold the last one only); a
    cold run starts with a new tokenizer, as the first build of a fresh worker process does."""
    from annotator.datasets.formats import tokens

    for name in ("_last", "_last_split", "_last_record"):
        if hasattr(tokens, name):
            setattr(tokens, name, None)
    if cold:
        tokens.blank.cache_clear()
        tokens._seen.cache_clear()


def write(lines: list[bytes], formats: list[str], steps: Steps | None, cold: bool = False) -> float:
    """CPU seconds to write the records in `formats` (decoding them is not timed)."""
    import orjson

    from annotator.datasets.formats import Output, make_writer

    split_names = ("train", "train", "train", "train", "train", "train", "train", "train", "validation", "test")
    decoded = [orjson.loads(line) for line in lines]
    forget(cold)
    if steps is not None:
        steps.seconds.clear()
    with tempfile.TemporaryDirectory(prefix="bench-token-formats-") as directory:
        start = time.process_time()
        output = Output(Path(directory))
        writers = [make_writer(name, output, schema()) for name in formats]
        for number, record in enumerate(decoded):
            split = split_names[number % len(split_names)]
            for writer in writers:
                writer.add(record, split)
        for writer in writers:
            writer.close()
        output.close()
        return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", nargs="+", default=[*FORMATS, "all"], choices=[*FORMATS, "all"])
    parser.add_argument("--cold", action="store_true", help="a new tokenizer (empty cache) for each run")
    parser.add_argument("--code", type=Path, help="a checkout whose annotator package to time (default: this one)")
    args = parser.parse_args()
    setup_code(args.code)
    import annotator

    lines = records(args.articles)
    write(lines, list(FORMATS), None)  # warms the tokenizer's cache, untimed
    steps = Steps()
    print(f"code: {Path(annotator.__file__).parent.parent}; {args.articles} articles, "
          f"{sum(line.count(b'"annotator"') for line in lines)} annotations; CPU s, best of {args.runs}"
          f"{'; cold tokenizer' if args.cold else ''}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for name in args.formats:
        formats = list(FORMATS) if name == "all" else [name]
        best, best_steps, runs = None, {}, []
        for _ in range(args.runs):
            seconds = write(lines, formats, steps, args.cold)
            runs.append(seconds)
            if best is None or seconds < best:
                best, best_steps = seconds, dict(steps.seconds)
        detail = ", ".join(f"{step.strip()} {best_steps[step]:.3f}" for step in steps.present if step in best_steps)
        print(f"{name}: {best:.3f} s (runs {', '.join(f'{r:.3f}' for r in runs)})", flush=True)
        print(f"  steps of the best run: {detail}", flush=True)
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
