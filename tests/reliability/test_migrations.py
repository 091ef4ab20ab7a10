"""Migrating a database made by the first release loses nothing (issue 6, "nothing lost").

A scratch database (beside the test database, of the same kind) is migrated to the first
migration of every project app, filled through the historical models of that state (a
project and its schema, articles in English, Arabic and emoji, spans, relations, topics,
stance, a change record, a snapshot), then migrated to the newest state. Every table keeps its
rows; every article keeps its text and SHA-256; every span still covers exactly its text.
Nothing here names a later migration, so it checks each one as it is added.
"""

import hashlib
import uuid
from pathlib import Path

import pytest
from django.apps import apps as current_apps
from django.conf import settings
from django.db import connection, connections
from django.db.utils import load_backend
from django.db.migrations.executor import MigrationExecutor

from annotator.corpus.text import normalise

pytestmark = pytest.mark.django_db(transaction=True)

ALIAS = "migration_check"
SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"
FAMILY = "👩\u200d👩\u200d👧"
TEXTS = {
    "english": normalise((SEEDS / "000_ae679646e52ec00c.txt").read_text(encoding="utf-8")),
    "arabic": normalise((SEEDS / "002_fbed2bf9dc136266.txt").read_text(encoding="utf-8")),
    "emoji": f"{FAMILY} Lavrov said “NATO is expanding” 🇦🇲.\r\nq\u0307 مُحَمَّد replied.".replace("\r\n", "\n"),
}
PHRASES = {
    "english": None,  # the seed's first word of five letters or more, found below
    "arabic": ["سيرغي لافروف", "الدول الغربية التي تتودد الآن إلى أرمينيا"],
    "emoji": [FAMILY, "🇦🇲", "q\u0307 مُحَمَّد", "NATO is expanding"],
}


ADDED_SINCE_THE_FIRST_RELEASE = {"suggestions", "training"}


def project_apps() -> list[str]:
    return sorted(c.label for c in current_apps.get_app_configs() if c.name.startswith("annotator."))


@pytest.fixture
def scratch_database(tmp_path):
    """An empty database of the test database's kind, reachable as connections[ALIAS]."""
    default = connection.settings_dict
    sqlite = default["ENGINE"] == "django.db.backends.sqlite3"
    name = str(tmp_path / "migrations.sqlite3") if sqlite else f"{default['NAME']}_migrations"
    if not sqlite:
        with connection.cursor() as cursor:  # autocommit: CREATE DATABASE cannot run in a transaction
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    # Made here rather than declared in settings: Django lets a test use a connection it creates itself.
    database = load_backend(default["ENGINE"]).DatabaseWrapper({**default, "NAME": name}, ALIAS)
    connections[ALIAS] = database
    try:
        yield database
    finally:
        database.close()
        del connections[ALIAS]
        if not sqlite:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def migrate(database, targets):
    executor = MigrationExecutor(database)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied now
    return executor.loader.project_state(targets).apps


