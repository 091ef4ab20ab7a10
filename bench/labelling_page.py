"""Benchmark 3: the labelling page for a 50 KB article with 500 spans: server time and queries.

    python -m bench.labelling_page --runs 20

Server time is the whole Django request (middleware, views, template) through the test client
in this process, on PostgreSQL with DEBUG off.
"""

import argparse

from bench.common import Timer, median, percentile, setup_django


def build():
    import random

    from django.contrib.auth import get_user_model

    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation, Span
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create
    from bench.workload import article_text, spans_for

    for old in Project.objects.filter(name="bench-page"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-page")
    user, _ = get_user_model().objects.get_or_create(username="bench-page-analyst")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    rng = random.Random(50)
    text = "\n".join(article_text(rng, i) for i in range(13))
    text = normalise(text)[:50_000]
    article = Article.objects.create(project=project, title="50 KB", text=text, sha256=sha256(text), language="en")
    annotation = Annotation.objects.create(article=article, annotator=user)
    labels = list(project.span_labels.all())
    spans = spans_for(rng, text, 500)
    Span.objects.bulk_create(
        Span(annotation=annotation, label=labels[i % len(labels)], start=s["start"], end=s["end"], text=s["text"])
        for i, s in enumerate(spans)
    )
    return project, article, user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)  # the page links hashed files
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    project, article, user = build()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("label_article", args=[project.id, article.id])
    client.get(url)  # warm caches (templates, URL resolver)
    times = []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries, Timer() as timer:
            response = client.get(url)
        assert response.status_code == 200
        times.append(timer.seconds * 1000)
    print(f"article: {len(article.text)} characters, {article.annotations.get().spans.count()} spans, "
          f"page {len(response.content) / 1000:.0f} KB")
    print(f"server time ms: median {median(times):.1f}, p95 {percentile(times, 95):.1f}, runs {args.runs}")
    print(f"queries: {len(queries)}")


if __name__ == "__main__":
    main()
