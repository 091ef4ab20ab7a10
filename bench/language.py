"""Benchmark 7: language detection of the import, this checkout against another, text by text.

    python -m bench.language --base /work/wt/base-import --generator ../shared/workloads/anchor_gen.py --articles 10000

Texts: the seeds (`fixtures/seeds/`), the mixed Arabic/English articles of `tests/corpus/`
and harder mixtures of them (the minority language first, in longer runs), short texts, the
articles of `fixtures/import/articles.jsonl`, and the anchor workload's articles (English with Arabic
sentences; `bench.anchor` writes them). Each checkout's `corpus.services._detect_language`
runs in a process of its own on the same texts; reported: its milliseconds an article (CPU
time, steadier than the wall clock on a shared machine), what it said for each named text, the
languages it gave the anchor articles, and on how many texts the two checkouts agree.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.common import ROOT


def named_texts() -> dict[str, str]:
    seeds = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))
    texts = {f"seed {path.name}": path.read_text(encoding="utf-8") for path in seeds}
    arabic = (ROOT / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt").read_text(encoding="utf-8")
    english = seeds[0].read_text(encoding="utf-8")
    texts.update({
        # tests/corpus/test_import.py's two mixtures
        "ar 3000 + en 2000": arabic[:3000] + "\n\n" + english[:2000],
        "en 2000 + ar 800": english[:2000] + "\n\n" + arabic[:800],
        # the minority language first, and closer to half
        "en 1500 + ar 3000": english[:1500] + "\n\n" + arabic[:3000],
        "ar 1000 + en 3000": arabic[:1000] + "\n\n" + english[:3000],
        "en 2000 + ar 1500": english[:2000] + "\n\n" + arabic[:1500],
        "short: Lavrov: Tehran": "Lavrov: Tehran",
        "short: one English sentence": "The Russian foreign minister said the Western countries are trying to provoke Russia’s neighbours.",
    })
    for number, line in enumerate((ROOT / "fixtures" / "import" / "articles.jsonl").read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        texts[f"fixtures/import/articles.jsonl line {number}"] = json.loads(line)["text"]
    return texts


def detect_all(checkout: Path, path: str) -> dict:
    sys.path.insert(0, str(checkout))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-" + "x" * 40)
    import django

    django.setup()
    from annotator.corpus.services import _detect_language

    texts = json.loads(Path(path).read_text(encoding="utf-8"))
    _detect_language("warm up: the model is loaded on first use")
    before = time.process_time()
    languages = [_detect_language(text) for text in texts]
    return {"ms": (time.process_time() - before) * 1000 / len(texts), "languages": languages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--generator", type=Path, default=ROOT.parent / "shared" / "workloads" / "anchor_gen.py")
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(detect_all(Path(args.one[0]).resolve(), args.one[1])))
        return
    from bench.anchor import workload

    named = named_texts()
    with workload(args.generator, args.articles).open(encoding="utf-8") as lines:
        anchor = [json.loads(line)["text"] for line in lines]
    path = Path("/tmp/annotator-language-texts.json")
    path.write_text(json.dumps([*named.values(), *anchor], ensure_ascii=False), encoding="utf-8")
    results = {}
    for name, checkout in (("base", args.base.resolve()), ("this", ROOT)):
        answer = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--one", str(checkout), str(path)], cwd=checkout,
            check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(checkout)},
        )
        results[name] = json.loads(answer.stdout.strip().splitlines()[-1])
    base, this = results["base"]["languages"], results["this"]["languages"]
    print(f"ms an article (all {len(base)} texts, CPU): base {results['base']['ms']:.3f}, this {results['this']['ms']:.3f}")
    print("| text | base | this |")
    print("| --- | --- | --- |")
    for n, name in enumerate(named):
        print(f"| {name} | {base[n] or '(none)'} | {this[n] or '(none)'} |")
    k = len(named)
    print(f"anchor articles ({len(anchor)}): base {dict(Counter(base[k:]))}, this {dict(Counter(this[k:]))}")
    print(f"agreement: {sum(a == b for a, b in zip(base, this))} of {len(base)} texts")


if __name__ == "__main__":
    main()
