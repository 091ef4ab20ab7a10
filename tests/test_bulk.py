"""`annotator.bulk` writes what `bulk_create` writes (COPY on PostgreSQL), ids included."""

import json
from datetime import date

import pytest
from django.db import IntegrityError

from annotator import bulk
from annotator.corpus.models import Article
from annotator.corpus.services import article_import
from annotator.corpus.text import sha256
from annotator.projects.models import Project
from tests.factories import make_project

pytestmark = pytest.mark.django_db

BIG = 2**70  # beyond 64 bits: orjson refuses it, JSON does not


def test_imported_articles_are_the_rows_written_with_their_ids():
    project = make_project()
    rows = [
        {"text": "First\tstory,\nwith a tab and a line break \\ and a backslash.", "published": "2024-03-01",
         "metadata": {"n": BIG, "names": ["سيرغي لافروف", "👩\u200d👩\u200d👧"], "nested": {"none": None}}},
        {"text": "Second story.", "title": "Second", "url": "https://example.org/2", "language": "en", "tag": "extra"},
    ]
    data = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    report = article_import(project=project, files=[("two.jsonl", data)])
    assert not report.errors
    created = report.created
    assert [a.pk for a in created] == sorted(a.pk for a in created)
    stored = {a.pk: a for a in Article.objects.filter(project=project)}
    assert set(stored) == {a.pk for a in created}
    for article in created:
        row = stored[article.pk]
        assert article.created_at is not None and row.created_at == article.created_at
        fields = ("title", "text", "sha256", "source", "url", "published", "language", "metadata")
        assert {f: getattr(row, f) for f in fields} == {f: getattr(article, f) for f in fields}
    first = stored[created[0].pk]
    assert first.text == rows[0]["text"] and first.sha256 == sha256(first.text)
    assert first.published == date(2024, 3, 1)
    assert first.metadata == rows[0]["metadata"]
    assert stored[created[1].pk].metadata == {"tag": "extra"}
    # They are saved objects: saving again updates the row, it does not insert another.
    created[1].title = "Renamed"
    created[1].save()
    assert Article.objects.filter(project=project).count() == 2
    assert Article.objects.get(pk=created[1].pk).title == "Renamed"


def test_insert_returns_ids_in_row_order_and_refuses_what_the_constraints_refuse():
    project = make_project()
    # Every column, as COPY fills in no model default.
    fields = ["project_id", "title", "text", "sha256", "source", "url", "published", "language", "metadata", "created_at"]
    texts = ["one", "two", "three"]
    now = Project.objects.get(pk=project.pk).created_at
    ids = bulk.insert(Article, fields, [(project.pk, t, t, sha256(t), "", "", None, "", {}, now) for t in texts], returning=True)
    assert dict(Article.objects.filter(pk__in=ids).values_list("pk", "text")) == dict(zip(ids, texts))
    assert ids == sorted(ids)
    with pytest.raises(IntegrityError):
        bulk.insert(Article, fields, [(project.pk, "again", "one", sha256("one"), "", "", None, "", {}, now)])
    assert bulk.insert(Article, fields, []) == []


def test_the_collector_is_paused_for_a_block_or_a_function_and_back_as_it_was_after():
    import gc

    from annotator.bulk import collector_paused

    @collector_paused()
    def inside():
        return gc.isenabled()

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        assert not inside()
        assert not gc.isenabled()  # a pause inside a pause leaves it paused
    assert gc.isenabled() and inside() is False and gc.isenabled()
    try:
        with collector_paused():
            raise ValueError
    except ValueError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
