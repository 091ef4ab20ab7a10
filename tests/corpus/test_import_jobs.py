"""Imports above the inline size run as background jobs (issue #17): the upload makes a job, the job's
page polls its progress and then shows the result, with the same all-or-nothing policy and messages."""

import json
import re
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from annotator.heartbeat import default_stale_after
from annotator.corpus import jobs, services
from annotator.corpus.models import Article, ImportJob
from annotator.labelling.models import Annotation, Span
from annotator.projects.models import Membership
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
LABEL_STUDIO = Path(__file__).resolve().parents[1] / "datasets" / "data" / "label_studio"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def import_root(settings, tmp_path):
    settings.ANNOTATOR_IMPORT_ROOT = tmp_path / "imports"
    # Every batch these tests upload is over it: each becomes a job.
    settings.ANNOTATOR_IMPORT_INLINE_BYTES = 100
    return settings.ANNOTATOR_IMPORT_ROOT


@pytest.fixture
def url(project):
    return reverse("article_import", args=[project.id])


@pytest.fixture
def labelled_url(project):
    return reverse("labelled_import", args=[project.id])


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if data is None else data)


def jsonl(*texts: str) -> bytes:
    return "\n".join(json.dumps({"text": text}, ensure_ascii=False) for text in texts).encode()


def job_page(client, job, **headers) -> str:
    response = client.get(reverse("import_job_detail", args=[job.project_id, job.id]), **headers)
    assert response.status_code == 200
    return response.content.decode()


