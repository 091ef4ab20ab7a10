"""The rule suggesters (issue #15) on a labelled held-out corpus: precision and recall per label,
and the actions a simulated analyst needs per article with and without suggestions.

    python -m bench.suggestions [--corpus fixtures/suggestions/heldout.jsonl] [--database] [--repeat 20]

The corpus (`fixtures/suggestions/`, see its README) was written after the rules and never used
to tune them. Its labels follow the conventions the rules aim at: a Quote is the text inside the
quotation marks (a comma before the closing mark left out), a Source the named mention of who
said it at the cue (pronouns are not labelled), a speaker link from each quote to its Source
where the text names the speaker at the quote, and the demo project's topics.

Scores: a proposal is right when its label, start and end are a gold span's ("exact"), or, for
"overlap", when it shares a character with a gold span of its label not matched yet. Links are
right when both ends are exact and the pair is gold. Topics are per article.

The simulated analyst works through the suggestion list and fixes the rest by hand:
- without suggestions: 2 actions a span (drag, label key), 2 a link (open the quote, Link),
  1 a topic (tick), 1 to submit;
- with: 1 to focus the list, then per suggested span 1 when it is exact (A), 3 when a gold span
  of its label overlaps it with other offsets (drag and key over the right text, which decides
  the suggestion as corrected, then 1 to go back to the list), 1 when it is wrong (X); 2 per gold
  span nobody suggested; a gold link whose two spans came from suggestions and which was
  suggested comes with them (0), any other gold link 2; per suggested topic 1 (A or X); 1 per
  gold topic not suggested; 1 to submit.

With --database, the same articles are loaded into a project of the benchmark database
(`annotator_bench` unless DATABASE_URL says otherwise) and `suggestions_compute` (what the
worker's task runs per article) and `suggestions_pending` (the labelling page's one read) are
timed per article.
"""

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from bench.common import setup_django

setup_django()  # the rules read the default topics' keywords from the projects app

from annotator.projects.services import DEFAULT_TOPIC_KEYWORDS  # noqa: E402
from annotator.suggestions import rules  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "suggestions" / "heldout.jsonl"


def load(path: Path) -> list[dict]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        text = item["text"]

        def at(phrase, occurrence=1):
            start = -1
            for _ in range(occurrence):
                start = text.index(phrase, start + 1)
            return (start, start + len(phrase))

        item["gold"] = {
            "Quote": {at(q) for q in item["quotes"]},
            "Source": {at(s["text"], s.get("occurrence", 1)) for s in item["speakers"]},
            "speaker": {(at(s["quote"]), at(s["text"], s.get("occurrence", 1))) for s in item["speakers"] if s["quote"]},
            "topics": set(item["topics"]),
        }
        items.append(item)
    return items


def propose(text: str) -> dict:
    quotes = rules.quotes(text)
    speakers = rules.speakers(text, quotes)
    return {
        "Quote": [(q.start, q.end) for q in quotes],
        "Source": [(s.start, s.end) for s in speakers],
        "speaker": {((s.quote.start, s.quote.end), (s.start, s.end)) for s in speakers if s.quote},
        "topics": {name for name, _, _ in rules.topics(text, DEFAULT_TOPIC_KEYWORDS)},
    }


def overlap_matches(proposed: list, gold: set) -> int:
    free = sorted(gold)
    matched = 0
    for start, end in proposed:
        hit = next((g for g in free if g[0] < end and start < g[1]), None)
        if hit is not None:
            free.remove(hit)
            matched += 1
    return matched


def actions(item: dict, proposed: dict) -> tuple[int, int]:
    gold = item["gold"]
    without = 2 * (len(gold["Quote"]) + len(gold["Source"])) + 2 * len(gold["speaker"]) + len(gold["topics"]) + 1
    with_ = 1 + 1  # focus the list; submit
    made = set()  # gold spans the analyst has after working through the list, by label
    for label in ("Quote", "Source"):
        for start, end in proposed[label]:
            if (start, end) in gold[label]:
                with_ += 1
                made.add((label, start, end))
                continue
            near = next((g for g in sorted(gold[label]) if g[0] < end and start < g[1] and (label, *g) not in made), None)
            if near is not None:
                with_ += 3
                made.add((label, *near))
            else:
                with_ += 1
        with_ += 2 * sum(1 for g in gold[label] if (label, *g) not in made)
    for quote, speaker in gold["speaker"]:
        if not ((quote, speaker) in proposed["speaker"] and ("Quote", *quote) in made and ("Source", *speaker) in made):
            with_ += 2
    with_ += len(proposed["topics"]) + len(gold["topics"] - proposed["topics"])
    return without, with_


