import codecs
import json
from datetime import date
from pathlib import Path

import pycld2
import pytest

from annotator.corpus import services
from annotator.corpus.models import Article
from annotator.corpus.services import ImportIssue, _detect_language, article_import
from annotator.corpus.text import normalise, sha256
from tests.factories import ArticleFactory, make_project

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "import"
SEEDS = sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))
ARABIC_SEED = "002_fbed2bf9dc136266.txt"

NOT_A_DATE = "published is not a date (expected YYYY-MM-DD or an ISO date and time, got "
NOT_HTTP = "url is not an http:// or https:// address ("
LONG_ENGLISH = "The Russian foreign minister said the Western countries are trying to provoke Russia’s neighbours."


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode("utf-8")


def messages(issues: list[ImportIssue]) -> list[str]:
    return [str(issue) for issue in issues]


class TestImportIssue:
    def test_str_names_file_and_row(self):
        assert str(ImportIssue("articles.csv", 3, "published is not a date")) == (
            "articles.csv, row 3: published is not a date"
        )

    def test_str_without_a_row(self):
        assert str(ImportIssue("a.txt", None, "is empty")) == "a.txt: is empty"


class TestTxt:
    def test_title_is_the_first_non_empty_line_and_text_is_the_whole_file(self, project):
        data = "\r\n  Lavrov: the West is trying  \r\n\r\nHe said “the West is trying”.\r\n".encode()
        report = article_import(project=project, files=[("lavrov.txt", data)])

        assert report.errors == [] and report.duplicates == []
        [article] = report.created
        assert article.pk is not None
        article.refresh_from_db()
        assert article.title == "Lavrov: the West is trying"
        assert article.text == "\n  Lavrov: the West is trying  \n\nHe said “the West is trying”.\n"
        assert article.sha256 == sha256(article.text)
        assert article.project == project

    def test_text_is_nfc_and_crlf_free(self, project):
        report = article_import(project=project, files=[("cafe.txt", "Cafe\u0301 talks\r\nend\rline".encode())])
        assert Article.objects.get(pk=report.created[0].pk).text == "Caf\u00e9 talks\nend\nline"

    def test_a_long_first_line_is_cut_to_500_characters(self, project):
        report = article_import(project=project, files=[("long.txt", ("word " * 200).encode())])
        assert len(report.created[0].title) == 500
        assert report.created[0].text == "word " * 200

    def test_seed_articles_with_their_languages(self, project):
        report = article_import(project=project, files=[(path.name, path.read_bytes()) for path in SEEDS])

        assert report.errors == []
        assert len(report.created) == len(SEEDS) == 5
        by_text = {article.text: article for article in Article.objects.filter(project=project)}
        for path in SEEDS:
            article = by_text[normalise(path.read_text(encoding="utf-8"))]
            assert article.language == ("ar" if path.name == ARABIC_SEED else "en"), path.name
        arabic = by_text[normalise((ROOT / "fixtures" / "seeds" / ARABIC_SEED).read_text(encoding="utf-8"))]
        assert arabic.title.startswith("روسيا – أكد وزير الخارجية الروسي")

    def test_a_mixed_article_gets_its_main_language(self, project):
        # py3langid took both mixtures for Moroccan Arabic (ary); the language is the one with
        # most characters (see TestLanguageDetection).
        arabic = (ROOT / "fixtures" / "seeds" / ARABIC_SEED).read_text(encoding="utf-8")
        english = SEEDS[0].read_text(encoding="utf-8")
        mostly_arabic = arabic[:3000] + "\n\n" + english[:2000]
        mostly_english = english[:2000] + "\n\n" + arabic[:800]
        report = article_import(project=project, files=[("a.jsonl", jsonl({"text": mostly_arabic}, {"text": mostly_english}))])
        assert report.errors == []
        assert [a.language for a in report.created] == ["ar", "en"]

    def test_short_text_gets_no_language_rather_than_a_guess(self, project):
        report = article_import(project=project, files=[("a.txt", b"Lavrov: Tehran")])
        assert report.created[0].language == ""