class TestUploadMakesAJob:
    def test_htmx_upload_queues_a_job_and_sends_the_browser_to_its_page(
        self, admin_client, url, project, admin_user, import_root, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = admin_client.post(url, {"files": [upload("articles.csv"), upload("news-page.html")]}, **HTMX)

        job = ImportJob.objects.get()
        assert response.status_code == 200
        assert response["HX-Redirect"] == reverse("import_job_detail", args=[project.id, job.id])
        assert (job.project, job.created_by, job.kind, job.status) == (project, admin_user, "articles", "queued")
        assert job.file_names == ["articles.csv", "news-page.html"]
        # The files wait on disk under numbers, not under the names they were uploaded with.
        stored = sorted(path.name for path in (import_root / job.directory).iterdir())
        assert stored == ["0", "1"]
        assert (import_root / job.files[0]["path"]).read_bytes() == (FIXTURES / "articles.csv").read_bytes()
        # Nothing is imported in the request: the task is enqueued once the job's row is committed.
        assert len(callbacks) == 1
        assert Article.objects.count() == 0

    def test_plain_upload_redirects_to_the_job_page_and_the_task_imports(
        self, admin_client, url, project, import_root, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, {"files": [upload("articles.csv"), upload("news-page.html")]})

        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == job.get_absolute_url()
        job.refresh_from_db()
        assert job.status == "done"
        assert job.report["created"] == 3 and job.report["errors"] == []
        assert project.articles.count() == 3
        assert job.progress_total == 3 and job.percent == 100
        # The uploaded files are removed once the job is done.
        assert not (import_root / job.directory).exists()

    def test_a_batch_within_the_inline_size_is_imported_in_the_request(
        self, admin_client, url, project, settings, django_capture_on_commit_callbacks
    ):
        data = (FIXTURES / "articles.jsonl").read_bytes()
        settings.ANNOTATOR_IMPORT_INLINE_BYTES = len(data)
        with django_capture_on_commit_callbacks(execute=False):
            response = admin_client.post(url, {"files": [upload("articles.jsonl")]}, **HTMX)
        assert "Imported 2 articles" in response.content.decode()
        assert not ImportJob.objects.exists()

        settings.ANNOTATOR_IMPORT_INLINE_BYTES = len(data) - 1
        with django_capture_on_commit_callbacks(execute=False):
            response = admin_client.post(url, {"files": [upload("articles.jsonl")]}, **HTMX)
        assert "HX-Redirect" in response
        assert ImportJob.objects.count() == 1

    def test_the_pasted_article_counts_toward_the_size_and_is_part_of_the_batch(
        self, admin_client, url, project, django_capture_on_commit_callbacks
    ):
        text = "Lavrov met his counterparts from Iran and Turkey in Tehran on Monday, then left for Baku."
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"files": [upload("articles.jsonl")], "title": "Lavrov in Tehran", "text": text})
        job = ImportJob.objects.get()
        assert job.file_names == ["articles.jsonl", "pasted text"]
        assert project.articles.filter(title="Lavrov in Tehran").exists()
        assert project.articles.count() == 3

    @pytest.mark.parametrize("labelled", [False, True], ids=["articles", "labelled"])
    def test_files_spooled_to_disk_are_copied_whole_and_the_spool_removed(
        self, admin_client, url, labelled_url, project, admin_user, import_root, settings, tmp_path, labelled,
        django_capture_on_commit_callbacks,
    ):
        temp = tmp_path / "temp"
        temp.mkdir()
        settings.FILE_UPLOAD_TEMP_DIR = str(temp)
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64  # every file below waits in a temporary file
        data = jsonl(*(f"Article {n}: Lavrov said the talks in Baku would resume. " * 40 for n in range(30)))
        assert len(data) > 64 * 1024  # more than one chunk of the copy
        form = {"files": [upload("big.jsonl", data), upload("articles.jsonl")]}
        if labelled:
            form = {"labelled-files": form["files"], "labelled-format": "jsonl"}
        with django_capture_on_commit_callbacks(execute=False):
            response = admin_client.post(labelled_url if labelled else url, form)

        assert response.status_code == 302, response.content.decode()[:2000]
        job = ImportJob.objects.get()
        assert [(file["name"], file["size"]) for file in job.files] == [
            ("big.jsonl", len(data)), ("articles.jsonl", (FIXTURES / "articles.jsonl").stat().st_size)
        ]
        assert (import_root / job.files[0]["path"]).read_bytes() == data
        assert (import_root / job.files[1]["path"]).read_bytes() == (FIXTURES / "articles.jsonl").read_bytes()
        assert list(temp.iterdir()) == []

    def test_a_file_over_the_limit_is_stored_one_byte_over_and_refused_by_the_job(
        self, admin_client, url, project, import_root, settings, django_capture_on_commit_callbacks
    ):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 1000
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64
        data = jsonl(*(f"Article {n} about the talks in Baku." for n in range(200)))
        assert len(data) > 5000
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(url, {"files": [upload("huge.jsonl", data), upload("articles.jsonl")]})

        assert response.status_code == 302
        job = ImportJob.objects.get()
        assert job.files[0]["size"] == 1001
        job.refresh_from_db()
        assert job.status == "failed"
        assert job.report["errors"] == [{"file": "huge.jsonl", "row": None, "message": "is larger than the limit of 1000\xa0bytes"}]
        assert Article.objects.count() == 0

    def test_form_errors_make_no_job(self, admin_client, url):
        response = admin_client.post(url, {"title": "Only a title", "text": ""}, **HTMX)
        assert "Text: Paste the article&#x27;s text as well as its title." in response.content.decode()
        assert not ImportJob.objects.exists()


