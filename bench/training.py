"""Training the model in the loop (issue #15): time and peak memory for 1,000 and 10,000 training
articles, and per-topic precision, recall and F1 on the held-out fifth at 100, 1,000 and 10,000.

    python -m bench.training [--sizes 100 1000 10000] [--noise 0.1] [--rebuild] [--corpus workload|news]

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

Spans (the span model, `training.spans`): with `--corpus workload` the gold spans are the first
analyst's workload spans, drawn at random over the text (20 an article), which no model can
learn: their scores are a floor, and the time is the real cost of the span part on 4,000-character
articles. With `--corpus news` the articles are `bench.news`'s generated English and Arabic news
items with their gold Quote, Source and Claim spans (no topics or stance: those parts are then
nearly free), which is what the span scores mean something on.

Each size runs in a fresh process (`train_one`), so that its peak RSS (VmHWM) is its own: the
time is `gold_examples` (the database read) plus `learn.train` (vectorise, the learning curve's
fits, the topic and stance models, scores) plus pickling the models, which is what the task does
between claiming its row and turning it ready.
"""

import argparse
import json
import os
import pickle
import random
import sys
import time

from bench.common import peak_rss_mb, run_in_fresh_process, setup_django

PROJECT = "bench-training"
NEWS_PROJECT = "bench-training-news"
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
    from django.db import connection, transaction

    from annotator.labelling.models import Annotation, Span, Stance
    from annotator.projects.models import Project
    from bench.workload import load_into_database

    project = Project.objects.filter(name=PROJECT).first()
    gold = Annotation.objects.filter(article__project=project, kind="gold")
    if project is not None and gold.count() >= total and Span.objects.filter(annotation__in=gold).exists() \
            and not rebuild:
        return  # the articles a larger run built: the smaller sizes train on its first ones
    project = load_into_database(PROJECT, total, analysts=1, seed=1)
    reviewer, _ = get_user_model().objects.get_or_create(username="bench-reviewer")
    analyst_user = get_user_model().objects.get(username="bench-analyst-1")
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
        # The gold spans: the first analyst's (random) ones, copied in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO labelling_span (annotation_id, label_id, start, "end", text, attributes, client_id,
                                              created_at, updated_at)
                   SELECT g.id, s.label_id, s.start, s."end", s.text, '{}', gen_random_uuid(), now(), now()
                   FROM labelling_span s JOIN labelling_annotation a ON a.id = s.annotation_id
                   JOIN labelling_annotation g ON g.article_id = a.article_id AND g.kind = 'gold'
                   JOIN corpus_article r ON r.id = a.article_id
                   WHERE r.project_id = %s AND a.kind = 'analyst' AND a.annotator_id = %s""",
                [project.id, analyst_user.id],
            )


def build_news(total: int, rebuild: bool = False) -> None:
    """A project of `total` generated news items (`bench.news`), each reviewed: a gold annotation
    with the item's spans, no topics or stance."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation, Span
    from annotator.projects.models import Project
    from annotator.projects.services import project_create
    from bench.news import items

    project = Project.objects.filter(name=NEWS_PROJECT).first()
    if project is not None and not rebuild and Annotation.objects.filter(
            article__project=project, kind="gold").count() >= total:
        return
    for old in Project.objects.filter(name=NEWS_PROJECT):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name=NEWS_PROJECT)
    labels = {label.name: label.id for label in project.span_labels.all()}
    reviewer, _ = get_user_model().objects.get_or_create(username="bench-reviewer")
    generated = items(total, seed=1)
    while True:
        chunk = [item for _, item in zip(range(1000), generated)]
        if not chunk:
            break
        with transaction.atomic():
            for item in chunk:
                assert normalise(item["text"]) == item["text"]  # offsets stay the generator's
            created = Article.objects.bulk_create(
                Article(project=project, title=item["title"], text=item["text"], sha256=sha256(item["text"]),
                        language=item["language"]) for item in chunk
            )
            golds = Annotation.objects.bulk_create(
                Annotation(article=article, annotator=reviewer, kind=Annotation.Kind.GOLD,
                           status=Annotation.Status.SUBMITTED) for article in created
            )
            Span.objects.bulk_create(
                Span(annotation=gold, label_id=labels[s["label"]], start=s["start"], end=s["end"], text=s["text"])
                for gold, item in zip(golds, chunk) for s in item["spans"]
            )


