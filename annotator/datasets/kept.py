"""An article's tokens kept from one snapshot for the next (`ArticleTokens`).

An article's text never changes, so the snapshot tokenizer (`formats.tokens`) cuts it into the
same tokens in every snapshot while the tokenizer is the same (its language, spaCy's version and
our rules: `tokenizer_name`). The CoNLL and Parquet writers need only those tokens' offsets, not
spaCy's Doc, and tokenizing was a fifth to a third of their time: a snapshot reads its records'
kept tokens a batch at a time (`read`), tokenizes the articles that have none (or whose tokens
another tokenizer cut) and keeps theirs for the next snapshot (`save`). The files are the same
bytes either way: the tokens are spaCy's, read back.
"""

import functools
from itertools import batched

from annotator import bulk
from annotator.corpus.models import Article

from .formats.tokens import Tokens, record_tokens, tokenizer_language, tokenizer_version
from .models import ArticleTokens

BATCH = 250  # articles whose kept tokens are read in one query, and kept in one


@functools.cache
def tokenizer_name(language: str) -> str:
    """The tokenizer an article in `language` gets, and its version: `ar-1f2e…`."""
    code = tokenizer_language(language)
    return f"{code}-{tokenizer_version(code)}"


class KeptTokens:
    """The kept tokens of a batch of records, and the tokens made for the others, to keep.

    With `read_back` false (a snapshot with spaCy files, whose tokenizer runs for every article
    anyway), only which articles have tokens kept is read, not the tokens: every article is
    tokenized, and those with none kept are kept."""

    def __init__(self, read_back: bool = True):
        self.read_back = read_back
        self.kept: dict[int, tuple[str, bytes | None]] = {}
        self.made: list[tuple[int, str, bytes]] = []  # (article id, tokenizer, tokens) to keep

    def read(self, records: list[dict]) -> None:
        """Read the kept tokens of these records' articles (one query)."""
        rows = ArticleTokens.objects.filter(article_id__in=[record["id"] for record in records])
        if self.read_back:
            self.kept = {
                article: (tokenizer, bytes(tokens))
                for article, tokenizer, tokens in rows.values_list("article_id", "tokenizer", "tokens")
            }
        else:
            self.kept = {article: (tokenizer, None) for article, tokenizer in rows.values_list("article_id", "tokenizer")}

    def has(self, record: dict) -> bool:
        """Whether the article's tokens are kept by the tokenizer it gets now."""
        return self.kept.get(record["id"], (None, None))[0] == tokenizer_name(record["language"])

    def article(self, record: dict) -> Tokens:
        """The article's tokens: read back if they were kept by the same tokenizer, else made
        now, and kept by `save` unless they were. `record`: its id, text and language."""
        name = tokenizer_name(record["language"])
        tokenizer, kept = self.kept.get(record["id"], (None, None))
        tokens = Tokens.kept(record["text"], record["language"], kept) if tokenizer == name and kept else None
        if tokens is None:
            tokens = Tokens.of(record["text"], record["language"])
            if tokenizer != name or kept is not None:  # none kept, another tokenizer's, or not covering the text
                self.made.append((record["id"], name, tokens.keep()))
        return tokens

    def tokens(self, record: dict) -> Tokens:
        """The record's tokens, split for its spans (`record_tokens`, which the writers then
        get again), from the article's (`article`)."""
        return record_tokens(record, self.article(record))

    def save(self) -> None:
        """Keep the tokens made since the last save, in place of any kept before (`bulk.keep`:
        if they cannot be written, the snapshot goes on without)."""
        made, self.made = self.made, []
        bulk.keep(ArticleTokens, ["article_id", "tokenizer", "tokens"], made, "tokens")


def keep_tokens(article_ids: list[int]) -> int:
    """Tokenize these articles as a snapshot would and keep their tokens (those not kept yet by
    the same tokenizer); returns how many were made."""
    kept, made = KeptTokens(read_back=False), 0
    articles = Article.objects.filter(id__in=article_ids).order_by("id").values("id", "text", "language")
    for batch in batched(articles.iterator(chunk_size=BATCH), BATCH):
        kept.read(batch)
        for article in batch:
            if not kept.has(article):
                kept.article(article)
        made += len(kept.made)
        kept.save()
    return made
