"""labelling 0002 drops only what another index or check already gives, on both databases."""

import pytest
from django.db import IntegrityError, transaction

from tests.reliability.test_migrations import migrate, scratch_database  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

OWN_INDEXES = {
    "labelling_annotation": "labelling_annotation_article_id_d3eb4dab",
    "labelling_change": "labelling_change_annotation_id_32a59c2f",
    "labelling_span": "labelling_span_annotation_id_f2135e29",
}


def constraints(database, table: str) -> dict[str, dict]:
    with database.cursor() as cursor:
        return database.introspection.get_constraints(cursor, table)


def single_column_indexes(database, table: str, column: str) -> set[str]:
    return {
        name for name, c in constraints(database, table).items()
        if c["columns"] == [column] and c["index"] and not c["primary_key"]
    }


def leading(database, table: str, column: str) -> set[tuple[str, ...]]:
    """The columns of every index (a unique constraint's too) on `table` whose first column is `column`."""
    return {
        tuple(c["columns"]) for c in constraints(database, table).values()
        if (c["index"] or c["unique"]) and c["columns"][:1] == [column]
    }


def test_the_own_indexes_go_and_every_other_index_and_check_stays(scratch_database):
    database = scratch_database
    migrate(database, [("labelling", "0001_initial")])
    for table, name in OWN_INDEXES.items():
        assert name in constraints(database, table)
    gold = {"annotation_one_gold", "annotation_unique_annotator"}
    assert gold <= set(constraints(database, "labelling_annotation"))

    apps = migrate(database, [("labelling", "0002_redundant_indexes_and_check")])
    for table, name in OWN_INDEXES.items():
        assert name not in constraints(database, table)
    # What serves the look-ups by those columns now; the partial unique indexes are untouched.
    assert ("article_id", "kind", "status") in leading(database, "labelling_annotation", "article_id")
    assert single_column_indexes(database, "labelling_annotation", "article_id") == {"annotation_one_gold"}
    assert gold <= set(constraints(database, "labelling_annotation"))
    assert {("annotation_id", "start"), ("annotation_id", "client_id")} <= leading(database, "labelling_span", "annotation_id")
    assert ("annotation_id", "created_at") in leading(database, "labelling_change", "annotation_id")
    assert "span_start_not_negative" not in constraints(database, "labelling_span")
    for name in ("span_start_before_end", "span_text_length_matches", "span_unique_client_id"):
        assert name in constraints(database, "labelling_span")
    foreign_keys = {tuple(c["columns"]) for c in constraints(database, "labelling_span").values() if c["foreign_key"]}
    assert ("annotation_id",) in foreign_keys

    # A negative start is still refused, by the positive field's own CHECK.
    User = apps.get_model("auth", "User").objects.using(database.alias)
    user = User.create(username="analyst", password="!")
    project = apps.get_model("projects", "Project").objects.using(database.alias).create(name="P", overlap=1)
    label = apps.get_model("projects", "SpanLabel").objects.using(database.alias).create(
        project=project, name="Claim", colour="#1f77b4", hotkey="c", order=0
    )
    article = apps.get_model("corpus", "Article").objects.using(database.alias).create(
        project=project, title="t", text="Some text", sha256="0" * 64
    )
    annotation = apps.get_model("labelling", "Annotation").objects.using(database.alias).create(
        article=article, annotator=user, kind="analyst", status="in_progress"
    )
    Span = apps.get_model("labelling", "Span").objects.using(database.alias)
    with pytest.raises(IntegrityError), transaction.atomic(using=database.alias):
        Span.create(annotation=annotation, label=label, start=-1, end=3, text="Some", client_id="0" * 32)
    Span.create(annotation=annotation, label=label, start=0, end=4, text="Some", client_id="1" * 32)

    migrate(database, [("labelling", "0001_initial")])
    for table, name in OWN_INDEXES.items():
        assert name in constraints(database, table)
    assert "span_start_not_negative" in constraints(database, "labelling_span")
