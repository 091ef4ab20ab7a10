"""The training task: claims its row (run twice, trains once), keeps nothing when given up or
failed, and a run whose worker died is failed by recovery."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.training import learn, tasks
from annotator.training.models import ModelVersion

from .conftest import reviewed_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(project, reviewer):
    reviewed_corpus(project, reviewer, 20)
    return ModelVersion.objects.create(project=project, created_by=reviewer)


def test_a_task_run_twice_trains_once(queued, model_root):
    assert tasks.model_train.call(str(queued.id)) == "ready"
    queued.refresh_from_db()
    trained = (queued.finished_at, queued.artifact, queued.seed)
    assert tasks.model_train.call(str(queued.id)) == "skipped"
    queued.refresh_from_db()
    assert (queued.finished_at, queued.artifact, queued.seed) == trained
    assert (queued.progress_done, queued.progress_total) == (queued.progress_total, 2 + 2 + 3)  # sizes 10, 16
    assert [p.name for p in (model_root / str(queued.project_id)).iterdir()] == [f"{queued.id}.pkl"]


def test_a_run_given_up_meanwhile_keeps_nothing(queued, model_root, monkeypatch):
    real = learn.train

    def given_up_while_training(*args, **kwargs):
        trained = real(*args, **kwargs)
        ModelVersion.objects.filter(pk=queued.pk).update(status="failed", error=tasks.STOPPED)  # as recovery does
        return trained

    monkeypatch.setattr(learn, "train", given_up_while_training)
    assert tasks.model_train.call(str(queued.id)) == "abandoned"
    queued.refresh_from_db()
    assert (queued.status, queued.error, queued.artifact) == ("failed", tasks.STOPPED, "")
    assert not any((model_root / str(queued.project_id)).iterdir())


def test_a_failing_run_is_failed_with_its_error(queued, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(learn, "train", broken)
    with pytest.raises(RuntimeError):
        tasks.model_train.call(str(queued.id))
    queued.refresh_from_db()
    assert (queued.status, queued.error) == ("failed", "RuntimeError: out of memory, say")


def test_too_few_articles_fail_visibly(project, reviewer):
    reviewed_corpus(project, reviewer, 5)  # fewer than when it was started: reviews were undone
    version = ModelVersion.objects.create(project=project, created_by=reviewer)
    assert tasks.model_train.call(str(version.id)) == "failed"
    version.refresh_from_db()
    assert version.status == "failed" and "at least 10 reviewed articles" in version.error


def test_recovery_fails_a_run_whose_worker_stopped(queued, model_root):
    long_ago = timezone.now() - timedelta(minutes=10)
    ModelVersion.objects.filter(pk=queued.pk).update(status="running", started_at=long_ago, heartbeat_at=long_ago)
    leftover = model_root / str(queued.project_id) / f".{queued.id}.pkl.partial"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a model")
    fresh = ModelVersion.objects.create(project=queued.project, status="ready")

    assert tasks.models_recover(stale_after=timedelta(seconds=60)) == [queued]
    queued.refresh_from_db()
    assert (queued.status, queued.error) == ("failed", tasks.STOPPED)
    assert not leftover.exists()
    fresh.refresh_from_db()
    assert fresh.status == "ready"


def test_the_recovery_command_names_the_runs_it_failed(queued):
    from io import StringIO

    from django.core.management import call_command

    long_ago = timezone.now() - timedelta(minutes=10)
    ModelVersion.objects.filter(pk=queued.pk).update(status="running", started_at=long_ago, heartbeat_at=long_ago)
    output = StringIO()
    call_command("recover_snapshots", "--stale-after", "60", "--no-wait", stdout=output)
    assert f"Model {queued.id} of project {queued.project_id}: failed, {tasks.STOPPED}." in output.getvalue()
    assert "1 model training recovered." in output.getvalue()
    queued.refresh_from_db()
    assert queued.status == "failed"