class TestJobPage:
    def test_queued_job_full_page_and_polling_partial(self, admin_client, url, project, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False):
            admin_client.post(url, {"files": [upload("articles.csv"), upload("news-page.html")]})
        job = ImportJob.objects.get()
        detail = reverse("import_job_detail", args=[project.id, job.id])

        page = job_page(admin_client, job)
        assert "<html" in page and "<h1>Import of articles</h1>" in page
        assert f'hx-get="{detail}" hx-trigger="every 1s" hx-swap="outerHTML"' in page
        assert "Waiting for a worker" in page
        assert '<label for="import-job-progress">' in page and '<progress id="import-job-progress"' in page
        assert "<bdi>articles.csv</bdi>" in page and "<bdi>news-page.html</bdi>" in page

        partial = job_page(admin_client, job, **HTMX)
        assert partial.lstrip().startswith('<div id="import-job"')
        assert "<html" not in partial and f'hx-get="{detail}"' in partial

    def test_running_job_shows_its_progress(self, admin_client, project, admin_user):
        job = ImportJob.objects.create(project=project, created_by=admin_user, status="running",
                                       progress_done=150, progress_total=600)
        partial = job_page(admin_client, job, **HTMX)
        assert "Importing: 150 of 600" in partial
        assert 'value="25"' in partial and "25%" in partial
        assert "hx-trigger=\"every 1s\"" in partial

    def test_finished_job_lists_the_articles_and_stops_polling(
        self, admin_client, url, project, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"files": [upload("articles.csv"), upload("news-page.html")]})
        job = ImportJob.objects.get()

        partial = job_page(admin_client, job, **HTMX)
        assert "hx-trigger" not in partial
        assert 'role="status"' in partial and 'role="alert"' not in partial
        assert "Imported 3 articles" in partial
        for article in project.articles.all():
            assert f'href="{reverse("label_article", args=[project.id, article.id])}"' in partial
            assert escape(article.title) in partial

    def test_a_batch_with_errors_imports_nothing_and_lists_every_error(
        self, admin_client, url, project, article, django_capture_on_commit_callbacks
    ):
        files = [upload("articles.csv"), upload("bad-rows.csv"), upload("cafe.txt", "caf\xe9".encode("latin-1")),
                 upload("dup.txt", article.text.encode())]
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"files": files})
        job = ImportJob.objects.get()

        assert job.status == "failed" and job.error == ""
        assert project.articles.count() == 1  # only the one that was there before
        assert job.report["created"] == 0
        assert [(e["file"], e["row"]) for e in job.report["errors"]] == [
            ("cafe.txt", None), ("bad-rows.csv", 2), ("bad-rows.csv", 3), ("bad-rows.csv", 4)
        ]
        page = job_page(admin_client, job)
        assert "Nothing was imported: 4 problems" in page and 'role="alert"' in page
        for place, message in [
            ("<bdi>bad-rows.csv</bdi>, row 2", "published is not a date"),
            ("<bdi>bad-rows.csv</bdi>, row 3", "url is not an http:// or https:// address (&#x27;ftp://example.org/c&#x27;)"),
            ("<bdi>bad-rows.csv</bdi>, row 4", "text is empty"),
            ("<bdi>cafe.txt</bdi>", "is not UTF-8 text"),
        ]:
            assert re.search(re.escape(place) + r': <span dir="auto">' + re.escape(message), page), message
        assert "Duplicates that would be skipped" in page
        assert "<bdi>dup.txt</bdi>: <span dir=\"auto\">skipped: this text is already in the project" in page
        assert "Imported" not in page

    def test_import_page_lists_recent_jobs(self, admin_client, url, project, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"files": [upload("articles.csv")]})
        job = ImportJob.objects.get()
        page = admin_client.get(url).content.decode()
        assert "Recent imports in the background" in page
        assert f'href="{job.get_absolute_url()}"' in page
        assert "<bdi>articles.csv</bdi>" in page and "Imported" in page

    def test_file_names_are_escaped_and_isolated(self, admin_client, url, project, django_capture_on_commit_callbacks):
        name = "<b>تقرير.jsonl"
        with django_capture_on_commit_callbacks(execute=True):
            admin_client.post(url, {"files": [upload(name, b"{\"text\": 5}" + b" " * 100)]})
        page = job_page(admin_client, ImportJob.objects.get())
        assert "<b>" not in page
        assert "<bdi>&lt;b&gt;تقرير.jsonl</bdi>, row 1: " in page


class TestPermissions:
    @pytest.fixture
    def job(self, project, admin_user):
        return ImportJob.objects.create(project=project, created_by=admin_user)

    def test_reviewer_may_upload_and_see_jobs(self, client, project, url, job, django_capture_on_commit_callbacks):
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        client.force_login(reviewer)
        with django_capture_on_commit_callbacks(execute=False):
            assert client.post(url, {"files": [upload("articles.csv")]}).status_code == 302
        assert client.get(job.get_absolute_url()).status_code == 200

    def test_analyst_is_forbidden(self, client, analyst, url, labelled_url, job):
        client.force_login(analyst)
        assert client.post(url, {"files": [upload("articles.csv")]}).status_code == 403
        assert client.post(labelled_url, {"labelled-format": "jsonl"}).status_code == 403
        assert client.get(job.get_absolute_url()).status_code == 403
        assert client.get(job.get_absolute_url(), **HTMX).status_code == 403
        assert ImportJob.objects.count() == 1

    def test_non_member_gets_404(self, client, other_user, url, labelled_url, job):
        client.force_login(other_user)
        assert client.post(url, {"files": [upload("articles.csv")]}).status_code == 404
        assert client.post(labelled_url, {"labelled-format": "jsonl"}).status_code == 404
        assert client.get(job.get_absolute_url()).status_code == 404
        assert ImportJob.objects.count() == 1

    def test_another_projects_job_is_not_found_through_this_project(self, admin_client, admin_user, job):
        other = make_project(name="Other", admin=admin_user)
        assert admin_client.get(reverse("import_job_detail", args=[other.id, job.id])).status_code == 404

    def test_anonymous_polling_gets_401(self, client, job):
        assert client.get(job.get_absolute_url(), **HTMX).status_code == 401


