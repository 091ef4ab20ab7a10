"""labelling migrations: 0002 drops only what another index or check already gives; 0005 says a speaker once."""

import uuid

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


def test_speaker_once_keeps_the_link_and_records_the_removed_free_text(scratch_database):
    """labelling 0005: a quote linked to its speaker loses its free-text `speaker`, with a history record."""
    database = scratch_database
    apps = migrate(database, [("labelling", "0004_span_review")])

    def model(label):
        return apps.get_model(label).objects.using(database.alias)

    user = model("auth.User").create(username="analyst", password="!")
    project = model("projects.Project").create(name="P", overlap=1)
    quote_label = model("projects.SpanLabel").create(project=project, name="Quote", colour="#d62728", hotkey="q", order=0)
    source_label = model("projects.SpanLabel").create(project=project, name="Source", colour="#2ca02c", hotkey="s", order=1)
    speaker = model("projects.RelationType").create(
        project=project, name="speaker", source_label=quote_label, target_label=source_label
    )
    text = "لافروف قال: «الغرب يحاول». Lavrov said “no”, and “yes”."
    article = model("corpus.Article").create(project=project, title="t", text=text, sha256="0" * 64)
    annotation = model("labelling.Annotation").create(article=article, annotator=user, kind="analyst", status="submitted")

    def span(label, phrase, attributes):
        start = text.index(phrase)
        return model("labelling.Span").create(
            annotation=annotation, label=label, start=start, end=start + len(phrase), text=phrase, attributes=attributes,
            client_id=uuid.uuid4(),
        )

    linked = span(quote_label, "الغرب يحاول", {"speaker": "Sergei Lavrov", "stance": "critical"})
    named = span(source_label, "لافروف", {})
    unlinked = span(quote_label, "yes", {"speaker": "an unnamed official"})  # nobody named in the text: kept
    model("labelling.Relation").create(annotation=annotation, type=speaker, source=linked, target=named)

    apps = migrate(database, [("labelling", "0005_speaker_once")])
    Span = apps.get_model("labelling.Span").objects.using(database.alias)
    assert Span.get(pk=linked.pk).attributes == {"stance": "critical"}
    assert Span.get(pk=unlinked.pk).attributes == {"speaker": "an unnamed official"}
    assert apps.get_model("labelling.Relation").objects.using(database.alias).count() == 1
    [change] = apps.get_model("labelling.Change").objects.using(database.alias).all()
    assert (change.action, change.subject, change.subject_id, change.actor_id) == ("update", "span", linked.pk, user.pk)
    assert change.before["attributes"] == {"speaker": "Sergei Lavrov", "stance": "critical"}
    assert change.after["attributes"] == {"stance": "critical"}
    assert "“لافروف”" in change.reason and "“Sergei Lavrov” was removed" in change.reason
    assert apps.get_model("labelling.Annotation").objects.using(database.alias).get().version == 2

    apps = migrate(database, [("labelling", "0004_span_review")])
    Span = apps.get_model("labelling.Span").objects.using(database.alias)
    assert Span.get(pk=linked.pk).attributes == {"speaker": "Sergei Lavrov", "stance": "critical"}
    assert not apps.get_model("labelling.Change").objects.using(database.alias).exists()


def test_span_review_decisions_come_from_the_history(scratch_database):
    """labelling 0004: gold spans made before it get their decision from the reviewers' changes."""
    database = scratch_database
    apps = migrate(database, [("labelling", "0003_change_action_import")])

    def model(label):
        return apps.get_model(label).objects.using(database.alias)

    analysts = [model("auth.User").create(username=name, password="!") for name in ("ana", "bo")]
    reviewer = model("auth.User").create(username="rev", password="!")
    project = model("projects.Project").create(name="P", overlap=2)
    quote = model("projects.SpanLabel").create(project=project, name="Quote", colour="#d62728", hotkey="q", order=0)
    text = "Lavrov said “no”, and “yes”, and “maybe”."
    article = model("corpus.Article").create(project=project, title="t", text=text, sha256="0" * 64)

    def span(annotation, phrase):
        start = text.index(phrase)
        return model("labelling.Span").create(annotation=annotation, label=quote, start=start, end=start + len(phrase),
                                              text=phrase, client_id=uuid.uuid4())

    for analyst in analysts:
        work = model("labelling.Annotation").create(article=article, annotator=analyst, kind="analyst", status="submitted")
        span(work, "no")
    gold = model("labelling.Annotation").create(article=article, annotator=reviewer, kind="gold", status="submitted")
    accepted, edited, added, imported = span(gold, "no"), span(gold, "yes"), span(gold, "maybe"), span(gold, "Lavrov")
    for action, made in (("accept", accepted), ("accept", edited), ("update", edited), ("create", added)):
        model("labelling.Change").create(annotation=gold, actor=reviewer, action=action, subject="span", subject_id=made.pk)

    apps = migrate(database, [("labelling", "0004_span_review")])
    review = dict(apps.get_model("labelling.Span").objects.using(database.alias).filter(annotation__kind="gold")
                  .values_list("text", "review"))
    assert review == {
        "no": {"decision": "accepted", "from": ["ana", "bo"]},
        "yes": {"decision": "edited", "from": []},
        "maybe": {"decision": "added", "from": []},
        "Lavrov": None,  # imported gold: nobody recorded a decision
    }
