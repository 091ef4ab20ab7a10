"""Readers: the bytes of one uploaded file in, plain rows out. No database access.

`read(name, data)` decodes the bytes and picks the reader for the file's extension. A reader
returns `Row`s: a 1-based row number (the data row of a .csv or .json file, the line of a
.jsonl file, None for a file that holds one article) and the row's fields as they were found.
Checking and cleaning the fields is the import service's job, so every format is checked by
the same rules.

A file that cannot be read at all raises `ReadError`; a row that cannot be parsed (a .jsonl
line that is not JSON, a .json item that is not an object) comes back with `problem` set, so
one bad line does not hide the others.
"""

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from .models import Article
from .text import CONTROL, control_character

# The import page's paste box is read like a .txt file of this name.
PASTED_TEXT = "pasted text"

TITLE_MAX_LENGTH = Article._meta.get_field("title").max_length
SOURCE_MAX_LENGTH = Article._meta.get_field("source").max_length

# Decoded after the mark with the mark's own byte order, so a bad byte's position is the file's.
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)

FIELDS = ("text", "title", "source", "url", "published", "language", "metadata")


class ReadError(ValueError):
    """The whole file cannot be read; the message says why, without the file's name."""


@dataclass
class Row:
    number: int | None
    fields: dict[str, Any] = field(default_factory=dict)
    problem: str = ""


def decode(data: bytes, suffix: str = "") -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM; anything else is refused.

    A byte that does not decode, or a control character, is named with its row (in a file of
    rows, the `suffix` says which) and line, so a person can find it in a file of thousands.
    """
    if not data:
        raise ReadError("is empty")
    bom, codec, label = next(((b, c, l) for b, c, l in _BOMS if data.startswith(b)), (b"", "utf-8", "UTF-8"))
    if not bom and b"\x00" in data:
        raise ReadError(
            "contains NUL bytes: it is a binary file, or UTF-16 without a byte-order mark. "
            "Save it as UTF-8 text and upload it again"
        )
    try:
        text = (data[len(bom):] if bom else data).decode(codec)
    except UnicodeDecodeError as error:
        position = len(bom) + error.start
        place = _place(data[len(bom):position].decode(codec, errors="replace"), suffix)
        what = f"starts with a {label} byte-order mark but is not valid {label}" if bom else "is not UTF-8 text"
        raise ReadError(
            f"{what}: byte 0x{data[position]:02x} at position {position}, {place}, is not {label}. "
            "Save it as UTF-8 and upload it again"
        ) from error
    control = CONTROL.search(text)
    if control:
        raise ReadError(
            f"contains the control character U+{ord(control.group()):04X} {_place(text[:control.start()], suffix)}, "
            "so it is not a text file"
        )
    if not text.strip():
        raise ReadError("is empty")
    return text


def _place(before: str, suffix: str) -> str:
    """Where the text that follows `before` is: its line, and its row as the file's reader numbers rows."""
    line = before.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    if suffix == ".jsonl":
        return f"in row {line}, on line {line}"
    if suffix == ".csv":
        # Rows as `read_csv` numbers them: after the header, every record, a blank one too. The
        # "x" stands for the unreadable character, so a record it starts is counted.
        try:
            records = sum(1 for _ in csv.reader(io.StringIO(before + "x", newline="")))
        except csv.Error:
            records = 0
        if records == 1:
            return f"in the header row, on line {line}"
        if records > 1:
            return f"in row {records - 1}, on line {line}"
    return f"on line {line}"


def read_txt(text: str) -> list[Row]:
    """One article; the title is left to the service (the first non-empty line)."""
    return [Row(None, {"text": text})]


# Hostile files nest lists thousands deep to crash the parser; real articles never do.
TOO_DEEP = "is nested too deeply to be an article"


