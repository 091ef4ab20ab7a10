"""Import jobs on the real task backend (issue #17): the import page enqueues, a real `db_worker`
process imports; a worker killed midway leaves nothing imported, and recovery fails the job visibly."""

import json
import re

import pytest
from django.urls import reverse

from annotator.corpus import jobs
from annotator.corpus.models import Article, ImportJob

from . import processes
from .processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def import_root(settings, tmp_path):
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path / "imports"
    settings.ANNOTATOR_IMPORT_INLINE_BYTES = 1024
    return settings.ANNOTATOR_IMPORT_ROOT


def batch(tmp_path, files: int, articles: int) -> list:
    paths = []
    for number in range(files):
        path = tmp_path / f"batch-{number}.jsonl"
        rows = ({"text": f"Article {number}-{i}. " + "Lavrov said “yes” in Tehran. " * 20} for i in range(articles))
        path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows), encoding="utf-8")
        paths.append(path)
    return paths


def current(job: ImportJob) -> ImportJob:
    job.refresh_from_db()
    return job


def upload(client, project, paths) -> ImportJob:
    handles = [path.open("rb") for path in paths]
    try:
        response = client.post(reverse("article_import", args=[project.id]), {"files": handles})
    finally:
        for handle in handles:
            handle.close()
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    return job


def test_a_real_worker_imports_the_job(client, tasks_database, env_for_test_database, project, admin_user, import_root, tmp_path):
    from django_tasks_db.models import DBTaskResult

    client.force_login(admin_user)
    job = upload(client, project, batch(tmp_path, 2, 300))
    # Enqueued once the request's transaction committed; nothing runs it in this process.
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "annotator.corpus.jobs.import_job_run"
    assert task.args_kwargs["args"] == [str(job.id)]
    assert current(job).status == "queued"
    assert "Waiting for a worker" in client.get(job.get_absolute_url()).content.decode()

    worker = processes.worker(env_for_test_database(ANNOTATOR_IMPORT_ROOT=import_root, CONN_MAX_AGE="0"), tmp_path / "worker.log")
    try:
        wait_for(lambda: current(job).finished, "the import", worker)
    finally:
        worker.stop()
    assert (job.status, job.error) == ("done", ""), worker.output()
    assert job.report["created"] == 600 and len(job.report["articles"]) == jobs.REPORT_ARTICLES
    assert Article.objects.filter(project=project).count() == 600
    assert job.progress_done == job.progress_total == 600
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert not (import_root / job.directory).exists()
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Imported 600 articles" in page and f"… and {600 - jobs.REPORT_ARTICLES} more." in page


def test_a_killed_worker_imports_nothing_and_recovery_fails_the_job(
    client, tasks_database, env_for_test_database, project, admin_user, import_root, tmp_path
):
    from django_tasks_db.models import DBTaskResult

    client.force_login(admin_user)
    job = upload(client, project, batch(tmp_path, 2, 500))
    env = env_for_test_database(ANNOTATOR_IMPORT_ROOT=import_root, CONN_MAX_AGE="0")
    # Every report of progress (one per 100 articles) sleeps: about 45 s for the batch, time enough
    # for the recovery command below to start and finish on a busy machine.
    worker = processes.worker(env, tmp_path / "worker.log", slow_import_step=4)
    try:
        # The progress shows while the import's transaction is still open (the heartbeat's own connection).
        wait_for(lambda: current(job).status == "running" and job.progress_done >= 200, "the import's progress", worker)
        page = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
        assert re.search(r"Importing: \d+ of 1000", page), page
        # An import that is alive is left alone: recovery sees its heartbeat move on.
        assert "0 imports recovered" in processes.manage(env, "recover_snapshots", "--stale-after", "3")
        assert current(job).status == "running"
        worker.kill()
    finally:
        worker.stop()
    assert current(job).status == "running", "the import ended before the worker was killed"
    assert Article.objects.count() == 0
    assert (import_root / job.directory).exists()
    [task] = DBTaskResult.objects.all()
    assert task.status == "RUNNING"

    output = processes.manage(env, "recover_snapshots", "--stale-after", "2")
    assert "1 import recovered" in output and str(job.id) in output
    job = current(job)
    assert (job.status, job.error) == ("failed", jobs.STOPPED)
    assert not (import_root / job.directory).exists()
    assert Article.objects.count() == 0
    task.refresh_from_db()
    assert task.status == "FAILED"
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Nothing was imported" in page and jobs.STOPPED in page and "hx-trigger" not in page


