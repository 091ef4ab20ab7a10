from pathlib import Path

import pytest

from annotator.corpus import readers
from annotator.corpus.readers import ReadError, Row

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(ReadError) as caught:
        readers.read(name, data)
    return str(caught.value)


class TestDecode:
    TEXT = "Lavrov said “the West is trying”. ‘Café’ — لافروف"

    @pytest.mark.parametrize(
        "data",
        [
            TEXT.encode("utf-8"),
            b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
            b"\xff\xfe" + TEXT.encode("utf-16-le"),
            b"\xfe\xff" + TEXT.encode("utf-16-be"),
        ],
        ids=["utf-8", "utf-8 with BOM", "utf-16-le with BOM", "utf-16-be with BOM"],
    )
    def test_reads_utf8_and_utf16_with_bom(self, data):
        assert readers.decode(data) == self.TEXT

    def test_refuses_latin1_naming_the_byte(self):
        message = refusal("cafe.txt", "caf\xe9 au lait".encode("latin-1"))
        assert message.startswith("is not UTF-8 text")
        assert "0xe9 at position 3" in message

    def test_refuses_utf16_without_bom(self):
        assert "UTF-16 without a byte-order mark" in refusal("a.txt", "hello".encode("utf-16-le"))

    def test_refuses_broken_utf16(self):
        # A lone high surrogate after the BOM.
        assert refusal("a.txt", b"\xff\xfe\x00\xd8a\x00") == (
            "starts with a UTF-16 byte-order mark but is not valid UTF-16: byte 0x00 at position 2, on line 1, "
            "is not UTF-16. Save it as UTF-8 and upload it again"
        )

    def test_a_bad_byte_in_a_csv_file_is_named_by_its_row_and_line(self):
        # Row 2's quoted text spans two lines, so row 3 starts on line 5.
        data = b'text,title\n"one",a\n"two\nstill",b\n"th\xffree",c\n'
        assert refusal("articles.csv", data) == (
            f"is not UTF-8 text: byte 0xff at position {data.index(b'\xff')}, in row 3, on line 5, is not UTF-8. "
            "Save it as UTF-8 and upload it again"
        )

    def test_a_bad_byte_in_a_csv_header_says_so(self):
        assert "byte 0xff at position 2, in the header row, on line 1," in refusal("a.csv", b"te\xffxt\nok\n")

    def test_a_bad_byte_after_a_utf8_bom_is_named_by_its_row_line_and_position_in_the_file(self):
        data = b'\xef\xbb\xbf{"text": "a"}\n{"text": "b"}\n{"text": "c\xff"}\n'
        assert refusal("articles.jsonl", data) == (
            "starts with a UTF-8 byte-order mark but is not valid UTF-8: "
            f"byte 0xff at position {data.index(b'\xff')}, in row 3, on line 3, is not UTF-8. "
            "Save it as UTF-8 and upload it again"
        )

    def test_a_bad_unit_in_utf16_is_named_by_its_line(self):
        data = b"\xfe\xff" + "first\nsecond\n".encode("utf-16-be") + b"\xdc\x00"  # a lone low surrogate
        assert "byte 0xdc at position 28, on line 3, is not UTF-16" in refusal("a.txt", data)

    def test_a_control_character_in_a_csv_file_is_named_by_its_row(self):
        assert refusal("a.csv", b"text\r\nok\r\nbad\x07\r\n") == (
            "contains the control character U+0007 in row 2, on line 3, so it is not a text file"
        )

    @pytest.mark.parametrize("data", [b"", b"  \n\r\n\t", b"\xef\xbb\xbf", b"\xff\xfe"])
    def test_refuses_empty(self, data):
        assert refusal("a.txt", data) == "is empty"

    def test_refuses_png(self):
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        assert "binary file" in refusal("photo.txt", png)

    def test_refuses_control_characters_with_their_line(self):
        message = refusal("a.txt", b"first line\nsecond\x07 line")
        assert message == "contains the control character U+0007 on line 2, so it is not a text file"

    def test_keeps_tabs_and_line_breaks(self):
        assert readers.decode(b"a\tb\r\nc\rd\n") == "a\tb\r\nc\rd\n"


