"""Training runs by the task worker (`manage.py run_worker`), and a ready model's suggestions.

`model_train` follows the snapshots' and import jobs' rules: it claims its row (queued →
running) in one statement, so a task run twice trains once; a thread stamps the row's heartbeat
and progress (`annotator.heartbeat`); the model file is written under a temporary name and
renamed, and the row turns ready in one transaction at the end. A run that recovery gave up
(`models_recover`, run by each worker as it starts and while idle) keeps nothing. Older versions' files are
deleted by the policy of `services.model_files_prune` once they are no longer used.
"""

import logging
import os
import pickle
import random
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from annotator.corpus.models import Article
from annotator.suggestions.tasks import PRIORITY as SUGGESTIONS_PRIORITY
from annotator.heartbeat import Abandoned, TaskProgress, claim_queued, recover_lost
from annotator.tasks import enqueue_in_chunks

from . import learn, services
from .models import ModelVersion, model_root

STOPPED = "the worker stopped while training this model; start it again"
# Articles per suggestions task, as for the rules'.
CHUNK = 100

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    # The import jobs' setting: a training run stamps its row as often as an import does.
    return float(getattr(settings, "ANNOTATOR_IMPORT_HEARTBEAT_SECONDS", 1))


@task
def model_train(version_id: str) -> str:
    """Train a queued model version. One already taken by another run is left alone."""
    version = claim_queued(ModelVersion, version_id)
    if version is None:
        return "skipped"
    directory = model_root() / str(version.project_id)
    final = directory / f"{version.pk}.pkl"
    partial_file = directory / f".{version.pk}.pkl.partial"
    try:
        progress = TaskProgress(ModelVersion, version.pk, seconds=heartbeat_seconds(), name=f"Model {version.pk}")
        with progress.heartbeat:
            project = version.project
            examples = services.gold_examples(project)
            seed = random.SystemRandom().randrange(2**31)
            trained = learn.train(
                examples, seed=seed, progress=progress,
                topics=dict(project.topics.values_list("id", "name")),
                targets=dict(project.stance_targets.values_list("id", "name")),
                values=dict(project.stance_values.values_list("id", "name")),
                span_labels=dict(project.span_labels.values_list("id", "name")),
            )
            progress.heartbeat.check()
            directory.mkdir(parents=True, exist_ok=True)
            with open(partial_file, "wb") as file:
                pickle.dump(trained.bundle, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial_file, final)
            with transaction.atomic():
                if not ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.RUNNING).update(
                    status=ModelVersion.Status.READY, finished_at=timezone.now(), seed=seed,
                    gold_count=len(examples), gold_hash=services.gold_hash(e.article_id for e in examples),
                    train_count=trained.train_count, test_count=trained.test_count,
                    scores=trained.scores, curve=trained.curve, artifact=str(final.relative_to(model_root())),
                    progress_done=progress.total, progress_total=progress.total,
                ):
                    raise Abandoned(f"Model {version.pk} is no longer training.")
                model_suggestions_enqueue_project(version.project_id)
        services.model_files_prune(project_id=version.project_id)
        return ModelVersion.Status.READY
    except Abandoned:
        final.unlink(missing_ok=True)
        return "abandoned"
    except BaseException as error:
        final.unlink(missing_ok=True)
        message = "".join(traceback.format_exception_only(error)).strip() or type(error).__name__
        ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.RUNNING).update(
            status=ModelVersion.Status.FAILED, error=message[:2000], finished_at=timezone.now()
        )
        if isinstance(error, learn.TooFew):
            return ModelVersion.Status.FAILED  # reviews undone since it was queued: shown on the page, not a crash
        raise
    finally:
        partial_file.unlink(missing_ok=True)


@task(priority=SUGGESTIONS_PRIORITY)
def model_suggest_articles(article_ids: list[int]) -> int:
    """The project's current model's suggestions for these articles (each in its own transaction);
    then the files of versions whose last suggestions these were are deleted (`model_files_prune`)."""
    done = 0
    projects = set()
    for article in Article.objects.filter(pk__in=article_ids).select_related("project").iterator(chunk_size=20):
        services.model_suggestions_compute(article=article)
        projects.add(article.project_id)
        done += 1
    for project_id in projects:
        services.model_files_prune(project_id=project_id)
    return done


def model_suggestions_enqueue_project(project_id: int) -> None:
    """Every article of the project, once the caller's transaction commits, in chunks."""
    ids = list(Article.objects.filter(project_id=project_id).order_by("id").values_list("id", flat=True))
    enqueue_in_chunks(model_suggest_articles, ids, CHUNK)


# Recovery ------------------------------------------------------------------------------------


def models_recover(*, stale_after: timedelta | None = None, wait: bool = False, poll: float = 1.0) -> list:
    """Fail every training run that lost its worker, remove its file, and return them."""
    recovered = recover_lost(
        ModelVersion.objects.all(), model_train, error=STOPPED, clean_up=_remove_file,
        stale_after=stale_after, wait=wait, poll=poll,
    )
    for version in recovered:
        logger.warning("Model %s of project %s failed: %s", version.pk, version.project_id, STOPPED)
    return recovered


def _remove_file(version: ModelVersion) -> None:
    directory = model_root() / str(version.project_id)
    for name in (f"{version.pk}.pkl", f".{version.pk}.pkl.partial"):
        (directory / name).unlink(missing_ok=True)