class TestLanguageDetection:
    """The rule (`corpus.services._detect_language`): CLD2 on windows spread over the text, the
    language with most characters. Each case below gave a wrong language under a simpler rule."""

    ARABIC = (ROOT / "fixtures" / "seeds" / ARABIC_SEED).read_text(encoding="utf-8")
    ENGLISH = SEEDS[0].read_text(encoding="utf-8")

    def test_the_language_of_most_of_the_text_even_when_another_comes_first(self):
        # Read from the start only (the first 1,200 characters), both would take the first language.
        assert _detect_language(self.ENGLISH[:1500] + "\n\n" + self.ARABIC[:3000]) == "ar"
        assert _detect_language(self.ARABIC[:1000] + "\n\n" + self.ENGLISH[:3000]) == "en"

    def test_counted_in_characters_not_in_utf8_bytes(self):
        # 600 English characters and 450 Arabic ones: by bytes (an Arabic letter is two) Arabic
        # has more, and CLD2's own answer is Arabic.
        mixed = self.ENGLISH[:600] + "\n\n" + self.ARABIC[:450]
        assert pycld2.detect(mixed)[2][0][1] == "ar"
        assert _detect_language(mixed) == "en"

    def test_english_with_an_arabic_sentence_in_every_paragraph(self):
        # The anchor workload's shape: py3langid took such mixtures for Moroccan Arabic (ary).
        arabic = self.ARABIC.split("\n")[0][:120]
        english = [line for line in self.ENGLISH.split("\n") if len(line) > 200]
        text = "\n\n".join(f"{paragraph} {arabic}" for paragraph in english)
        assert len(text) > 2 * services.SAMPLE_CHARS
        assert _detect_language(text) == "en"

    def test_a_lone_surrogate_or_an_empty_text_gives_no_error(self):
        assert _detect_language("\ud800") == ""
        assert _detect_language("") == ""
        assert _detect_language(self.ENGLISH[:3000] + "\ud83d") == "en"

    def test_the_sample_is_the_text_when_short_and_windows_from_start_to_end_when_long(self):
        assert services._sample(self.ENGLISH[:500]) == self.ENGLISH[:500]
        long = " ".join(self.ENGLISH.split())[:5000]  # one paragraph: the windows are the sample's lines
        windows = services._sample(long).split("\n")
        assert len(windows) == services.SAMPLE_WINDOWS
        assert sum(map(len, windows)) <= services.SAMPLE_CHARS
        starts = [long.index(window) for window in windows]
        assert starts == sorted(starts) and starts[0] == 0
        assert starts[-1] + len(windows[-1]) > len(long) - 40  # the last ends at the text's end (a word cut off)