def read_json(text: str) -> list[Row]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReadError(f"is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from error
    except RecursionError as error:
        raise ReadError(TOO_DEEP) from error
    if not isinstance(items, list):
        raise ReadError(f"must hold a list of articles, not {kind_of(items)}")
    if not items:
        raise ReadError("holds no articles")
    return [object_row(number, item) for number, item in enumerate(items, start=1)]


def read_jsonl(text: str) -> list[Row]:
    rows = []
    # Split on "\n" alone: str.splitlines() would also split on U+2028, which JSON allows
    # unescaped inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            rows.append(Row(number, problem=f"is not valid JSON (column {error.colno}: {error.msg})"))
            continue
        except RecursionError:
            rows.append(Row(number, problem=TOO_DEEP))
            continue
        rows.append(object_row(number, item))
    if not rows:
        raise ReadError("holds no articles")
    return rows


def read_csv(text: str) -> list[Row]:
    # Strict, so that a stray quote is an error rather than a cell that silently swallows the
    # rows after it.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ReadError("holds no articles")
        columns = [_csv_column(name) for name in header]
        repeated = sorted({name for name in columns if columns.count(name) > 1})
        if repeated:
            raise ReadError(f"has more than one column named {', '.join(map(repr, repeated))}")
        if "text" not in columns:
            raise ReadError(f"has no 'text' column in its header row (found: {', '.join(map(repr, columns))})")
        rows = []
        for number, values in enumerate(reader, start=1):
            # Spreadsheets save rows of empty cells after the data; they are blank lines.
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(columns):
                problem = f"has {len(values)} values but the header row has {len(columns)} columns"
                rows.append(Row(number, problem=problem))
                continue
            rows.append(Row(number, dict(zip(columns, values, strict=True))))
    except csv.Error as error:
        raise ReadError(f"is not valid CSV (line {reader.line_num}: {error})") from error
    if not rows:
        raise ReadError("holds no articles")
    return rows


def read_html(text: str) -> list[Row]:
    """The article body of a saved web page, without navigation, scripts or comments."""
    # Imported for an HTML file only: trafilatura (lxml, urllib3, …) costs about 0.2 s of CPU to
    # import, which every process that loads the app would otherwise pay.
    import trafilatura

    tree = trafilatura.load_html(text)
    if tree is None:
        raise ReadError("is not an HTML page")
    document = trafilatura.bare_extraction(
        tree,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
    )
    if document is None or not (document.text or "").strip():
        raise ReadError("has no article text that could be found")
    fields: dict[str, Any] = {"text": document.text}
    # Metadata found on the page is a best guess, not something the user can fix in the
    # file, so it is trimmed or dropped rather than refusing the page.
    if document.title:
        fields["title"] = document.title.strip()[:TITLE_MAX_LENGTH]
    if document.sitename:
        fields["source"] = document.sitename.strip()[:SOURCE_MAX_LENGTH]
    if document.url and document.url.startswith(("http://", "https://")):
        fields["url"] = document.url
    if document.date:
        fields["published"] = document.date
    language = (tree.get("lang") or "").split("-")[0].strip().lower()
    if language:
        fields["language"] = language
    if document.author:
        fields["metadata"] = {"author": document.author}
    return [Row(None, fields)]


READERS: dict[str, Callable[[str], list[Row]]] = {
    ".txt": read_txt,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".csv": read_csv,
    ".html": read_html,
    ".htm": read_html,
}


def read(name: str, data: bytes) -> list[Row]:
    """The rows of one file, chosen by its extension; raises ReadError."""
    suffix = ".txt" if name == PASTED_TEXT else PurePath(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        supported = ", ".join(sorted(READERS))
        raise ReadError(f"is not a supported kind of file ({suffix or 'no extension'}); use one of {supported}")
    return reader(decode(data, suffix))


def object_row(number: int | None, item: Any) -> Row:
    """A row from a JSON value read from a file: an object without control characters, or its problem."""
    if not isinstance(item, dict):
        return Row(number, problem=f"must be a JSON object, not {kind_of(item)}")
    # JSON can spell a control character as an escape (\u0000) that decode() cannot see.
    try:
        if control_character(item) is not None:
            return Row(number, problem="contains a control character (such as \\u0000), which text cannot hold")
    except RecursionError:
        return Row(number, problem=TOO_DEEP)
    return Row(number, item)


def _csv_column(name: str) -> str:
    # Spreadsheets capitalise headers ("Title"); other columns keep their spelling in metadata.
    name = name.strip()
    return name.lower() if name.lower() in FIELDS else name


def kind_of(value: Any) -> str:
    """What a JSON value is, in words, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
