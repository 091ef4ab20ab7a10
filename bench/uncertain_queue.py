"""What "Label next article: least sure first" costs (issue #15): `assignment_next` with the
setting off (by id) and on (by the current model's margin, `training.ArticleCertainty`), on a
project of many articles, every article scored.

    python -m bench.uncertain_queue [--articles 10000] [--analysts 200] [--rounds 3]

Each round: a fresh set of analysts each asks for their next article once (each claim is a new
annotation, so the queue's filter grows as it goes), with the setting off, then on, alternating.
Reported: CPU seconds of this process and of the database server's backend (from
pg_stat_statements is not assumed: the backend's CPU is read from /proc by its pid) per claim,
wall time per claim, and the plan of the query with the setting on.
"""

import argparse
import os
import random
import time

from bench.common import load_average, setup_django

setup_django()

from django.db import connection  # noqa: E402

from annotator.corpus.models import Article  # noqa: E402
from annotator.corpus.text import sha256  # noqa: E402
from annotator.labelling.assignment import assignment_next  # noqa: E402
from annotator.labelling.models import Annotation  # noqa: E402
from annotator.projects.models import Membership, Project  # noqa: E402
from annotator.projects.services import project_create  # noqa: E402
from annotator.training.models import ArticleCertainty, ModelVersion, TrainingSettings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

NAME = "Bench: uncertain queue"


def build(n: int) -> Project:
    Project.objects.filter(name=NAME).delete()
    get_user_model().objects.filter(username__startswith="uq-").delete()
    project = project_create(name=NAME)
    project.overlap = 2
    project.save()
    texts = [f"Article {i}: the talks went on all week in the capital, officials said." for i in range(n)]
    Article.objects.bulk_create(
        [Article(project=project, text=t, sha256=sha256(t), language="en", title=f"a{i}") for i, t in enumerate(texts)],
        batch_size=2000,
    )
    version = ModelVersion.objects.create(project=project, status="ready")
    rng = random.Random(1)
    ArticleCertainty.objects.bulk_create(
        [ArticleCertainty(article_id=pk, project=project, version=version, margin=rng.random())
         for pk in project.articles.values_list("pk", flat=True)], batch_size=5000,
    )
    TrainingSettings.objects.create(project=project, prefer_uncertain=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project


def backend_cpu() -> float:
    pid = connection.cursor().connection.info.backend_pid
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(project: Project, users, prefer: bool) -> tuple[float, float, float]:
    TrainingSettings.objects.filter(project=project).update(prefer_uncertain=prefer)
    cpu0, db0, wall0 = time.process_time(), backend_cpu(), time.perf_counter()
    for user in users:
        assert assignment_next(project=project, user=user) is not None
    n = len(users)
    return ((time.process_time() - cpu0) / n * 1000, (backend_cpu() - db0) / n * 1000,
            (time.perf_counter() - wall0) / n * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--analysts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    project = build(args.articles)
    User = get_user_model()
    results = {False: [], True: []}
    for round_ in range(args.rounds):
        for prefer in (False, True) if round_ % 2 == 0 else (True, False):
            users = [User.objects.create(username=f"uq-{round_}-{int(prefer)}-{i}") for i in range(args.analysts)]
            Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in users)
            results[prefer].append(run(project, users, prefer))
    print(f"{args.articles} articles, {args.analysts} claims per run, {args.rounds} runs each, "
          f"{Annotation.objects.filter(article__project=project).count()} annotations at the end")
    print("| queue | client CPU ms per claim | database CPU ms per claim | wall ms per claim |")
    print("| --- | ---: | ---: | ---: |")
    for prefer, rows in results.items():
        cells = " | ".join("/".join(f"{r[i]:.2f}" for r in rows) for i in range(3))
        print(f"| {'least sure first' if prefer else 'by id'} | {cells} |")
    with connection.cursor() as cursor:
        user = User.objects.create(username="uq-explain")
        from django.db.models import Exists, OuterRef, Subquery

        from annotator.labelling.queries import HOLDING, analysts_on_article

        opened = Annotation.objects.filter(article=OuterRef("pk"), annotator=user, kind="analyst")
        surest_last = (ArticleCertainty.objects.filter(project=project).alias(taken=analysts_on_article(*HOLDING))
                       .filter(~Exists(opened), taken__lt=2).order_by("margin", "article_id"))
        query = project.articles.defer("text", "metadata").filter(
            pk__in=Subquery(surest_last.values("article_id")[:1]))[:1]
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + sql, params)
        print("\n".join(row[0] for row in cursor.fetchall()))
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
