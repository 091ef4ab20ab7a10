"""An article's tokens are kept from one snapshot for the next (`datasets.kept`): the next one
reads them instead of tokenizing, and writes the same bytes; tokens kept by another tokenizer,
or that do not cover the text, are made again; a cache that cannot be written fails nothing."""

import numpy
import pytest
from django.db import DatabaseError, IntegrityError

from annotator.datasets import kept as kept_module
from annotator.datasets.formats import tokens as tokens_module
from annotator.datasets.formats.tokens import Tokens, tokenize
from annotator.datasets.models import ArticleTokens

from .helpers import annotate, article, build, file_path

pytestmark = pytest.mark.django_db

TOKEN_FORMATS = ["conll", "parquet", "spacy"]
CLITICS = "قال لقناة روسيا وبالقناة للوزير الخارجية: «لن نتراجع».\nوقال المتحدث لـ”رويترز” إن الوضع خطير."


def files(snapshot) -> dict[str, bytes]:
    return {f.name: file_path(snapshot, f.name).read_bytes() for f in snapshot.files.all()}


def arrays(tokens) -> list[list[int]]:
    return [tokens.lengths.tolist(), tokens.spaces.tolist(), tokens.is_space.tolist()]


@pytest.fixture
def corpus(project, admin_user, gold_corpus):
    """The gold corpus (English, the Arabic seed, emoji), and Arabic spans that cut proclitics."""
    item = article(project, CLITICS, language="ar")
    annotate(item, admin_user, [("Source", "قناة"), ("Source", "وزير"), ("Quote", "رويترز")], topics=["Syria"], gold=True)
    return project


def test_kept_tokens_read_back_as_they_were_made_split_at_proclitics_as_spacy_splits_them():
    made = Tokens.of(CLITICS, "ar")
    again = Tokens.kept(CLITICS, "ar", made.keep())
    assert arrays(again) == arrays(made) and again.starts == made.starts
    assert [t.text for t in again.doc] == [t.text for t in made.doc]  # made when asked for
    start = CLITICS.index("قناة")
    spans = [{"id": 1, "start": start, "end": start + 4, "label": "Source"}]
    cuts = made.clitic_cuts(spans)
    assert cuts
    split = again.split_at(cuts)
    # the arrays cut here are those of spaCy's own retokenizer on the doc
    assert arrays(split) == arrays(Tokens.from_doc(CLITICS, "ar", split.doc))
    assert [t.text for t in split.doc][:3] == ["قال", "ل", "قناة"] and split.clitic_splits == 1
    assert split.align(spans)[1] == 0
    # tokens that do not cover the text are not read back, nor bytes cut mid-token
    assert Tokens.kept(CLITICS + " و", "ar", made.keep()) is None
    assert Tokens.kept(CLITICS, "ar", made.keep()[:-1]) is None


def test_the_next_snapshot_reads_the_kept_tokens_and_writes_the_same_bytes(corpus, admin_user, monkeypatch):
    first = build(corpus, admin_user, scope="gold", formats=TOKEN_FORMATS)
    assert first.status == "ready", first.error
    kept = dict(ArticleTokens.objects.values_list("article_id", "tokenizer"))
    assert len(kept) == first.counts["articles"] > 3  # every article the snapshot wrote
    assert {name.split("-")[0] for name in kept.values()} == {"ar", "en", "xx"}

    # The CoNLL and Parquet files need no tokenizer now: one that fails shows it is not called.
    def no_tokenizer(text, language):
        raise AssertionError("tokenized again")

    monkeypatch.setattr(tokens_module, "_tokenize", no_tokenizer)
    tokens_module._last = tokens_module._last_record = None
    second = build(corpus, admin_user, scope="gold", formats=["conll", "parquet"])
    assert second.status == "ready", second.error
    assert {name: data for name, data in files(first).items() if not name.endswith(".spacy")} == {
        name: data for name, data in files(second).items() if name != "README.md"
    } | {"README.md": files(first)["README.md"]}
    monkeypatch.undo()
    # The spaCy files make their Doc from the text again, cut where the kept tokens say.
    tokens_module._last = tokens_module._last_record = None
    third = build(corpus, admin_user, scope="gold", formats=TOKEN_FORMATS)
    assert files(third) == files(first)