def score(items: list[dict]) -> dict:
    counts = {key: Counter() for key in ("Quote", "Source", "speaker", "topics")}
    per_language = {}
    for item in items:
        proposed = propose(item["text"])
        gold = item["gold"]
        for label in ("Quote", "Source"):
            c = counts[label]
            c["proposed"] += len(proposed[label])
            c["gold"] += len(gold[label])
            c["exact"] += len(set(proposed[label]) & gold[label])
            c["overlap"] += overlap_matches(proposed[label], gold[label])
        for key in ("speaker", "topics"):
            c = counts[key]
            c["proposed"] += len(proposed[key])
            c["gold"] += len(gold[key])
            c["exact"] += len(proposed[key] & gold[key])
            c["overlap"] += len(proposed[key] & gold[key])
        without, with_ = actions(item, proposed)
        language = per_language.setdefault(item["language"], Counter())
        language["articles"] += 1
        language["without"] += without
        language["with"] += with_
    return {"labels": counts, "actions": per_language}


def ratio(a, b):
    return a / b if b else float("nan")


def report(result: dict) -> None:
    print("| label | gold | proposed | precision (exact) | recall (exact) | precision (overlap) | recall (overlap) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, c in result["labels"].items():
        print(f"| {label} | {c['gold']} | {c['proposed']} | {ratio(c['exact'], c['proposed']):.2f} | "
              f"{ratio(c['exact'], c['gold']):.2f} | {ratio(c['overlap'], c['proposed']):.2f} | "
              f"{ratio(c['overlap'], c['gold']):.2f} |")
    print()
    print("| language | articles | actions without | actions with | with / without |")
    print("| --- | ---: | ---: | ---: | ---: |")
    total = Counter()
    for language, c in sorted(result["actions"].items()):
        total.update(c)
        print(f"| {language} | {c['articles']} | {c['without'] / c['articles']:.2f} | {c['with'] / c['articles']:.2f} | "
              f"{ratio(c['with'], c['without']):.2f} |")
    print(f"| all | {total['articles']} | {total['without'] / total['articles']:.2f} | "
          f"{total['with'] / total['articles']:.2f} | {ratio(total['with'], total['without']):.2f} |")


def time_rules(items: list[dict], repeat: int) -> None:
    per_article = []
    for item in items:
        started = time.perf_counter()
        for _ in range(repeat):
            propose(item["text"])
        per_article.append((time.perf_counter() - started) / repeat * 1000)
    print(f"\nrules alone, per article ({len(items)} articles, {repeat} runs each): median "
          f"{statistics.median(per_article):.2f} ms, max {max(per_article):.2f} ms")


def time_database(items: list[dict], repeat: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.projects.models import Project
    from annotator.projects.services import project_create
    from annotator.suggestions.services import suggestions_compute, suggestions_pending

    Project.objects.filter(name="Bench: suggestions").delete()
    project = project_create(name="Bench: suggestions")
    articles = []
    for item in items:
        text = normalise(item["text"])
        articles.append(Article.objects.create(project=project, text=text, sha256=sha256(text),
                                               language=item["language"], title=item["id"]))
    first, again, read = [], [], []
    for article in articles:
        started = time.perf_counter()
        suggestions_compute(article=article)
        first.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for _ in range(repeat):
            suggestions_compute(article=article)
        again.append((time.perf_counter() - started) / repeat * 1000)
        started = time.perf_counter()
        for _ in range(repeat):
            suggestions_pending(article=article, annotation=None)
        read.append((time.perf_counter() - started) / repeat * 1000)
    for name, values in (("suggestions_compute, first time", first), ("suggestions_compute, again (rows kept)", again),
                         ("suggestions_pending (the page's read)", read)):
        print(f"{name}: median {statistics.median(values):.2f} ms, max {max(values):.2f} ms per article")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--database", action="store_true", help="also time the services on the benchmark database")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    items = load(args.corpus)
    report(score(items))
    time_rules(items, args.repeat)
    if args.database:
        time_database(items, args.repeat)


if __name__ == "__main__":
    main()
