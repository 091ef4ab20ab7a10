"""Uploads to the import page: checked by what they hold rather than what they are called,
limited in size and number, and never kept as files or served back."""

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape
from django.views.static import serve

from annotator.corpus.models import Article

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML_PAGE = b"<!doctype html><html><head><title>x</title></head><body><script>alert(1)</script><p>Hi</p></body></html>"
ARTICLE = "Lavrov said the talks would go on.\nThe ministry agreed.".encode()


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("article.txt", ARTICLE)
    return buffer.getvalue()


def tarred() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("article.txt")
        info.size = len(ARTICLE)
        archive.addfile(info, io.BytesIO(ARTICLE))
    return buffer.getvalue()


@pytest.fixture
def url(project):
    return reverse("article_import", args=[project.id])


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(staff, url, *files: tuple[str, bytes], **headers):
    response = staff.post(url, {"files": [SimpleUploadedFile(name, data) for name, data in files]}, **headers)
    return response, response.content.decode()


def assert_refused(staff, url, name, data, reason, *, row=None):
    response, page = upload(staff, url, (name, data), ("good.txt", ARTICLE))

    assert response.status_code == 200
    assert "Nothing was imported" in page
    place = name if row is None else f"{name}, row {row}"
    assert escape(f"{place}: {reason}") in page
    assert Article.objects.count() == 0


class TestTypeByContent:
    def test_a_png_renamed_txt_is_refused(self, staff, url):
        assert_refused(staff, url, "photo.txt", PNG, "contains NUL bytes: it is a binary file")

    @pytest.mark.parametrize("name", ["photo.csv", "photo.jsonl", "photo.json", "photo.html"])
    def test_a_png_under_any_text_name_is_refused(self, staff, url, name):
        assert_refused(staff, url, name, PNG, "contains NUL bytes")

    def test_an_html_page_named_csv_is_refused(self, staff, url):
        assert_refused(staff, url, "page.csv", HTML_PAGE, "has no 'text' column in its header row")

    def test_an_html_page_named_jsonl_is_refused(self, staff, url):
        assert_refused(staff, url, "page.jsonl", HTML_PAGE, "is not valid JSON", row=1)

    def test_a_png_named_png_is_refused_by_its_kind(self, staff, url):
        assert_refused(staff, url, "photo.png", PNG, "is not a supported kind of file (.png)")

    def test_a_file_without_an_extension_is_refused(self, staff, url):
        assert_refused(staff, url, "README", ARTICLE, "is not a supported kind of file (no extension)")


class TestNoArchives:
    @pytest.mark.parametrize(("name", "data"), [
        ("articles.zip", zipped()),
        ("articles.tar.gz", tarred()),
        ("articles.tgz", tarred()),
        ("articles.jsonl.gz", gzip.compress(ARTICLE)),
        ("articles.7z", b"7z\xbc\xaf\x27\x1c\x00\x04rest"),
        ("articles.rar", b"Rar!\x1a\x07\x01\x00rest"),
    ], ids=["zip", "tar.gz", "tgz", "gz", "7z", "rar"])
    def test_archives_are_refused_by_name(self, staff, url, name, data):
        suffix = Path(name).suffix
        assert_refused(staff, url, name, data, f"is not a supported kind of file ({suffix})")

    @pytest.mark.parametrize(("name", "data", "reason"), [
        ("articles.txt", zipped(), "contains NUL bytes: it is a binary file"),
        ("articles.jsonl", gzip.compress(ARTICLE), "contains NUL bytes: it is a binary file"),
        ("articles.csv", tarred(), "contains NUL bytes: it is a binary file"),
        ("articles.json", b"PK\x03\x04 a stored zip entry", "contains the control character U+0003 on line 1"),
    ], ids=["zip-as-txt", "gz-as-jsonl", "tar-as-csv", "zip-header-as-json"])
    def test_archives_are_refused_under_a_text_name(self, staff, url, name, data, reason):
        assert_refused(staff, url, name, data, reason)