class TestDispatch:
    def test_unknown_extension(self):
        message = refusal("report.docx", b"hello")
        assert message.startswith("is not a supported kind of file (.docx)")
        assert ".jsonl" in message

    def test_no_extension(self):
        assert "(no extension)" in refusal("README", b"hello")

    def test_extension_is_case_insensitive(self):
        assert readers.read("NOTES.TXT", b"hello") == [Row(None, {"text": "hello"})]

    def test_pasted_text_is_read_as_txt(self):
        assert readers.read(readers.PASTED_TEXT, b"Title\n\nBody") == [Row(None, {"text": "Title\n\nBody"})]


class TestTxt:
    def test_whole_file_is_the_text(self):
        text = "\n\n  Headline here  \nBody “quoted”.\n"
        assert readers.read_txt(text) == [Row(None, {"text": text})]


class TestCsv:
    def test_fixture_rows_with_extra_column_and_multiline_cell(self):
        rows = readers.read("articles.csv", (FIXTURES / "articles.csv").read_bytes())
        assert [row.number for row in rows] == [1, 2]
        first = rows[0].fields
        assert first["title"] == "Iran and Azerbaijan friction “temporary”"
        assert first["text"].endswith("“We hope that the current friction is temporary,” he said.")
        assert "\n" in first["text"]
        assert first["section"] == "World"
        assert rows[1].fields["url"] == ""

    def test_known_headers_are_case_insensitive(self):
        rows = readers.read_csv(" Title ,TEXT,Author\nHead,Body,Ann\n")
        assert rows == [Row(1, {"title": "Head", "text": "Body", "Author": "Ann"})]

    def test_wrong_number_of_values_is_a_row_problem(self):
        rows = readers.read_csv("title,text\na,b\nonly one\nc,d,e\n")
        assert [(row.number, row.problem) for row in rows] == [
            (1, ""),
            (2, "has 1 values but the header row has 2 columns"),
            (3, "has 3 values but the header row has 2 columns"),
        ]

    def test_blank_rows_are_skipped_but_counted(self):
        rows = readers.read_csv("text,title\nfirst,\n\n,\nsecond,\n")
        assert [(row.number, row.fields["text"]) for row in rows] == [(1, "first"), (4, "second")]

    def test_needs_a_text_column(self):
        with pytest.raises(ReadError, match=r"has no 'text' column in its header row \(found: 'title', 'body'\)"):
            readers.read_csv("title,body\na,b\n")

    def test_refuses_repeated_columns(self):
        with pytest.raises(ReadError, match="more than one column named 'text'"):
            readers.read_csv("text,Text\na,b\n")

    def test_header_only_holds_no_articles(self):
        with pytest.raises(ReadError, match="holds no articles"):
            readers.read_csv("title,text\n")

    def test_unterminated_quote_is_an_error_not_a_cell_that_swallows_the_rest(self):
        with pytest.raises(ReadError, match=r"is not valid CSV \(line 3: unexpected end of data\)"):
            readers.read_csv('title,text\na,"unterminated\nb,second row\n')

    def test_text_after_a_quoted_cell(self):
        with pytest.raises(ReadError, match="is not valid CSV"):
            readers.read_csv('title,text\na,"quoted" tail\n')