def train_one(size: int, project_name: str = PROJECT) -> dict:
    """Train on `size` articles (plus a held-out fifth), in this process; report time, memory, scores."""
    from annotator.projects.models import Project
    from annotator.training import learn
    from annotator.training.services import gold_examples

    # The span part's share of the time, measured around its two steps (sampling and tokenizing,
    # then the fits and scores of its curve).
    span_seconds = [0.0, 0.0]

    def timed(method):
        def wrapper(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                span_seconds[0] += time.perf_counter() - wall
                span_seconds[1] += time.process_time() - cpu
        return wrapper

    learn._SpanPart.__init__ = timed(learn._SpanPart.__init__)
    learn._SpanPart.fit = timed(learn._SpanPart.fit)

    project = Project.objects.get(name=project_name)
    total = round(size / (1 - learn.HELD_OUT))
    started, cpu_started = time.perf_counter(), time.process_time()
    examples = gold_examples(project, limit=total)
    read = time.perf_counter() - started
    trained = learn.train(
        examples, seed=1, topics=dict(project.topics.values_list("id", "name")),
        targets=dict(project.stance_targets.values_list("id", "name")),
        values=dict(project.stance_values.values_list("id", "name")),
        span_labels=dict(project.span_labels.values_list("id", "name")),
    )
    artifact = pickle.dumps(trained.bundle, protocol=pickle.HIGHEST_PROTOCOL)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "size": size, "train": trained.train_count, "test": trained.test_count, "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1), "span_seconds": round(span_seconds[0], 1),
        "span_cpu_seconds": round(span_seconds[1], 1),
        "read_seconds": round(read, 1), "peak_rss_mb": round(peak_rss_mb()), "artifact_mb": round(len(artifact) / 2**20, 1),
        "scores": trained.scores, "curve": trained.curve, "load": os.getloadavg()[0],
    }


def report(result: dict) -> None:
    print(f"\n{result['train']} training articles, {result['test']} held out: {result['seconds']} s "
          f"({result['cpu_seconds']} s CPU; database read {result['read_seconds']} s; span part "
          f"{result['span_seconds']} s, {result['span_cpu_seconds']} s CPU), peak RSS {result['peak_rss_mb']} MB, "
          f"models {result['artifact_mb']} MB, load average {result['load']:.1f}")
    if result["scores"]["topics_micro_f1"] is not None:
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
    sample = result["scores"].get("spans_sample")
    if sample:
        print(f"  spans (exact match), micro F1 {result['scores']['spans_micro_f1']:.3f}; learned from "
              f"{sample['train_articles']} of {sample['of_train']} training articles ({sample['train_tokens']} tokens), "
              f"scored on {sample['test_articles']} of {sample['of_test']} held out ({sample['test_tokens']} tokens)")
        for row in result["scores"]["spans"]:
            print(f"  {row['label']:<28} P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}  "
                  f"(n={row['support']}, {row['unaligned']} not on tokens)")
    print("  curve: " + ", ".join(
        f"{p['size']}: " + " / ".join("-" if p.get(k) is None else f"{p[k]:.3f}" for k in ("f1", "span_f1"))
        for p in result["curve"]) + "  (topics / spans)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--rebuild", action="store_true", help="build the reviewed articles again (e.g. another --noise)")
    parser.add_argument("--corpus", choices=["workload", "news"], default="workload",
                        help="workload: its articles, random spans; news: bench.news items with learnable spans")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    args = parser.parse_args()
    setup_django()
    project = NEWS_PROJECT if args.corpus == "news" else PROJECT
    if args.one:
        print(json.dumps(train_one(args.one, project)))
        return
    from annotator.training.learn import HELD_OUT

    total = round(max(args.sizes) / (1 - HELD_OUT))
    if args.corpus == "news":
        build_news(total, rebuild=args.rebuild)
    else:
        build(total, args.noise, rebuild=args.rebuild)
    for size in args.sizes:
        output = run_in_fresh_process(["-m", "bench.training", "--corpus", args.corpus, "--one", str(size)])
        report(json.loads(output.strip().splitlines()[-1]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
