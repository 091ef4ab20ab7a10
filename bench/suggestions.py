"""The rule suggesters (issue #15) on a labelled held-out corpus: precision and recall per label,
and the actions a simulated analyst needs per article with and without suggestions.

    python -m bench.suggestions [--corpus fixtures/suggestions/heldout.jsonl] [--database] [--repeat 20]
                                [--long 10 50 200]

The corpus (`fixtures/suggestions/`, see its README) was written after the rules and never used
to tune them. Its labels follow the conventions the rules aim at: a Quote is the text inside the
quotation marks (a comma before the closing mark left out), a Source the named mention of who
said it at the cue (pronouns are not labelled), a speaker link from each quote to its Source
where the text names the speaker at the quote, and the demo project's topics.

Scores: a proposal is right when its label, start and end are a gold span's ("exact"), or, for
"overlap", when it shares a character with a gold span of its label not matched yet. Links are
right when both ends are exact and the pair is gold. Topics are per article.

Actions per article, counted three ways:
- without suggestions: 2 actions a span (drag, label key), 2 a link (open the quote, Link),
  1 a topic (tick), 1 to submit;
- one by one: 1 to focus the list, then per suggested span 1 when it is exact (A), 3 when a gold
  span of its label overlaps it with other offsets (drag and key over the right text, which
  decides the suggestion as corrected, then 1 to go back to the list), 1 when it is wrong (X); 2
  per gold span nobody suggested; a gold link whose two spans came from suggestions and which was
  suggested comes with them (0), any other gold link 2; per suggested topic 1 (A or X); 1 per gold
  topic not suggested; 1 to submit;
- accept all, then fix: 1 (Y accepts every suggestion on the article), then 2 to delete each
  wrong span (click it, Delete), 4 for one with wrong offsets (delete, drag and key), 2 per gold
  span not suggested, 2 to remove a suggested link between two kept spans that is not gold, 2
  per gold link not made, 1 per wrong topic (untick) and per gold topic not suggested, 1 to submit.
The simulated analyst does what a real one would: on an article where more than half of the
suggestions (spans and topics) are right, accept all and fix; otherwise one by one; with no
suggestion at all, as without.

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
        "speaker": {((q.start, q.end), (s.start, s.end)) for s in speakers for q in s.quotes},
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


def actions(item: dict, proposed: dict) -> dict[str, int]:
    """Actions for the article: without suggestions, one by one, accept all then fix, and what the
    simulated analyst does (accept all when most of the suggestions are right, else one by one)."""
    gold = item["gold"]
    without = 2 * (len(gold["Quote"]) + len(gold["Source"])) + 2 * len(gold["speaker"]) + len(gold["topics"]) + 1
    one_by_one = 1 + 1  # focus the list; submit
    made = set()  # gold spans the analyst has after working through the list, by label
    for label in ("Quote", "Source"):
        for start, end in proposed[label]:
            if (start, end) in gold[label]:
                one_by_one += 1
                made.add((label, start, end))
                continue
            near = next((g for g in sorted(gold[label]) if g[0] < end and start < g[1] and (label, *g) not in made), None)
            if near is not None:
                one_by_one += 3
                made.add((label, *near))
            else:
                one_by_one += 1
        one_by_one += 2 * sum(1 for g in gold[label] if (label, *g) not in made)
    for quote, speaker in gold["speaker"]:
        if not ((quote, speaker) in proposed["speaker"] and ("Quote", *quote) in made and ("Source", *speaker) in made):
            one_by_one += 2
    one_by_one += len(proposed["topics"]) + len(gold["topics"] - proposed["topics"])

    # Accept all (Y, from anywhere on the page), then fix what is wrong: every suggested span is
    # now the analyst's, so a wrong one is deleted (click it, Delete: 2), one with wrong offsets
    # deleted and drawn again (4); a suggested link between two kept spans that is not gold is
    # removed (2); a wrong topic unticked (1).
    accept_all = 1 + 1  # Y; submit
    kept = set()  # suggested spans that stay, by label
    for label in ("Quote", "Source"):
        fixed = set()
        for start, end in proposed[label]:
            if (start, end) in gold[label]:
                kept.add((label, start, end))
                fixed.add((start, end))
                continue
            near = next((g for g in sorted(gold[label]) if g[0] < end and start < g[1] and g not in fixed), None)
            accept_all += 4 if near is not None else 2
            if near is not None:
                fixed.add(near)
        accept_all += 2 * len(gold[label] - fixed)
    for quote, speaker in proposed["speaker"]:
        if ("Quote", *quote) in kept and ("Source", *speaker) in kept and (quote, speaker) not in gold["speaker"]:
            accept_all += 2
    for quote, speaker in gold["speaker"]:
        if not ((quote, speaker) in proposed["speaker"] and ("Quote", *quote) in kept and ("Source", *speaker) in kept):
            accept_all += 2
    accept_all += len(proposed["topics"] - gold["topics"]) + len(gold["topics"] - proposed["topics"])

    suggested = len(proposed["Quote"]) + len(proposed["Source"]) + len(proposed["topics"])
    right = (len(set(proposed["Quote"]) & gold["Quote"]) + len(set(proposed["Source"]) & gold["Source"])
             + len(proposed["topics"] & gold["topics"]))
    analyst = accept_all if suggested and right > suggested / 2 else one_by_one
    if not suggested:
        analyst = without  # nothing to decide: the page is the same as without suggestions
    return {"without": without, "one_by_one": one_by_one, "accept_all": accept_all, "analyst": analyst}


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
        language = per_language.setdefault(item["language"], Counter())
        language["articles"] += 1
        language.update(actions(item, proposed))
    return {"labels": counts, "actions": per_language}


def misses(items: list[dict]) -> None:
    """What the rules got wrong, item by item (for the corpus the rules may be tuned on: not a held-out one)."""
    for item in items:
        text, gold, proposed = item["text"], item["gold"], propose(item["text"])
        lines = []
        for label in ("Quote", "Source"):
            for start, end in sorted(gold[label] - set(proposed[label])):
                lines.append(f"  missed {label}: {text[start:end]!r}")
            for start, end in sorted(set(proposed[label]) - gold[label]):
                lines.append(f"  wrong {label}: {text[start:end]!r}")
        for quote, speaker in sorted(gold["speaker"] - proposed["speaker"]):
            lines.append(f"  missed link: {text[slice(*quote)][:30]!r} -> {text[slice(*speaker)]!r}")
        for quote, speaker in sorted(proposed["speaker"] - gold["speaker"]):
            lines.append(f"  wrong link: {text[slice(*quote)][:30]!r} -> {text[slice(*speaker)]!r}")
        for topic in sorted(gold["topics"] ^ proposed["topics"]):
            lines.append(f"  {'missed' if topic in gold['topics'] else 'wrong'} topic: {topic}")
        if lines:
            print(item["id"], *lines, sep="\n")


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
    print("| language | articles | actions without | one by one | accept all, then fix | the analyst | analyst / without |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    total = Counter()
    rows = sorted(result["actions"].items())
    for language, c in rows:
        total.update(c)
    for language, c in [*rows, ("all", total)]:
        n = c["articles"]
        print(f"| {language} | {n} | {c['without'] / n:.2f} | {c['one_by_one'] / n:.2f} | {c['accept_all'] / n:.2f} | "
              f"{c['analyst'] / n:.2f} | {ratio(c['analyst'], c['without']):.2f} |")


def time_rules(items: list[dict], repeat: int) -> None:
    per_article = []
    for item in items:
        started = time.perf_counter()
        for _ in range(repeat):
            propose(item["text"])
        per_article.append((time.perf_counter() - started) / repeat * 1000)
    print(f"\nrules alone, per article ({len(items)} articles, {repeat} runs each): median "
          f"{statistics.median(per_article):.2f} ms, max {max(per_article):.2f} ms")


def time_long(items: list[dict], copies: list[int]) -> None:
    """The rules on one long article: the corpus's texts, one a paragraph, `copies` times over (a
    time that grows faster than the text would show here)."""
    for n in copies:
        text = "\n".join(item["text"] for item in items * n)
        started = time.perf_counter()
        propose(text)
        print(f"rules on one article of {len(text):,} characters ({n} copies of the corpus): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")


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
    parser.add_argument("--misses", action="store_true", help="list what the rules got wrong, item by item")
    parser.add_argument("--long", type=int, nargs="*", default=[], metavar="COPIES",
                        help="also time the rules on one article made of the corpus's texts COPIES times over")
    args = parser.parse_args()
    items = load(args.corpus)
    if args.misses:
        misses(items)
        return
    report(score(items))
    time_rules(items, args.repeat)
    time_long(items, args.long)
    if args.database:
        time_database(items, args.repeat)


if __name__ == "__main__":
    main()