class TestStructuredFormats:
    def test_csv(self, project):
        report = article_import(project=project, files=[fixture("articles.csv")])

        assert report.errors == []
        first, second = Article.objects.filter(project=project)
        assert first.title == "Iran and Azerbaijan friction “temporary”"
        assert first.text == (
            "Russia hopes that friction between Iran and Azerbaijan is temporary, Sergey Lavrov said.\n"
            "“We hope that the current friction is temporary,” he said."
        )
        assert (first.source, first.url, first.published, first.language) == (
            "TASS", "https://tass.example/world/1", date(2022, 10, 5), "en"
        )
        assert first.metadata == {"section": "World"}
        # No title: the first line; a datetime keeps its own date; no language: detected.
        assert second.title == "Lavrov said Moscow has no bias against Yerevan’s foreign partners."
        assert second.published == date(2023, 10, 4)
        assert second.language == "en"
        assert second.url == ""

    def test_jsonl_keeps_unknown_keys_in_metadata(self, project):
        report = article_import(project=project, files=[fixture("articles.jsonl")])

        assert report.errors == []
        first, second = report.created
        assert first.title == "NATO seeks confrontation, Lavrov says"
        assert first.metadata == {"author": "Ailis Halligan"}
        assert first.published == date(2022, 2, 21)
        assert second.metadata == {"desk": "Middle East"}
        assert second.title.startswith("Lavrov underscored that the United States")

    def test_json_detects_arabic_and_keeps_a_given_language(self, project):
        report = article_import(project=project, files=[fixture("articles.json")])

        assert report.errors == []
        arabic, english = report.created
        assert arabic.title == "لافروف: الغرب يتودد إلى أرمينيا"
        assert arabic.language == "ar"
        assert arabic.source == "المرصد"
        assert english.language == "en"
        assert english.metadata == {"tags": ["Iran", "Caucasus"]}

    def test_given_language_is_kept_not_detected(self, project):
        report = article_import(project=project, files=[("a.jsonl", jsonl({"text": LONG_ENGLISH, "language": "DE"}))])
        assert report.created[0].language == "de"

    def test_metadata_wins_over_an_extra_key_of_the_same_name(self, project):
        row = {"text": LONG_ENGLISH, "author": "column", "metadata": {"author": "object", "k": 1}}
        report = article_import(project=project, files=[("a.jsonl", jsonl(row))])
        assert report.created[0].metadata == {"author": "object", "k": 1}

    def test_csv_metadata_column_holds_json(self, project):
        data = 'text,metadata\nBody,"{""tags"": [""a""]}"\n'.encode()
        report = article_import(project=project, files=[("a.csv", data)])
        assert report.created[0].metadata == {"tags": ["a"]}

    def test_html_page(self, project):
        report = article_import(project=project, files=[fixture("news-page.html")])

        assert report.errors == []
        [article] = report.created
        assert article.title == "Lavrov accuses West of courting Armenia"
        assert article.published == date(2023, 10, 5)
        assert article.language == "en"
        assert article.source == "The Daily Ledger"
        assert article.metadata == {"author": "Maria Ostrovskaya"}
        assert "“actively courting” Armenia" in article.text
        assert "‘It is a warning shot,’ said one former diplomat" in article.text
        for marker in ("NAVMARKER", "SCRIPTBODYMARKER", "TRACKING-SCRIPT-MARKER", "RELATEDMARKER", "COMMENTMARKER"):
            assert marker not in article.text

    def test_every_format_in_one_batch(self, project):
        files = [fixture(name) for name in ("articles.csv", "articles.jsonl", "articles.json", "news-page.html")]
        report = article_import(project=project, files=[*files, ("pasted text", b"Pasted\n\nBody of it")])

        assert report.errors == []
        assert len(report.created) == 2 + 2 + 2 + 1 + 1
        assert project.articles.count() == 8