class TestJsonl:
    def test_row_number_is_the_line_number(self):
        text = '{"text": "a"}\n\n{"text": "b"}\n'
        assert [row.number for row in readers.read_jsonl(text)] == [1, 3]

    def test_bad_lines_are_row_problems_and_do_not_hide_others(self):
        rows = readers.read_jsonl('{"text": "a"}\n{"text": \n[1, 2]\n"just a string"\n')
        assert [(row.number, row.problem) for row in rows] == [
            (1, ""),
            (2, "is not valid JSON (column 10: Expecting value)"),
            (3, "must be a JSON object, not a list"),
            (4, "must be a JSON object, not a string"),
        ]

    def test_escaped_control_character_is_a_row_problem(self):
        rows = readers.read_jsonl('{"text": "nul \\u0000 here"}\n{"text": "ok", "metadata": {"k": ["\\u0007"]}}')
        assert [row.number for row in rows if row.problem.startswith("contains a control character")] == [1, 2]

    def test_unicode_line_separator_inside_a_string(self):
        rows = readers.read_jsonl('{"text": "one\u2028two"}\n')
        assert rows == [Row(1, {"text": "one\u2028two"})]

    def test_only_blank_lines(self):
        with pytest.raises(ReadError, match="holds no articles"):
            readers.read_jsonl("\n  \n")


class TestJson:
    def test_fixture(self):
        rows = readers.read("articles.json", (FIXTURES / "articles.json").read_bytes())
        assert [row.number for row in rows] == [1, 2]
        assert rows[0].fields["title"] == "لافروف: الغرب يتودد إلى أرمينيا"
        assert rows[1].fields["metadata"] == {"tags": ["Iran", "Caucasus"]}

    def test_must_be_a_list(self):
        with pytest.raises(ReadError, match="must hold a list of articles, not an object"):
            readers.read_json('{"text": "a"}')

    def test_empty_list(self):
        with pytest.raises(ReadError, match="holds no articles"):
            readers.read_json("[]")

    def test_syntax_error_says_where(self):
        with pytest.raises(ReadError, match=r"is not valid JSON \(line 3, column 1: "):
            readers.read_json('[\n{"text": "a"}\n{"text": "b"}]')

    def test_item_that_is_not_an_object(self):
        rows = readers.read_json('[{"text": "a"}, 42, null]')
        assert [(row.number, row.problem) for row in rows] == [
            (1, ""),
            (2, "must be a JSON object, not a number"),
            (3, "must be a JSON object, not null"),
        ]


@pytest.fixture(scope="module")
def page():
    [row] = readers.read("news-page.html", (FIXTURES / "news-page.html").read_bytes())
    return row


class TestHtml:
    def test_keeps_every_body_paragraph_with_curly_quotes(self, page):
        text = page.fields["text"]
        assert "Russia’s foreign minister, Sergey Lavrov, said on Wednesday" in text
        assert "“We have absolutely no prejudice against the circle of Yerevan’s foreign partners,” he said." in text
        assert "Armenian officials have grown increasingly critical" in text
        assert text.endswith("‘It is a warning shot,’ said one former diplomat, who asked not to be named.")

    @pytest.mark.parametrize(
        "boilerplate",
        ["NAVMARKER", "Subscribe for", "TRACKING-SCRIPT-MARKER", "SCRIPTBODYMARKER", "RELATEDMARKER",
         "Related articles", "COMMENTMARKER", "Nobody in Yerevan asked", "Reader comments", "FOOTERMARKER"],
    )
    def test_drops_navigation_scripts_related_links_and_comments(self, page, boilerplate):
        assert boilerplate not in page.fields["text"]

    def test_metadata(self, page):
        fields = page.fields
        assert fields["title"] == "Lavrov accuses West of courting Armenia"
        assert fields["published"] == "2023-10-05"
        assert fields["language"] == "en"
        assert fields["url"] == "https://dailyledger.example/world/2023/10/05/lavrov-armenia"
        assert fields["source"] == "The Daily Ledger"
        assert fields["metadata"] == {"author": "Maria Ostrovskaya"}

    def test_page_without_an_article(self):
        page = b"<html><head><script>track('x')</script></head><body>\n</body></html>"
        assert refusal("empty.html", page) == (
            "has no article text that could be found"
        )