def test_tokens_kept_by_another_tokenizer_or_not_covering_the_text_are_made_again(corpus, admin_user):
    formats = ["conll", "parquet"]
    fresh = files(build(corpus, admin_user, scope="gold", formats=formats))
    rows = list(ArticleTokens.objects.order_by("article_id"))
    current = {row.article_id: (row.tokenizer, bytes(row.tokens)) for row in rows}
    stale, short = rows[0], rows[1]
    # Another spaCy version or rule set: its tokens may differ (here: every token one character).
    stale.tokenizer = stale.tokenizer.split("-")[0] + "-0000000000000000"
    stale.tokens = numpy.full(len(corpus.articles.get(id=stale.article_id).text), 1 << 2, "<i4").tobytes()
    short.tokens = bytes(short.tokens)[:-4]
    ArticleTokens.objects.bulk_update([stale, short], ["tokenizer", "tokens"])
    tokens_module._last = tokens_module._last_record = None
    assert files(build(corpus, admin_user, scope="gold", formats=formats)) == fresh
    assert {row.article_id: (row.tokenizer, bytes(row.tokens)) for row in ArticleTokens.objects.all()} == current


def test_with_spacy_files_the_tokenizer_runs_and_kept_tokens_are_not_read(corpus, admin_user, monkeypatch):
    fresh = files(build(corpus, admin_user, scope="gold", formats=TOKEN_FORMATS))
    # Kept tokens that would be wrong if they were read (every token one character, our tokenizer's name).
    rows = list(ArticleTokens.objects.all())
    for row in rows:
        row.tokens = numpy.full(len(corpus.articles.get(id=row.article_id).text), 1 << 2, "<i4").tobytes()
    ArticleTokens.objects.bulk_update(rows, ["tokens"])
    tokens_module._last = tokens_module._last_record = None
    saved = []
    monkeypatch.setattr(kept_module.bulk, "insert", lambda *args: saved.append(args))
    assert files(build(corpus, admin_user, scope="gold", formats=TOKEN_FORMATS)) == fresh
    assert saved == []  # and none kept again: they were kept by this tokenizer


@pytest.mark.parametrize("error, message", [
    (DatabaseError("disk full"), "Could not keep the tokens of {} articles"),
    (IntegrityError("duplicate key"), "The tokens of some of {} articles were kept by another task meanwhile"),
])
def test_a_snapshot_whose_tokens_cannot_be_kept_is_made_all_the_same(corpus, admin_user, monkeypatch, caplog, error, message):
    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(kept_module.bulk, "insert", fails)
    caplog.set_level("INFO", "annotator.bulk")
    snapshot = build(corpus, admin_user, scope="gold", formats=["conll"])
    assert snapshot.status == "ready", snapshot.error
    assert not ArticleTokens.objects.exists()
    assert message.format(snapshot.counts["articles"]) in caplog.text


def test_an_article_deleted_takes_its_kept_tokens_with_it(corpus, admin_user):
    snapshot = build(corpus, admin_user, scope="gold", formats=["conll"])
    item = corpus.articles.get(text=CLITICS)
    assert ArticleTokens.objects.filter(article_id=item.id).exists()
    item.delete()
    assert not ArticleTokens.objects.filter(article_id=item.id).exists()
    assert ArticleTokens.objects.count() == snapshot.counts["articles"] - 1


def test_tokenize_takes_the_kept_tokens_it_is_given():
    made = Tokens.of("Lavrov left Geneva.", "en")
    tokens_module._last = None
    assert tokenize("Lavrov left Geneva.", "en", kept=made) is made


def test_imported_articles_have_their_tokens_kept_before_any_snapshot(project, django_capture_on_commit_callbacks):
    from annotator.corpus.services import article_import
    from annotator.datasets.kept import keep_tokens, tokenizer_name

    files = [("arabic.txt", CLITICS.encode()), ("english.txt", "Lavrov left Geneva.\nNo comment.".encode())]
    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs the task here
        created = article_import(project=project, files=files).created
    rows = {row.article_id: row for row in ArticleTokens.objects.all()}
    assert set(rows) == {item.pk for item in created}
    for item in created:
        assert rows[item.pk].tokenizer == tokenizer_name(item.language)
        assert bytes(rows[item.pk].tokens) == Tokens.of(item.text, item.language).keep()
    assert keep_tokens([item.pk for item in created]) == 0  # safe to run twice: nothing made again