class TestRowErrors:
    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ({"title": "no text"}, "text is missing"),
            ({"text": None}, "text is missing"),
            ({"text": 42}, "text must be a string, not a number"),
            ({"text": ["a"]}, "text must be a string, not a list"),
            ({"text": " \n\t"}, "text is empty"),
            ({"text": "t", "published": "05/10/2023"}, f"{NOT_A_DATE}'05/10/2023')"),
            ({"text": "t", "published": "2023-02-30"}, f"{NOT_A_DATE}'2023-02-30')"),
            ({"text": "t", "published": 2023}, f"{NOT_A_DATE}2023)"),
            ({"text": "t", "url": "ftp://example.org/a"}, f"{NOT_HTTP}'ftp://example.org/a')"),
            ({"text": "t", "url": "javascript:alert(1)"}, f"{NOT_HTTP}'javascript:alert(1)')"),
            ({"text": "t", "url": "example.org/a"}, f"{NOT_HTTP}'example.org/a')"),
            ({"text": "t", "metadata": ["a"]}, "metadata must be an object, not a list"),
            ({"text": "t", "metadata": "not json"}, "metadata is not a JSON object ('not json')"),
            ({"text": "t", "title": "x" * 501}, "title is 501 characters long; the limit is 500"),
            ({"text": "t", "title": 7}, "title must be a string, not a number"),
            ({"text": "t", "source": "s" * 301}, "source is 301 characters long; the limit is 300"),
            ({"text": "t", "language": "x" * 17}, "language is 17 characters long; the limit is 16"),
        ],
    )
    def test_bad_row_imports_nothing_and_names_file_and_row(self, project, row, message):
        good = {"text": LONG_ENGLISH}
        files = [("rows.jsonl", jsonl(good, good | {"text": "other"}, row))]
        report = article_import(project=project, files=files)

        assert messages(report.errors) == [f"rows.jsonl, row 3: {message}"]
        assert report.created == []
        assert project.articles.count() == 0

    def test_every_error_of_a_file_is_listed(self, project):
        report = article_import(project=project, files=[fixture("bad-rows.csv")])

        assert messages(report.errors) == [
            f"bad-rows.csv, row 2: {NOT_A_DATE}'05/10/2023')",
            "bad-rows.csv, row 3: url is not an http:// or https:// address ('ftp://example.org/c')",
            "bad-rows.csv, row 4: text is empty",
        ]
        assert project.articles.count() == 0

    def test_several_problems_in_one_row_are_each_listed(self, project):
        row = {"text": "t", "published": "yesterday", "url": "nope"}
        report = article_import(project=project, files=[("a.jsonl", jsonl(row))])
        assert [(issue.row, issue.message.split(" ")[0]) for issue in report.errors] == [(1, "url"), (1, "published")]

    def test_jsonl_row_is_its_line_number(self, project):
        data = b'{"text": "first"}\n\n\n{"text": "fourth", "published": "soon"}\n'
        report = article_import(project=project, files=[("a.jsonl", data)])
        assert [(issue.file, issue.row) for issue in report.errors] == [("a.jsonl", 4)]

    def test_one_bad_file_imports_nothing_from_the_good_ones(self, project):
        files = [fixture("articles.csv"), ("bad.json", b'[{"text": "fine"}, {"text": ""}]'), fixture("news-page.html")]
        report = article_import(project=project, files=files)

        assert messages(report.errors) == ["bad.json, row 2: text is empty"]
        assert report.created == []
        assert Article.objects.count() == 0


class TestFileErrors:
    def test_undecodable_bytes_are_refused_naming_the_file(self, project):
        report = article_import(project=project, files=[("cafe.txt", "caf\xe9".encode("latin-1"))])

        [error] = report.errors
        assert (error.file, error.row) == ("cafe.txt", None)
        assert str(error).startswith("cafe.txt: is not UTF-8 text")
        assert Article.objects.count() == 0

    def test_a_bad_byte_in_a_multi_row_file_names_the_file_row_and_line(self, project):
        good = '{"text": "Lavrov spoke."}\n{"text": "Shoigu spoke."}\n'.encode()
        data = codecs.BOM_UTF8 + good + b'{"text": "caf\xe9"}\n'
        report = article_import(project=project, files=[("ok.jsonl", good), ("batch.jsonl", data)])

        assert [str(error) for error in report.errors] == [
            f"batch.jsonl: starts with a UTF-8 byte-order mark but is not valid UTF-8: byte 0xe9 at position "
            f"{data.index(b'\xe9')}, in row 3, on line 3, is not UTF-8. Save it as UTF-8 and upload it again"
        ]
        assert Article.objects.count() == 0

    @pytest.mark.parametrize(
        "data",
        [
            "\ufeffLavrov said “yes”.\r\nAgain.".encode("utf-8"),
            "\ufeffLavrov said “yes”.\r\nAgain.".encode("utf-16-le"),
            "\ufeffLavrov said “yes”.\r\nAgain.".encode("utf-16-be"),
        ],
        ids=["utf-8 BOM", "utf-16-le BOM", "utf-16-be BOM"],
    )
    def test_byte_order_marks(self, project, data):
        report = article_import(project=project, files=[("bom.txt", data)])
        [article] = report.created
        assert article.text == "Lavrov said “yes”.\nAgain."
        assert article.title == "Lavrov said “yes”."

    def test_utf16_csv(self, project):
        data = "title,text\nЛавров,“Привет” from Moscow\n".encode("utf-16")
        report = article_import(project=project, files=[("excel.csv", data)])
        assert [(a.title, a.text) for a in report.created] == [("Лавров", "“Привет” from Moscow")]

    @pytest.mark.parametrize(
        ("name", "data", "message"),
        [
            ("empty.txt", b"", "empty.txt: is empty"),
            ("blank.csv", b"\n \n", "blank.csv: is empty"),
            ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "photo.txt: contains NUL bytes"),
            ("bell.txt", b"ding\x07", "bell.txt: contains the control character U+0007 on line 1"),
            ("notes.docx", b"PK\x03\x04", "notes.docx: is not a supported kind of file (.docx)"),
            ("list.json", b'{"text": "a"}', "list.json: must hold a list of articles, not an object"),
            ("nocol.csv", b"title,body\na,b\n", "nocol.csv: has no 'text' column"),
        ],
    )
    def test_unreadable_file_is_refused_naming_the_file(self, project, name, data, message):
        report = article_import(project=project, files=[("good.txt", LONG_ENGLISH.encode()), (name, data)])

        [error] = report.errors
        assert str(error).startswith(message)
        assert report.created == []
        assert Article.objects.count() == 0

    def test_size_limit(self, project, settings):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 100
        report = article_import(project=project, files=[("ok.txt", b"a" * 100), ("big.txt", b"b" * 101)])

        assert messages(report.errors) == ["big.txt: is larger than the limit of 100\xa0bytes"]
        assert Article.objects.count() == 0

    def test_file_at_the_size_limit_is_imported(self, project, settings):
        settings.ANNOTATOR_MAX_UPLOAD_BYTES = 100
        report = article_import(project=project, files=[("ok.txt", b"a" * 100)])
        assert len(report.created) == 1