def fill(apps, using: str) -> None:
    """One of everything, through the models as the first migrations made them."""

    def model(label):
        return apps.get_model(label).objects.using(using)

    User = apps.get_model(settings.AUTH_USER_MODEL)
    analyst = User.objects.using(using).create(username="analyst", password="!")
    reviewer = User.objects.using(using).create(username="reviewer", password="!")
    project = model("projects.Project").create(name="First release", overlap=2)
    for user, role in ((analyst, "analyst"), (reviewer, "reviewer")):
        model("projects.Membership").create(project=project, user=user, role=role)
    labels = {}
    for order, (name, colour, key) in enumerate(
        [("Claim", "#1f77b4", "c"), ("Quote", "#d62728", "q"), ("Source", "#2ca02c", "s")]
    ):
        labels[name] = model("projects.SpanLabel").create(
            project=project, name=name, colour=colour, hotkey=key, order=order
        )
    model("projects.SpanAttribute").create(label=labels["Quote"], name="speaker", kind="text")
    speaker = model("projects.RelationType").create(
        project=project, name="speaker", source_label=labels["Quote"], target_label=labels["Source"]
    )
    topics = [
        model("projects.Topic").create(project=project, name=name, order=order)
        for order, name in enumerate(["Armenia", "Syria"])
    ]
    critical = model("projects.StanceValue").create(project=project, name="critical")
    west = model("projects.StanceTarget").create(project=project, name="the West")

    english_word = next(w for w in TEXTS["english"].split() if len(w) >= 5 and w.isalpha())
    for key, text in TEXTS.items():
        article = model("corpus.Article").create(
            project=project, title=key, text=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
            language={"english": "en", "arabic": "ar"}.get(key, ""), metadata={"seed": key},
        )
        for annotator, kind in ((analyst, "analyst"), (reviewer, "gold")):
            annotation = model("labelling.Annotation").create(
                article=article, annotator=annotator, kind=kind, status="submitted", version=3
            )
            annotation.topics.add(*topics)
            model("labelling.Stance").create(annotation=annotation, target=west, value=critical)
            spans = []
            for n, phrase in enumerate(PHRASES[key] or [english_word]):
                start = text.index(phrase)
                label = labels["Quote"] if n == 0 else labels["Source"]
                spans.append(model("labelling.Span").create(
                    annotation=annotation, label=label, start=start, end=start + len(phrase), text=phrase,
                    attributes={"speaker": "سيرغي لافروف"} if n == 0 else {}, client_id=uuid.uuid4(),
                ))
            if len(spans) > 1:
                model("labelling.Relation").create(
                    annotation=annotation, type=speaker, source=spans[0], target=spans[1]
                )
            model("labelling.Change").create(
                annotation=annotation, actor=annotator, action="create", subject="span", subject_id=spans[0].id,
                after={"label": spans[0].label.name, "start": spans[0].start, "end": spans[0].end,
                       "text": spans[0].text},
            )
    snapshot = model("datasets.Snapshot").create(
        project=project, created_by=reviewer, status="ready", parameters={"scope": "gold", "formats": ["jsonl"]},
        counts={"articles": 3}, progress_done=7, progress_total=7,
    )
    model("datasets.SnapshotFile").create(
        snapshot=snapshot, name="train.jsonl", format="jsonl", size=10, sha256="0" * 64,
        path=f"{project.id}/x/train.jsonl",
    )
    model("api.ApiToken").create(user=analyst, name="crawler", prefix="ann_abcd", key_hash="a" * 64)


def tables(apps) -> list[tuple[str, str]]:
    """(app label, model name) of every table of the project apps, the many-to-many ones included."""
    return sorted(
        (m._meta.app_label, m._meta.model_name)
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in project_apps() and not m._meta.proxy
    )


def contents(apps, using: str, names) -> dict:
    Article = apps.get_model("corpus", "Article")
    Span = apps.get_model("labelling", "Span")
    return {
        "rows": {name: apps.get_model(*name).objects.using(using).count() for name in names},
        "articles": sorted(Article.objects.using(using).values_list("id", "sha256", "text")),
        "spans": sorted(
            Span.objects.using(using).values_list("id", "annotation__article_id", "label_id", "start", "end", "text")
        ),
    }


def test_migrating_from_the_first_release_keeps_every_row_and_offset(scratch_database):
    graph = MigrationExecutor(scratch_database).loader.graph
    # An app added since (suggestions, training: their first migrations need today's labelling) starts empty,
    # and is made with the rest.
    first = [(app, min(graph.root_nodes(app))[1]) for app in project_apps() if graph.root_nodes(app)
             and app not in ADDED_SINCE_THE_FIRST_RELEASE]
    assert {app for app, _ in first} >= {"projects", "corpus", "labelling", "datasets"}

    old_apps = migrate(scratch_database, first)
    fill(old_apps, ALIAS)
    names = tables(old_apps)
    before = contents(old_apps, ALIAS, names)
    assert all(count > 0 for count in before["rows"].values()), before["rows"]
    # labelling 0005 takes the typed speaker off each quote linked to its speaker, and records
    # each removal in the history: one change more for each.
    relations = old_apps.get_model("labelling", "Relation").objects.using(ALIAS).select_related("type", "source")
    speakers_said_twice = sum(1 for r in relations if r.type.name in r.source.attributes)
    assert speakers_said_twice == 4

    new_apps = migrate(scratch_database, graph.leaf_nodes())
    after = contents(new_apps, ALIAS, names)

    before["rows"][("labelling", "change")] += speakers_said_twice
    assert after == before
    texts = {article_id: text for article_id, _, text in after["articles"]}
    for article_id, sha256, text in after["articles"]:
        assert hashlib.sha256(text.encode()).hexdigest() == sha256
    for _, article_id, _, start, end, text in after["spans"]:
        assert texts[article_id][start:end] == text
    assert {"سيرغي لافروف", FAMILY, "🇦🇲", "q\u0307 مُحَمَّد"} <= {span[-1] for span in after["spans"]}

    # The current code reads what the first release wrote.
    from annotator.labelling.models import Span

    assert Span.objects.using(ALIAS).count() == len(after["spans"])
    for span in Span.objects.using(ALIAS).select_related("annotation__article"):
        assert span.annotation.article.text[span.start : span.end] == span.text
