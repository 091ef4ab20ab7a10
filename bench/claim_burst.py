"""Benchmark: first changes of many analysts on one article at the same moment (the overlap-k claim).

    python -m bench.claim_burst --claimers 50 --rounds 5

Each round makes a new article (in a project whose overlap is the number of claimers) and starts
one thread per analyst, each with its own database connection already open; at a barrier they all
make their first span on that article at once, through `annotation_claim` and `span_add` as the
API's span create does. This is the queue `bench.span_load` sees at its start (every analyst's
first create on one article), without HTTP, gunicorn or the clients: per claim, the time from the
barrier to its commit; per round, the time until the last one committed. Prints p50/p95/max over
all rounds and the process's CPU seconds.
"""

import argparse
import json
import resource
import threading
import time
import uuid

from bench.common import percentile, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from annotator.corpus.models import Article
    from annotator.corpus.text import sha256
    from annotator.labelling import services
    from annotator.labelling.models import Annotation
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create

    for old in Project.objects.filter(name="bench-claims"):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name="bench-claims")
    project.overlap = args.claimers
    project.save(update_fields=["overlap"])
    User = get_user_model()
    users = []
    for i in range(args.claimers):
        user, _ = User.objects.get_or_create(username=f"bench-claim-{i}")
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
        users.append(user)
    label = project.span_labels.get(name="Claim")
    sentence = "Lavrov said “NATO is expanding” on Monday. " * 20

    latencies, bursts = [], []
    started_cpu = resource.getrusage(resource.RUSAGE_SELF)
    for round_ in range(args.rounds):
        text = f"{sentence}({round_})"  # an article's text is unique in its project
        article = Article.objects.create(project=project, title=f"burst {round_}", text=text, sha256=sha256(text),
                                         language="en")
        barrier = threading.Barrier(args.claimers + 1)
        done, errors = [], []

        def claim(user):
            connection.ensure_connection()  # connected before the clock starts, as a server's thread is
            try:
                barrier.wait()
                began = time.perf_counter()
                with services.annotation_claim(article=article, annotator=user) as annotation:
                    services.span_add(annotation=annotation, actor=user, label=label, start=0, end=6, text="Lavrov",
                                      client_id=uuid.uuid4())
                done.append((began, time.perf_counter()))
            except Exception as error:
                errors.append(repr(error))
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(user,)) for user in users]
        for thread in threads:
            thread.start()
        barrier.wait()
        go = time.perf_counter()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        assert Annotation.objects.filter(article=article).count() == args.claimers
        latencies += [(end - began) * 1000 for began, end in done]
        bursts.append((max(end for _, end in done) - go) * 1000)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "claimers": args.claimers, "rounds": args.rounds,
        "claim_p50_ms": round(percentile(latencies, 50), 1), "claim_p95_ms": round(percentile(latencies, 95), 1),
        "claim_max_ms": round(max(latencies), 1),
        "burst_ms_each_round": [round(b, 1) for b in bursts],
        "process_cpu_s": round(cpu.ru_utime + cpu.ru_stime - started_cpu.ru_utime - started_cpu.ru_stime, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