class TestTask:
    def test_run_twice_imports_once(self, project, admin_user):
        job = jobs.import_job_create(project=project, user=admin_user, files=[("a.jsonl", jsonl("One.", "Two."))])
        assert jobs.import_job_run.call(str(job.id)) == "done"
        assert jobs.import_job_run.call(str(job.id)) == "skipped"
        assert project.articles.count() == 2

    @pytest.mark.django_db(transaction=True)
    def test_a_job_given_up_by_recovery_meanwhile_commits_nothing(self, project, admin_user, import_root):
        # Made by hand: in a test whose transactions commit, `import_job_create` would run it at once.
        job = ImportJob.objects.create(project=project, created_by=admin_user, files=[{"name": "a.jsonl", "path": "a", "size": 0}])
        import_root.mkdir()
        (import_root / "a").write_bytes(jsonl("One.", "Two."))
        real = services.article_import

        def recovered_meanwhile(**kwargs):
            report = real(**kwargs)
            # Recovery runs in another process: its update is committed at once, on its own connection.
            thread = threading.Thread(target=_fail_elsewhere, args=(job.pk,))
            thread.start()
            thread.join()
            return report

        with mock.patch.object(services, "article_import", recovered_meanwhile):
            assert jobs.import_job_run.call(str(job.id)) == "abandoned"
        assert project.articles.count() == 0
        job.refresh_from_db()
        assert (job.status, job.error, job.report) == ("failed", jobs.STOPPED, {})

    def test_a_crash_fails_the_job_visibly_and_removes_its_files(self, project, admin_user, import_root):
        job = jobs.import_job_create(project=project, user=admin_user, files=[("a.jsonl", jsonl("One."))])
        with mock.patch.object(services, "article_import", side_effect=RuntimeError("disk on fire")):
            with pytest.raises(RuntimeError):
                jobs.import_job_run.call(str(job.id))
        job.refresh_from_db()
        assert job.status == "failed" and "RuntimeError: disk on fire" in job.error
        assert not (import_root / job.directory).exists()
        assert project.articles.count() == 0

    def test_control_characters_in_a_file_name_are_replaced(self, project, admin_user):
        job = jobs.import_job_create(project=project, user=admin_user, files=[("a\x00b\x1b.jsonl", jsonl("One."))])
        job.refresh_from_db()
        assert job.file_names == ["a\ufffdb\ufffd.jsonl"]
        jobs.import_job_run.call(str(job.id))
        job.refresh_from_db()
        assert job.status == "done"

    def test_progress_is_reported_while_articles_are_checked(self, project, monkeypatch):
        monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
        calls = []
        services.article_import(
            project=project, files=[("a.jsonl", jsonl(*(f"Article number {n}." for n in range(5))))],
            progress=lambda done, total: calls.append((done, total)),
        )
        assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]

    def test_the_job_records_progress(self, project, admin_user, monkeypatch, settings):
        settings.ANNOTATOR_IMPORT_HEARTBEAT_SECONDS = 0  # every call saved
        monkeypatch.setattr(services, "PROGRESS_EVERY", 1)
        seen = []
        real = services._detect_language

        def detect(text):
            job = ImportJob.objects.get()
            seen.append((job.progress_done, job.progress_total))
            return real(text)

        monkeypatch.setattr(services, "_detect_language", detect)
        job = jobs.import_job_create(project=project, user=admin_user,
                                     files=[("a.jsonl", jsonl("First article.", "Second one.", "Third."))])
        jobs.import_job_run.call(str(job.id))
        assert seen == [(0, 3), (1, 3), (2, 3)]