class TestSizeAndCount:
    def test_a_file_over_the_limit_is_refused(self, staff, url, settings):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 1000
        big = (b"Lavrov spoke at length. " * 100)[:1001]

        response, page = upload(staff, url, ("big.txt", big), ("good.txt", ARTICLE))

        assert "big.txt: is larger than the limit of 1000" in page
        assert Article.objects.count() == 0

    def test_a_file_at_the_limit_is_imported(self, staff, url, settings):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 1000
        exact = (b"Lavrov spoke at length. " * 100)[:1000]

        response, page = upload(staff, url, ("exact.txt", exact))

        assert "Imported 1 article" in page
        assert Article.objects.count() == 1

    def test_the_request_limit_follows_the_upload_limit(self, settings):
        # Fields other than files (the pasted text) are held to the same limit, plus room for
        # the form; a file over it is spooled, not held in memory (see TestNothingKept).
        assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.ANNOTATOR_MAX_UPLOAD_BYTES
        assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.ANNOTATOR_MAX_UPLOAD_BYTES + 2 * 1024 * 1024

    def test_pasted_text_over_the_request_limit_is_refused(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000

        response = staff.post(url, {"title": "", "text": "x" * 5000})

        assert response.status_code == 400
        assert Article.objects.count() == 0

    def test_too_many_files_in_one_request_are_refused_saying_why(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 30
        files = [(f"a{n}.txt", f"Article {n}".encode()) for n in range(31)]

        response, page = upload(staff, url, *files)

        assert response.status_code == 400
        assert "An upload takes at most 30 files at once, and nothing was imported." in page
        assert '<header class="site-header">' in page  # the site's page, not Django's bare one
        assert Article.objects.count() == 0

    def test_too_many_files_from_the_page_are_refused_in_plain_text_it_shows(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 30
        files = [(f"a{n}.txt", f"Article {n}".encode()) for n in range(31)]

        response, page = upload(staff, url, *files, **HTMX)

        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert page == "An upload takes at most 30 files at once, and nothing was imported. Upload the files in several batches."
        assert Article.objects.count() == 0

    def test_as_many_files_as_the_limit_are_imported(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 30
        files = [(f"a{n}.txt", f"Article number {n} of the batch.".encode()) for n in range(30)]

        response, page = upload(staff, url, *files)

        assert response.status_code == 200 and "Imported 30 articles" in page
        assert Article.objects.count() == 30

    def test_the_import_page_states_the_file_limits(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_NUMBER_FILES = 30
        page = staff.get(url).content.decode()
        assert "Choose several files at once (up to 30)" in page
        assert "up to 30 files of at most 10.0\xa0MB each" in page

    def test_too_many_files_to_the_api_are_a_problem_document(self, rf):
        from django.core.exceptions import TooManyFilesSent

        from annotator.api.views import bad_request

        response = bad_request(rf.post("/api/v1/projects/1/articles"), TooManyFilesSent())

        assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
        assert json.loads(response.content)["detail"].startswith("An upload takes at most 200 files at once")

    def test_pasted_text_over_the_request_limit_says_so(self, staff, url, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000

        response = staff.post(url, {"title": "", "text": "x" * 5000})

        assert response.status_code == 400
        assert "The form is larger than the server accepts (the text fields together at most 2.0\xa0KB)" in response.content.decode()


class TestNothingKept:
    def test_no_url_serves_files_from_disk(self, client, admin_user):
        def views(patterns):
            for pattern in patterns:
                if isinstance(pattern, URLResolver):
                    yield from views(pattern.url_patterns)
                elif isinstance(pattern, URLPattern):
                    yield pattern.callback

        assert serve not in list(views(get_resolver().url_patterns))
        client.force_login(admin_user)
        for path in ("/media/good.txt", "/uploads/good.txt", "/good.txt"):
            assert client.get(path).status_code == 404

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
    def test_uploaded_bytes_are_not_written_to_disk(self, staff, url, settings, tmp_path, headers):
        temp, media = tmp_path / "temp", tmp_path / "media"
        temp.mkdir()
        media.mkdir()
        settings.FILE_UPLOAD_TEMP_DIR = str(temp)
        settings.MEDIA_ROOT = str(media)
        # Files over this size are spooled to a temporary file during the request.
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
        spooled = ("Spooled article. " * 20).encode()
        assert len(spooled) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE

        response, page = upload(staff, url, ("../../kept.txt", ARTICLE), ("spooled.txt", spooled), **headers)

        assert response.status_code == 200
        assert "Imported 2 articles" in page
        assert sorted(temp.iterdir()) == [] and sorted(media.iterdir()) == []

    def test_an_imported_article_is_only_ever_shown_as_text(self, staff, url, project):
        response, _ = upload(staff, url, ("page.txt", HTML_PAGE))
        article = Article.objects.get()

        page = staff.get(reverse("label_article", args=[project.id, article.id]))

        assert page["Content-Type"] == "text/html; charset=utf-8"
        html = page.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" not in html


class TestHostileStructure:
    """Files built to crash the reader are refused with a message, like any other bad file."""

    def test_deeply_nested_json_is_refused_not_a_crash(self, staff, url):
        response, page = upload(staff, url, ("deep.json", b"[" * 100_000 + b"]" * 100_000), **HTMX)

        assert response.status_code == 200
        assert "Nothing was imported" in page
        assert "deep.json" in page
        assert Article.objects.count() == 0

    def test_deeply_nested_metadata_is_refused_not_a_crash(self, staff, url):
        row = b'{"text": "Some text", "metadata": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"

        response, page = upload(staff, url, ("deep.jsonl", row), **HTMX)

        assert response.status_code == 200
        assert "deep.jsonl" in page and "Nothing was imported" in page
        assert Article.objects.count() == 0

    def test_ordinary_nesting_in_metadata_is_kept(self, staff, url):
        nested = {"a": {"b": {"c": [1, {"d": "e"}]}}}
        row = json.dumps({"text": "Some text", "metadata": nested}).encode()

        response, page = upload(staff, url, ("ok.jsonl", row))

        assert "Imported 1 article" in page
        assert Article.objects.get().metadata == nested
