"""Training the model in the loop (issue #15): time and peak memory for 1,000 and 10,000 training
articles, and per-topic precision, recall and F1 on the held-out fifth at 100, 1,000 and 10,000.

    python -m bench.training [--sizes 100 1000 10000] [--noise 0.1] [--rebuild]

The articles are `bench.workload`'s (about 4,000 characters of news-like English with Arabic
paragraphs). The workload's own topics are drawn at random, independent of the text, so nothing
could learn them; here the gold topics follow the text, with noise: an article has a topic when
it names that topic's places more often than 70% of the articles do (Armenia: Yerevan, Baku;
Syria: Damascus, Beirut; Iran nuclear deal: Tehran, "the nuclear deal"; Ukraine: Kyiv), Other
when it has none, and `--noise` of the articles get one topic drawn at random instead. The
workload mentions every place in every kind of article, so this is harder than real news (where
a topic changes the whole vocabulary) and a linear model can only approximate "more often than". The stance stays the
workload's (random): its scores show what chance looks like. Gold annotations (kind gold,
submitted, with their topics and stance: the rows the review services write) are bulk-inserted,
since the review pages' speed is not what is measured; the training reads them with
`gold_examples`, as the worker's task does.

Each size runs in a fresh process (`train_one`), so that its peak RSS (VmHWM) is its own: the
time is `gold_examples` (the database read) plus `learn.train` (vectorise, the learning curve's
fits, the topic and stance models, scores) plus pickling the models, which is what the task does
between claiming its row and turning it ready.
"""

import argparse
import json
import pickle
import random
import sys
import time

from bench.common import peak_rss_mb, run_in_fresh_process, setup_django

PROJECT = "bench-training"
PLACES = {
    "Armenia": ["Yerevan", "Baku"],
    "Syria": ["Damascus", "Beirut"],
    "Iran nuclear deal (JCPOA)": ["Tehran", "the nuclear deal"],
    "Ukraine": ["Kyiv"],
}


def counts(text: str) -> dict[str, int]:
    return {topic: sum(text.count(place) for place in places) for topic, places in PLACES.items()}


def gold_topics(texts: list[str], rng: random.Random, noise: float, names: list[str]) -> list[list[str]]:
    every = [counts(text) for text in texts]
    limits = {topic: sorted(c[topic] for c in every)[int(0.7 * len(every))] for topic in PLACES}
    gold = []
    for c in every:
        if rng.random() < noise:
            gold.append([rng.choice(names)])
        else:
            gold.append([t for t in PLACES if c[t] > limits[t]] or ["Other"])
    return gold


def build(total: int, noise: float, rebuild: bool = False) -> None:
    """A project of `total` workload articles, each reviewed (a gold annotation with its topic)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotator.labelling.models import Annotation, Stance
    from annotator.projects.models import Project
    from bench.workload import load_into_database

    project = Project.objects.filter(name=PROJECT).first()
    if project is not None and Annotation.objects.filter(article__project=project, kind="gold").count() >= total \
            and not rebuild:
        return  # the articles a larger run built: the smaller sizes train on its first ones
    project = load_into_database(PROJECT, total, analysts=1, seed=1)
    reviewer, _ = get_user_model().objects.get_or_create(username="bench-reviewer")
    topics = {t.name: t.id for t in project.topics.all()}
    rng = random.Random(11)
    TopicLink = Annotation.topics.through
    articles = list(project.articles.order_by("id").values_list("id", "text"))
    analyst = {a: (t, v) for a, t, v in Stance.objects.filter(annotation__article__project=project)
               .values_list("annotation__article_id", "target_id", "value_id")}
    with transaction.atomic():
        golds = Annotation.objects.bulk_create(
            Annotation(article_id=article_id, annotator=reviewer, kind=Annotation.Kind.GOLD,
                       status=Annotation.Status.SUBMITTED) for article_id, _ in articles
        )
        chosen = gold_topics([text for _, text in articles], rng, noise, list(topics))
        TopicLink.objects.bulk_create(
            TopicLink(annotation_id=gold.id, topic_id=topics[name])
            for gold, names in zip(golds, chosen) for name in names
        )
        Stance.objects.bulk_create(
            Stance(annotation_id=gold.id, target_id=analyst[a][0], value_id=analyst[a][1])
            for gold, (a, _) in zip(golds, articles) if a in analyst
        )


def train_one(size: int) -> dict:
    """Train on `size` articles (plus a held-out fifth), in this process; report time, memory, scores."""
    from annotator.projects.models import Project
    from annotator.training import learn
    from annotator.training.services import gold_examples

    project = Project.objects.get(name=PROJECT)
    total = round(size / (1 - learn.HELD_OUT))
    started = time.perf_counter()
    examples = gold_examples(project, limit=total)
    read = time.perf_counter() - started
    trained = learn.train(
        examples, seed=1, topics=dict(project.topics.values_list("id", "name")),
        targets=dict(project.stance_targets.values_list("id", "name")),
        values=dict(project.stance_values.values_list("id", "name")),
    )
    artifact = pickle.dumps(trained.bundle, protocol=pickle.HIGHEST_PROTOCOL)
    seconds = time.perf_counter() - started
    return {
        "size": size, "train": trained.train_count, "test": trained.test_count, "seconds": round(seconds, 1),
        "read_seconds": round(read, 1), "peak_rss_mb": round(peak_rss_mb()), "artifact_mb": round(len(artifact) / 2**20, 1),
        "scores": trained.scores, "curve": trained.curve,
    }


def report(result: dict) -> None:
    print(f"\n{result['train']} training articles, {result['test']} held out: {result['seconds']} s "
          f"(database read {result['read_seconds']} s), peak RSS {result['peak_rss_mb']} MB, "
          f"models {result['artifact_mb']} MB")
    print(f"  topics, micro F1 {result['scores']['topics_micro_f1']:.3f}")
    for row in result["scores"]["topics"]:
        if row["trained"]:
            print(f"  {row['label']:<28} P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}  "
                  f"(n={row['support']})")
    for target in result["scores"]["stance"]:
        if target["labels"]:
            f1 = sum(r["f1"] for r in target["labels"]) / len(target["labels"])
            print(f"  stance toward {target['target']}: macro F1 {f1:.3f} over {len(target['labels'])} values "
                  f"({target['test']} held out)")
    print("  curve: " + ", ".join(f"{p['size']}: {p['f1']:.3f}" for p in result["curve"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--rebuild", action="store_true", help="build the reviewed articles again (e.g. another --noise)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    args = parser.parse_args()
    setup_django()
    if args.one:
        print(json.dumps(train_one(args.one)))
        return
    from annotator.training.learn import HELD_OUT

    build(round(max(args.sizes) / (1 - HELD_OUT)), args.noise, rebuild=args.rebuild)
    for size in args.sizes:
        output = run_in_fresh_process(["-m", "bench.training", "--one", str(size)])
        report(json.loads(output.strip().splitlines()[-1]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