def _fail_elsewhere(job_id):
    try:
        ImportJob.objects.filter(pk=job_id).update(status="failed", error=jobs.STOPPED)
    finally:
        connection.close()


class TestRecovery:
    def make(self, project, admin_user, **fields):
        job = jobs.import_job_create(project=project, user=admin_user, files=[("a.jsonl", jsonl("One."))])
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
        return job

    def test_a_job_whose_heartbeat_stopped_is_failed_and_its_files_removed(self, project, admin_user, import_root):
        old = timezone.now() - default_stale_after() * 2
        lost = self.make(project, admin_user, status="running", heartbeat_at=old)
        alive = self.make(project, admin_user, status="running", heartbeat_at=timezone.now())

        assert jobs.import_jobs_recover() == [lost]
        lost.refresh_from_db()
        assert (lost.status, lost.error) == ("failed", jobs.STOPPED)
        assert not (import_root / lost.directory).exists()
        alive.refresh_from_db()
        assert alive.status == "running" and (import_root / alive.directory).exists()
        assert jobs.import_jobs_recover() == []

    def test_an_old_queued_job_no_task_will_take_is_failed(self, project, admin_user):
        job = self.make(project, admin_user, created_at=timezone.now() - default_stale_after() * 2)
        assert jobs.import_jobs_recover() == [job]

    def test_the_recovery_command_fails_lost_imports_too(self, project, admin_user, capsys):
        job = self.make(project, admin_user, status="running", heartbeat_at=timezone.now() - default_stale_after() * 2)
        call_command("recover_snapshots", "--no-wait")
        output = capsys.readouterr().out
        assert f"Import {job.pk} into project {project.id}: failed" in output
        assert "1 import recovered." in output

    def test_the_job_page_says_why_it_failed(self, admin_client, project, admin_user):
        job = self.make(project, admin_user, status="failed", error=jobs.STOPPED)
        page = job_page(admin_client, job)
        assert "Nothing was imported" in page and jobs.STOPPED in page and "hx-trigger" not in page