class TestDuplicates:
    def test_same_text_twice_in_a_batch_is_imported_once(self, project):
        files = [("a.txt", b"Same text.\nLine two."), ("b.txt", b"Same text.\r\nLine two.")]
        report = article_import(project=project, files=files)

        assert report.errors == []
        assert [article.title for article in report.created] == ["Same text."]
        assert messages(report.duplicates) == ["b.txt: skipped: the same text as a.txt"]
        assert project.articles.count() == 1

    def test_duplicate_rows_in_one_file(self, project):
        data = b"title,text\nOne,Alpha text\nTwo,Beta text\nThree,Alpha text\n"
        report = article_import(project=project, files=[("x.csv", data)])

        assert [article.title for article in report.created] == ["One", "Two"]
        assert messages(report.duplicates) == ["x.csv, row 3: skipped: the same text as x.csv, row 1"]

    def test_text_already_in_the_project_is_skipped(self, project, article):
        data = jsonl({"text": article.text, "title": "Another title"}, {"text": LONG_ENGLISH})
        report = article_import(project=project, files=[("again.jsonl", data)])

        assert report.errors == []
        assert [a.text for a in report.created] == [LONG_ENGLISH]
        assert messages(report.duplicates) == [
            f"again.jsonl, row 1: skipped: this text is already in the project (“{article.title}”)"
        ]
        assert project.articles.count() == 2

    def test_same_text_in_another_project_is_not_a_duplicate(self, project):
        other = make_project(name="Other")
        existing = ArticleFactory(project=other)
        report = article_import(project=project, files=[("a.txt", existing.text.encode())])
        assert len(report.created) == 1
        assert report.duplicates == []

    def test_duplicates_are_reported_but_not_errors_when_the_batch_fails(self, project, article):
        files = [("dup.txt", article.text.encode()), ("bad.txt", b"")]
        report = article_import(project=project, files=files)

        assert messages(report.errors) == ["bad.txt: is empty"]
        assert [issue.file for issue in report.duplicates] == ["dup.txt"]
        assert project.articles.count() == 1

    def test_importing_the_same_batch_again_creates_nothing(self, project):
        files = [fixture("articles.csv"), fixture("news-page.html")]
        article_import(project=project, files=files)
        report = article_import(project=project, files=files)

        assert report.created == [] and report.errors == []
        assert len(report.duplicates) == 3
        assert project.articles.count() == 3
