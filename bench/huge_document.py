"""Benchmark 6: the labelling and review pages of a 50 KB article with 50,000 spans (issue #17).

    python -m bench.huge_document --spans 50000 --runs 5

One 50 KB article. For the labelling page, one analyst has `--spans` spans on it (the workload's
spans: 8–120 characters on word boundaries, so they nest and overlap about 70 deep). For the review
page, two analysts have submitted `--spans` spans each (the second shares half of the first's and
has the rest of its own) and gold holds a tenth of the first's. Everything is written with
`annotator.bulk` (COPY). Each page is fetched through the Django test client in this process
(DEBUG off, PostgreSQL): server time, this process's CPU time, HTML bytes and query count; and, on the labelling page, span
saves the same way: htmx creates of new spans (as the page sends them), then an edit of each
one's label, then its deletion. Saves under load: `bench.span_load --spans 50000`.
"""

import argparse
import time

from bench.common import Timer, median, percentile, setup_django


def build(span_count: int):
    import random

    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotator import bulk
    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation, Span
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create
    from bench.workload import article_text, spans_for

    for old in Project.objects.filter(name="bench-huge"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-huge")
    User = get_user_model()
    people = {}
    for name, role in (("analyst-1", "analyst"), ("analyst-2", "analyst"), ("reviewer", "reviewer")):
        people[name], _ = User.objects.get_or_create(username=f"bench-huge-{name}")
        Membership.objects.create(project=project, user=people[name], role=role)
    rng = random.Random(17)
    text = normalise("\n".join(article_text(rng, i) for i in range(14)))[:50_000]
    article = Article.objects.create(project=project, title="50 KB, many spans", text=text, sha256=sha256(text),
                                     language="en")
    labels = list(project.span_labels.all())
    first = spans_for(rng, text, span_count)
    second = first[: span_count // 2] + spans_for(rng, text, span_count - span_count // 2)
    gold = first[:: 10]
    submitted = Annotation.Status.SUBMITTED
    for who, kind, status, spans in (
        ("analyst-1", Annotation.Kind.ANALYST, submitted, first),
        ("analyst-2", Annotation.Kind.ANALYST, submitted, second),
        ("reviewer", Annotation.Kind.GOLD, Annotation.Status.IN_PROGRESS, gold),
    ):
        annotation = Annotation.objects.create(article=article, annotator=people[who], kind=kind, status=status)
        bulk.create([
            Span(annotation=annotation, label=labels[(s["start"] + s["end"]) % len(labels)], start=s["start"],
                 end=s["end"], text=s["text"])
            for s in spans
        ])
    with connection.cursor() as cursor:
        # What autovacuum does to a table soon after a big load: counts and range reads then use the
        # index alone instead of visiting every row.
        cursor.execute("VACUUM ANALYZE labelling_span")
    return project, article, people


def measure(client, url, runs, method="get", data=None, status=200):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpu = [], []
    for run in range(runs):
        body = data(run) if callable(data) else data
        target = url(run) if callable(url) else url
        cpu_start = time.process_time()
        with CaptureQueriesContext(connection) as queries, Timer() as timer:
            if method == "get":
                response = client.get(target)
            else:
                response = client.post(target, body, headers={"HX-Request": "true"})
        cpu.append((time.process_time() - cpu_start) * 1000)
        assert response.status_code == status, (url, response.status_code, response.content[:300])
        times.append(timer.seconds * 1000)
    # The CPU time is this process's alone (not PostgreSQL's): on a shared machine it moves far
    # less with the load than the time does.
    return {"median_ms": round(median(times), 1), "p95_ms": round(percentile(times, 95), 1),
            "cpu_median_ms": round(median(cpu), 1), "kb": round(len(response.content) / 1000, 1),
            "queries": len(queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-review", action="store_true", help="only the labelling page and a save")
    parser.add_argument("--reuse", action="store_true", help="measure the article the last run built (saves included)")
    args = parser.parse_args()
    setup_django()
    import re
    import uuid

    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the pages link hashed files
    from django.test import Client
    from django.urls import reverse

    from annotator.labelling.models import Span

    if args.reuse:
        from django.contrib.auth import get_user_model

        from annotator.projects.models import Project

        project = Project.objects.filter(name="bench-huge").latest("id")
        article = project.articles.get()
        people = {name: get_user_model().objects.get(username=f"bench-huge-{name}")
                  for name in ("analyst-1", "analyst-2", "reviewer")}
        print(f"article: {len(article.text)} characters; reused")
    else:
        with Timer() as built:
            project, article, people = build(args.spans)
        print(f"article: {len(article.text)} characters; {args.spans} spans per analyst; built in {built.seconds:.1f} s")

    analyst = Client(HTTP_HOST="127.0.0.1")
    analyst.force_login(people["analyst-1"])
    url = reverse("label_article", args=[project.id, article.id])
    analyst.get(url)  # warm caches (templates, URL resolver)
    print("labelling page:", measure(analyst, url, args.runs))

    create = reverse("span_create", args=[project.id, article.id])
    # A new span each run: a word from the middle on that the analyst has no span of the label on
    # (the same one again would be answered with the first, as a key pressed twice is).
    label = project.span_labels.first()
    taken = set(Span.objects.filter(annotation__article=article, annotation__annotator=people["analyst-1"],
                                    label=label).values_list("start", "end"))
    words = (m.span() for m in re.finditer(r"\w+", article.text[30_000:]))
    fresh = ((30_000 + a, 30_000 + b) for a, b in words if (30_000 + a, 30_000 + b) not in taken)

    sent = []

    def span(_):
        start, end = next(fresh)
        sent.append(uuid.uuid4())
        return {"label": label.id, "start": start, "end": end, "text": article.text[start:end], "client_id": sent[-1]}

    print("span save (create):", measure(analyst, create, args.runs, "post", span, status=201))
    # The spans just made: each relabelled, then deleted.
    made = list(Span.objects.filter(client_id__in=sent).order_by("id").values_list("id", flat=True))
    other = project.span_labels.exclude(pk=label.pk).first()
    print("span save (edit):", measure(
        analyst, lambda run: reverse("span_update", args=[project.id, article.id, made[run]]), args.runs, "post",
        {"label": other.id}))
    print("span save (delete):", measure(
        analyst, lambda run: reverse("span_delete", args=[project.id, article.id, made[run]]), args.runs, "post", {}))

    if not args.skip_review:
        reviewer = Client(HTTP_HOST="127.0.0.1")
        reviewer.force_login(people["reviewer"])
        review = reverse("review_article", args=[project.id, article.id])
        print("review page:", measure(reviewer, review, args.runs))


if __name__ == "__main__":
    main()