class TestLabelledImport:
    def post(self, client, labelled_url, files, **fields):
        data = {"labelled-files": files, **{f"labelled-{key}": value for key, value in fields.items()}}
        return client.post(labelled_url, data)

    def test_page_has_the_labelled_form_with_labelled_controls(self, admin_client, url):
        page = admin_client.get(url).content.decode()
        assert f'action="{reverse("labelled_import", args=[int(url.split("/")[2])])}"' in page
        for control in ["id_labelled-files", "id_labelled-format", "id_labelled-gold_by", "id_labelled-text_key", "id_labelled-mapping"]:
            assert f'id="{control}"' in page and f'<label for="{control}"' in page, control
        assert '<option value="label-studio">Label Studio JSON export</option>' in page

    def test_label_studio_file_through_the_page(
        self, admin_client, labelled_url, project, admin_user, django_capture_on_commit_callbacks
    ):
        data = (LABEL_STUDIO / "completions_348.json").read_bytes()
        with django_capture_on_commit_callbacks(execute=True):
            response = self.post(admin_client, labelled_url, [SimpleUploadedFile("recipe.json", data)],
                                 format="label-studio", gold_by=admin_user.pk, mapping="INGREDIENT=Claim\n")

        job = ImportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
        assert (job.kind, job.status) == ("annotations", "done")
        assert job.options == {"format": "label-studio", "gold_by": admin_user.pk, "text_key": "", "mapping": {"INGREDIENT": "Claim"}}
        [file] = job.report["files"]
        assert (file["file"], file["articles_created"], file["annotations"], file["spans"]) == ("recipe.json", 1, 1, 38)
        gold = Annotation.objects.get(article__project=project)
        assert (gold.kind, gold.annotator) == ("gold", admin_user)
        assert Span.objects.filter(annotation=gold, label__name="Claim").count() == 38

        page = job_page(admin_client, job)
        assert "Imported 1 labelled file" in page and "<bdi>recipe.json</bdi>" in page
        assert re.search(r"<th scope=\"row\">Spans</th><td>38</td>", page)
        assert "gold by <bdi>projectadmin</bdi>" in page and "<bdi>INGREDIENT</bdi> → <bdi>Claim</bdi>" in page

    def test_what_was_not_imported_is_reported(self, admin_client, labelled_url, project, admin_user, django_capture_on_commit_callbacks):
        data = (LABEL_STUDIO / "text_with_2_predictions.json").read_bytes()
        tasks = json.loads(data)
        tasks[0]["annotations"] = [{"result": [], "was_cancelled": False}]
        tasks[0]["annotations"][0]["result"] = [{
            "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 4, "text": tasks[0]["data"]["text"][:4], "labels": ["Claim"]},
        }]
        with django_capture_on_commit_callbacks(execute=True):
            self.post(admin_client, labelled_url, [SimpleUploadedFile("t.json", json.dumps(tasks).encode())],
                      format="label-studio", gold_by=admin_user.pk)
        job = ImportJob.objects.get()
        assert job.status == "done", job.report
        [file] = job.report["files"]
        assert file["not_imported"] and all(count > 0 for count in file["not_imported"].values())
        page = job_page(admin_client, job)
        for what, count in file["not_imported"].items():
            assert f"<li>{count} {escape(what)}</li>" in page

    def test_problems_in_any_file_import_nothing_and_are_listed_by_file(
        self, admin_client, labelled_url, project, admin_user, django_capture_on_commit_callbacks
    ):
        good = (LABEL_STUDIO / "completions_348.json").read_bytes()
        bad = json.dumps([{"data": {"text": "Lavrov spoke."}, "annotations": [{"result": [{
            "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 6, "text": "Lavrov", "labels": ["Nonsense"]}}]}]}]).encode()
        with django_capture_on_commit_callbacks(execute=True):
            self.post(admin_client, labelled_url,
                      [SimpleUploadedFile("good.json", good), SimpleUploadedFile("bad.json", bad)],
                      format="label-studio", gold_by=admin_user.pk, mapping="INGREDIENT=Claim")
        job = ImportJob.objects.get()
        assert job.status == "failed"
        assert [file["file"] for file in job.report["problems"]] == ["bad.json"]
        assert Article.objects.count() == 0 and Annotation.objects.count() == 0  # not even good.json's
        page = job_page(admin_client, job)
        assert "Nothing was imported: problems in 1 file" in page
        assert "<bdi>bad.json</bdi>: 2 problems" in page
        assert "task 1: unknown span label “Nonsense”" in page

    @pytest.mark.parametrize(
        "fields, field, message",
        [
            ({"format": "label-studio"}, "Gold by", "choose whose gold it is"),
            ({"format": "doccano", "gold_by": "ADMIN", "mapping": "INGREDIENT"}, "Name mapping", "Write one NAME=Label a line"),
            ({"format": "doccano", "gold_by": "ADMIN", "mapping": "A=Claim\nA=Source"}, "Name mapping", "mapped twice"),
            ({"format": "jsonl", "mapping": "A=Claim"}, "Name mapping", "leave the mapping empty"),
            ({"format": "doccano", "gold_by": "ADMIN", "text_key": "body"}, "Text key", "for Label Studio files"),
            ({"format": "label-studio", "gold_by": "ADMIN", "text_key": "bo\x1bdy"}, "Text key", "control character U+001B"),
        ],
    )
    def test_options_are_checked_as_the_command_checks_them(self, admin_client, labelled_url, admin_user, fields, field, message):
        fields = {key: admin_user.pk if value == "ADMIN" else value for key, value in fields.items()}
        response = self.post(admin_client, labelled_url, [SimpleUploadedFile("a.json", b"[]")], **fields)
        assert response.status_code == 400
        page = response.content.decode()
        assert re.search(f"<li>{re.escape(field)}: [^<]*{re.escape(escape(message))}", page), page[:200]
        assert not ImportJob.objects.exists()

    def test_gold_by_must_be_a_member_of_the_project(self, admin_client, labelled_url, other_user):
        response = self.post(admin_client, labelled_url, [SimpleUploadedFile("a.json", b"[]")],
                             format="label-studio", gold_by=other_user.pk)
        assert response.status_code == 400
        assert not ImportJob.objects.exists()