# The production server as README's "Production" section runs it.
GUNICORN_OPTIONS = ("--worker-class", "gthread", "--threads", "4", "--timeout", "30", "--graceful-timeout", "30")


def _imported_through_the_production_server(name, files, env_for_test_database, import_root, tmp_path):
    """`files` uploaded to gunicorn (README's options, one worker process, so that one first request
    loads the application: slow on a busy machine) without JavaScript, by the project's admin; the
    request only stores them, a real worker imports them. Returns the project, the finished job and
    its result page's text."""
    from django.contrib.auth import get_user_model

    from tests.factories import UserFactory, make_project

    admin = UserFactory(username="lead")
    get_user_model().objects.update(password=processes.production_password("pw"))
    project = make_project(name=name, admin=admin)
    env = env_for_test_database(ANNOTATOR_IMPORT_ROOT=import_root)
    server = processes.Gunicorn(env, tmp_path / "server.log", workers=1, options=GUNICORN_OPTIONS)
    worker = processes.worker({**env, "CONN_MAX_AGE": "0"}, tmp_path / "worker.log")
    try:
        browser = processes.Browser()
        assert browser.get(server.port, "/accounts/login/", timeout=120).status == 200
        browser.log_in(server.port, "lead", "pw")
        assert browser.get(server.port, f"/p/{project.id}/import/").status == 200
        response = browser.upload(server.port, f"/p/{project.id}/import/", files)
        assert response.status == 302, f"{response.status}\n{response.text[:2000]}\n{server.output()}"
        job = ImportJob.objects.get()
        assert response.headers["Location"] == job.get_absolute_url()
        assert job.file_names == [name for name, _ in files]
        assert sum(file["size"] for file in job.files) == sum(len(data) for _, data in files)

        wait_for(lambda: current(job).finished, "the import", worker, timeout=300)
        job.refresh_from_db()
        assert (job.status, job.error, job.report["errors"]) == ("done", "", []), worker.output()
        page = browser.get(server.port, job.get_absolute_url())
        assert page.status == 200
        return project, job, page.text
    finally:
        worker.stop()
        server.stop()


def test_two_files_of_2000_articles_through_the_production_server(
    tasks_database, env_for_test_database, import_root, tmp_path
):
    """Issue #17's case: two JSONL files of 2,000 articles each, uploaded to gunicorn (30 s timeout)
    without JavaScript. The request only stores them; the worker imports them all."""
    sentence = "Lavrov told reporters in Tehran that the grain deal would be discussed again next week. "
    files = [
        (f"wire-{number}.jsonl", "\n".join(
            json.dumps({"title": f"Story {number}-{i}", "text": f"Story {number}-{i}. " + sentence * 45})
            for i in range(2000)
        ).encode())
        for number in range(2)
    ]
    project, _, page = _imported_through_the_production_server("Big batch", files, env_for_test_database,
                                                               import_root, tmp_path)
    assert Article.objects.filter(project=project).count() == 4000
    assert "Imported 4000 articles" in page


def test_170_files_in_one_upload_through_the_production_server(tasks_database, env_for_test_database, import_root, tmp_path):
    """Issue #17's other case: 170 files in one upload (the form takes up to 200), to gunicorn as
    README runs it, without JavaScript. Smaller than the issue's 100 MB so the suite stays quick on a
    shared machine; `bench.page_import --articles 21250 --file-articles 125` uploads the 100 MB."""
    sentence = "The envoy said in Baku that the border talks would resume after the holiday. "
    files = [
        (f"desk-{number:03}.jsonl", "\n".join(
            json.dumps({"title": f"Desk {number}-{i}", "text": f"Desk {number}-{i}. " + sentence * 12})
            for i in range(20)
        ).encode())
        for number in range(170)
    ]
    project, _, page = _imported_through_the_production_server("Many files", files, env_for_test_database,
                                                               import_root, tmp_path)
    assert Article.objects.filter(project=project).count() == 3400
    assert set(Article.objects.filter(project=project).values_list("title", flat=True)) == {
        f"Desk {number}-{i}" for number in range(170) for i in range(20)
    }
    assert "Imported 3400 articles" in page and "170 files" in page
