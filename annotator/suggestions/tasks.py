"""Suggestions are computed here, by the task worker (`manage.py run_worker`), never while a page waits.

`suggestions_enqueue` is called by the article import (every way in: the page, the API, import
jobs, `import_articles`) once its transaction commits; `suggestions_enqueue_project` when a
project's topic keywords or suggesters change. Both tasks are safe to run twice.
"""

from functools import partial

from django.db import transaction
from django.tasks import task

from annotator.corpus.models import Article
from annotator.tasks import enqueue_in_chunks

from .services import suggestions_compute

# Articles per task: a big import becomes several tasks, which several workers may share.
CHUNK = 100
# Behind every other task: a 10k import queues minutes of suggestions, and a snapshot, an import
# or a training asked for meanwhile must not wait for them (workers take the highest priority first).
PRIORITY = -10


@task(priority=PRIORITY)
def suggestions_compute_articles(article_ids: list[int]) -> int:
    """Compute the rule suggestions of these articles, and the trained model's (each in its own transaction)."""
    from annotator.training.services import model_suggestions_compute  # the training app builds on this one

    done = 0
    for article in Article.objects.filter(pk__in=article_ids).select_related("project").iterator(chunk_size=20):
        suggestions_compute(article=article)
        model_suggestions_compute(article=article)
        done += 1
    return done


@task(priority=PRIORITY)
def suggestions_compute_project(project_id: int) -> int:
    """Every article of the project, again: its keywords or suggesters changed."""
    ids = list(Article.objects.filter(project_id=project_id).order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), CHUNK):
        suggestions_compute_articles.call(ids[start : start + CHUNK])
    return len(ids)


def suggestions_enqueue(article_ids: list[int]) -> None:
    """Compute the articles' suggestions in the background once the caller's transaction commits."""
    enqueue_in_chunks(suggestions_compute_articles, article_ids, CHUNK)


def suggestions_enqueue_project(project_id: int) -> None:
    transaction.on_commit(partial(suggestions_compute_project.enqueue, int(project_id)))
