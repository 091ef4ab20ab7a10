import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from annotator.corpus.models import Article
from annotator.projects.models import Membership
from tests.factories import UserFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def url(project):
    return reverse("article_import", args=[project.id])


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if data is None else data)


class TestAccess:
    def test_admin_gets_the_full_page(self, admin_client, url, project):
        response = admin_client.get(url)

        assert response.status_code == 200
        page = response.content.decode()
        assert "<html" in page and "</html>" in page
        assert '<h1>Import articles</h1>' in page
        assert re.search(r'<input type="file" name="files"[^>]* multiple', page)
        assert 'accept=".txt,.json,.jsonl,.csv,.html,.htm"' in page
        assert f'hx-post="{url}"' in page and 'hx-encoding="multipart/form-data"' in page
        assert 'enctype="multipart/form-data"' in page
        assert "<progress" in page and "annotator/js/import.js" in page
        assert "All or nothing." in page and "Duplicates are skipped." in page
        assert 'id="import-result"' in page

    def test_every_control_has_a_label(self, admin_client, url):
        page = admin_client.get(url).content.decode()
        ids = re.findall(r'<(?:input|textarea|select|progress)\b[^>]*\bid="([^"]+)"', page)
        assert {"id_files", "id_title", "id_text", "upload-progress"} <= set(ids)
        for control in ids:
            assert f'<label for="{control}"' in page, control

    def test_no_inline_script_style_or_handlers(self, admin_client, url):
        page = admin_client.get(url).content.decode()
        assert "style=" not in page
        assert not re.search(r"\son[a-z]+=", page)
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S):
            assert script.strip() == ""

    def test_reviewer_may_import(self, client, project, url):
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        client.force_login(reviewer)
        assert client.get(url).status_code == 200

    def test_analyst_is_forbidden(self, client, analyst, url):
        client.force_login(analyst)
        assert client.get(url).status_code == 403
        assert client.post(url, {"text": "Sneaky article"}).status_code == 403
        assert Article.objects.count() == 0

    def test_non_member_gets_404(self, client, other_user, url):
        client.force_login(other_user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"text": "Sneaky article"}).status_code == 404
        assert Article.objects.count() == 0

    def test_anonymous_is_sent_to_log_in(self, client, url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"

    def test_anonymous_htmx_post_gets_401(self, client, url):
        assert client.post(url, {"text": "Article"}, **HTMX).status_code == 401
        assert Article.objects.count() == 0

    def test_other_methods_are_refused(self, admin_client, url):
        assert admin_client.put(url).status_code == 405


class TestUpload:
    def test_htmx_post_renders_only_the_result(self, admin_client, url, project):
        files = [upload("articles.csv"), upload("news-page.html")]
        response = admin_client.post(url, {"files": files}, **HTMX)

        assert response.status_code == 200
        fragment = response.content.decode()
        assert fragment.lstrip().startswith('<div id="import-result">')
        assert "<html" not in fragment and "<form" not in fragment
        assert "Imported 3 articles" in fragment
        articles = list(project.articles.all())
        assert len(articles) == 3
        for article in articles:
            link = f'href="{reverse("label_article", args=[project.id, article.id])}"'
            assert link in fragment
            assert escape(article.title) in fragment
        assert 'role="status"' in fragment and 'role="alert"' not in fragment

    def test_plain_post_renders_the_whole_page_with_the_result(self, admin_client, url, project):
        response = admin_client.post(url, {"files": [upload("articles.jsonl")]})

        assert response.status_code == 200
        page = response.content.decode()
        assert "<html" in page and '<form id="import-form"' in page
        assert "Imported 2 articles" in page
        assert project.articles.count() == 2

    def test_a_batch_with_one_bad_file_imports_nothing(self, admin_client, url, project):
        files = [upload("articles.csv"), upload("bad-rows.csv"), upload("cafe.txt", "caf\xe9".encode("latin-1"))]
        response = admin_client.post(url, {"files": files}, **HTMX)

        fragment = response.content.decode()
        assert project.articles.count() == 0
        assert 'role="alert"' in fragment
        assert "Nothing was imported: 4 problems" in fragment
        for message in [
            "bad-rows.csv, row 2: published is not a date",
            "bad-rows.csv, row 3: url is not an http:// or https:// address ('ftp://example.org/c')",
            "bad-rows.csv, row 4: text is empty",
            "cafe.txt: is not UTF-8 text",
        ]:
            assert escape(message) in fragment
        assert "Imported" not in fragment

    def test_duplicates_are_listed(self, admin_client, url, project, article):
        files = [upload("dup.txt", article.text.encode()), upload("new.txt", b"A new article.")]
        fragment = admin_client.post(url, {"files": files}, **HTMX).content.decode()

        assert "Imported 1 article<" in fragment
        assert "Skipped 1 duplicate<" in fragment
        assert escape(f"dup.txt: skipped: this text is already in the project (“{article.title}”)") in fragment
        assert project.articles.count() == 2

    def test_oversized_file_is_listed(self, admin_client, url, project, settings):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 50
        fragment = admin_client.post(url, {"files": [upload("big.txt", b"x" * 51)]}, **HTMX).content.decode()
        assert "big.txt: is larger than the limit of 50" in fragment
        assert project.articles.count() == 0

    def test_article_titles_are_escaped(self, admin_client, url):
        data = b"<script>alert('x')</script> headline\nbody"
        fragment = admin_client.post(url, {"files": [upload("x.txt", data)]}, **HTMX).content.decode()
        assert "<script>" not in fragment
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; headline" in fragment


class TestPaste:
    def test_pasted_text_with_a_title(self, admin_client, url, project):
        pasted = {"title": "Lavrov in Tehran", "text": "He met his counterparts.\r\nThen left."}
        response = admin_client.post(url, pasted, **HTMX)

        assert response.status_code == 200
        article = project.articles.get()
        assert article.title == "Lavrov in Tehran"
        assert article.text == "Lavrov in Tehran\n\nHe met his counterparts.\nThen left."

    def test_pasted_title_already_heading_the_text_is_not_repeated(self, admin_client, url, project):
        admin_client.post(url, {"title": "Headline", "text": "Headline\nBody."}, **HTMX)
        assert project.articles.get().text == "Headline\nBody."

    def test_pasted_text_without_a_title_takes_its_first_line(self, admin_client, url, project):
        admin_client.post(url, {"text": "\n  First line  \nSecond line"})
        article = project.articles.get()
        assert (article.title, article.text) == ("First line", "\n  First line  \nSecond line")

    def test_files_and_pasted_text_are_one_batch(self, admin_client, url, project):
        response = admin_client.post(url, {"files": [upload("bad.json", b"[]")], "text": "Fine article"}, **HTMX)
        assert escape("bad.json: holds no articles") in response.content.decode()
        assert project.articles.count() == 0

    def test_nothing_chosen(self, admin_client, url, project):
        fragment = admin_client.post(url, {"title": "", "text": "  "}, **HTMX).content.decode()
        assert 'role="alert"' in fragment
        assert "Choose one or more files, or paste an article&#x27;s text." in fragment
        assert project.articles.count() == 0

    def test_title_without_text(self, admin_client, url, project):
        fragment = admin_client.post(url, {"title": "Only a title", "text": ""}).content.decode()
        assert "Text: Paste the article&#x27;s text as well as its title." in fragment
        assert project.articles.count() == 0
