"""Provenance in every export: annotation and span ids, annotator, created/updated times, language.

The times are set to fixed values here, so each test knows the exact strings the files must hold.
"""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from annotator.datasets.formats import Output, csv_documents, label_studio
from annotator.datasets.records import article_records
from annotator.labelling.models import Annotation, Span
from annotator.projects.models import Membership
from tests.factories import UserFactory

from .helpers import annotate, article, build, file_path, split_files

pytestmark = pytest.mark.django_db

MADE = datetime(2025, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
CHANGED = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)


def stamp(annotation, made=MADE, changed=CHANGED):
    """Give an annotation and its spans known times (`auto_now` would set them to now)."""
    Annotation.objects.filter(pk=annotation.pk).update(created_at=made, updated_at=changed)
    Span.objects.filter(annotation=annotation).update(created_at=made, updated_at=changed)


@pytest.fixture
def labelled(project, analyst, admin_user):
    """An English article with a gold and an analyst annotation, an Arabic one with a gold only."""
    english = article(project, "Lavrov said “the West is trying”.", language="en")
    # The analyst's first: once the gold is reviewed, their annotation is read-only.
    mine = annotate(english, analyst, [("Source", "Lavrov")], topics=["Syria"])
    gold = annotate(english, admin_user, [("Source", "Lavrov"), ("Quote", "the West is trying")], topics=["Armenia"], gold=True)
    arabic = article(project, "قال سيرغي لافروف إن الغرب يحاول.", language="ar")
    arabic_gold = annotate(arabic, admin_user, [("Source", "سيرغي لافروف")], gold=True)
    stamp(gold)
    stamp(mine, made=CHANGED, changed=CHANGED)
    stamp(arabic_gold)
    return {"english": english, "arabic": arabic, "gold": gold, "mine": mine, "arabic_gold": arabic_gold}


def csv_rows(snapshot) -> list[dict]:
    rows = []
    for path in split_files(snapshot, "csv").values():
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def span_ids(annotation) -> list[int]:
    return list(annotation.spans.order_by("start", "-end", "id").values_list("id", flat=True))


class TestRecords:
    def test_annotations_and_spans_carry_their_ids_and_times(self, project, labelled):
        records = {r["id"]: r for r in article_records(project)}
        english = records[labelled["english"].id]
        assert english["language"] == "en" and records[labelled["arabic"].id]["language"] == "ar"
        gold, mine = english["annotations"]  # gold first, then analysts by name
        assert (gold["id"], gold["kind"], gold["annotator"]) == (labelled["gold"].id, "gold", "projectadmin")
        assert (mine["id"], mine["kind"], mine["annotator"]) == (labelled["mine"].id, "analyst", "analyst")
        assert (gold["created"], gold["updated"]) == ("2025-01-02T03:04:05.600000Z", "2025-02-03T04:05:06.000000Z")
        assert (mine["created"], mine["updated"]) == ("2025-02-03T04:05:06.000000Z", "2025-02-03T04:05:06.000000Z")
        assert [s["id"] for s in gold["spans"]] == span_ids(labelled["gold"])
        assert [(s["label"], s["created"], s["updated"]) for s in gold["spans"]] == [
            ("Source", "2025-01-02T03:04:05.600000Z", "2025-02-03T04:05:06.000000Z"),
            ("Quote", "2025-01-02T03:04:05.600000Z", "2025-02-03T04:05:06.000000Z"),
        ]
        # Parsed back, the strings are the database's instants, in UTC.
        assert datetime.fromisoformat(gold["spans"][0]["created"]) == MADE

    def test_times_as_the_database_keeps_them_are_the_same_instants(self, project, analyst):
        # Not stamped: the times `auto_now` gave, microseconds and all, through the database's own formatting.
        fresh = annotate(article(project, "Shoigu visited Damascus."), analyst, [("Source", "Shoigu")])
        fresh.refresh_from_db()
        [span] = fresh.spans.all()
        [annotation] = next(r for r in article_records(project) if r["id"] == fresh.article_id)["annotations"]
        assert annotation["created"].endswith("Z") and len(annotation["created"]) == len("2025-01-02T03:04:05.600000Z")
        assert datetime.fromisoformat(annotation["created"]) == fresh.created_at
        assert datetime.fromisoformat(annotation["updated"]) == fresh.updated_at
        assert datetime.fromisoformat(annotation["spans"][0]["created"]) == span.created_at
        assert datetime.fromisoformat(annotation["spans"][0]["updated"]) == span.updated_at

    def test_a_span_changed_later_keeps_its_own_times(self, project, labelled):
        source = labelled["gold"].spans.get(label__name="Source")
        later = datetime(2025, 6, 1, tzinfo=UTC)
        Span.objects.filter(pk=source.pk).update(updated_at=later)
        [record] = [r for r in article_records(project) if r["id"] == labelled["english"].id]
        spans = {s["id"]: s for s in record["annotations"][0]["spans"]}
        assert spans[source.id]["updated"] == "2025-06-01T00:00:00.000000Z"
        assert spans[source.id]["created"] == "2025-01-02T03:04:05.600000Z"
        assert {s["updated"] for i, s in spans.items() if i != source.id} == {"2025-02-03T04:05:06.000000Z"}

    def test_the_agreed_consensus_has_no_id_or_time_of_its_own(self, project, analyst, admin_user):
        second = UserFactory(username="zed")
        Membership.objects.create(project=project, user=second, role=Membership.Role.ANALYST)
        same = article(project, "Shoigu visited Damascus.")
        first = annotate(same, analyst, [("Source", "Shoigu")])
        annotate(same, second, [("Source", "Shoigu")])
        stamp(first)
        snapshot = build(project, admin_user, scope="agreed", formats=["jsonl", "csv", "label-studio"])
        [line] = [line for p in split_files(snapshot, "jsonl").values() for line in p.read_text(encoding="utf-8").splitlines()]
        [consensus] = json.loads(line)["annotations"]
        assert (consensus["id"], consensus["created"], consensus["updated"]) == (None, None, None)
        assert consensus["agreed_by"] == ["analyst", "zed"]
        # Its spans are the first analyst's: their ids and times.
        assert [(s["id"], s["created"]) for s in consensus["spans"]] == [(span_ids(first)[0], "2025-01-02T03:04:05.600000Z")]
        [row] = csv_rows(snapshot)
        assert (row["annotation_id"], row["created"], row["updated"], row["annotator"]) == ("", "", "", "analyst+zed")
        [task] = json.loads(file_path(snapshot, "label_studio.json").read_text(encoding="utf-8"))
        [annotation] = task["annotations"]
        assert (annotation["id"], annotation["created_at"], annotation["updated_at"]) == (None, None, None)


class TestFiles:
    @pytest.fixture
    def snapshot(self, project, admin_user, labelled):
        return build(project, admin_user, scope="analysts", formats=["jsonl", "csv", "label-studio"])

    def test_jsonl_lines_hold_the_records_provenance(self, snapshot, labelled):
        lines = [json.loads(line) for p in split_files(snapshot, "jsonl").values() for line in p.read_text(encoding="utf-8").splitlines()]
        [english] = lines  # the analysts' scope: only the English article has an analyst's work
        [mine] = english["annotations"]
        assert english["language"] == "en"
        assert (mine["id"], mine["annotator"], mine["created"], mine["updated"]) == (
            labelled["mine"].id, "analyst", "2025-02-03T04:05:06.000000Z", "2025-02-03T04:05:06.000000Z",
        )
        assert [(s["id"], s["created"], s["updated"]) for s in mine["spans"]] == [
            (span_ids(labelled["mine"])[0], "2025-02-03T04:05:06.000000Z", "2025-02-03T04:05:06.000000Z")
        ]

    def test_label_studio_annotations_use_its_own_fields(self, snapshot, labelled):
        [task] = json.loads(file_path(snapshot, "label_studio.json").read_text(encoding="utf-8"))
        [annotation] = task["annotations"]
        assert task["data"]["language"] == "en"
        assert annotation["id"] == labelled["mine"].id
        assert (annotation["created_at"], annotation["updated_at"]) == ("2025-02-03T04:05:06.000000Z", "2025-02-03T04:05:06.000000Z")
        # Label Studio refuses an import whose completed_by names none of its users: left out.
        assert "completed_by" not in annotation
        assert annotation["meta"]["annotator"] == "analyst" and annotation["meta"]["kind"] == "analyst"
        [region] = [r for r in annotation["result"] if r["type"] == "labels"]
        [span_id] = span_ids(labelled["mine"])
        assert region["id"] == f"s{span_id}"
        assert annotation["meta"]["regions"] == {
            f"s{span_id}": {"created": "2025-02-03T04:05:06.000000Z", "updated": "2025-02-03T04:05:06.000000Z", "review": None}
        }

    def test_csv_rows_name_the_annotation_and_its_times(self, project, admin_user, labelled):
        snapshot = build(project, admin_user, scope="gold", formats=["csv"])
        rows = csv_rows(snapshot)
        by_article = {int(r["article_id"]): r for r in rows}
        english, arabic = by_article[labelled["english"].id], by_article[labelled["arabic"].id]
        assert (english["annotation_id"], english["annotator"], english["kind"]) == (str(labelled["gold"].id), "projectadmin", "gold")
        assert (english["created"], english["updated"]) == ("2025-01-02T03:04:05.600000Z", "2025-02-03T04:05:06.000000Z")
        assert (arabic["annotation_id"], arabic["language"]) == (str(labelled["arabic_gold"].id), "ar")


def record(**annotation_keys) -> dict:
    """A record as another branch may make it: the gold span's review decision, or no provenance at all."""
    annotation = {
        "annotator": "admin", "kind": "gold", "status": "submitted", "relations": [], "topics": [], "stance": {},
        "spans": [{"id": 7, "start": 0, "end": 6, "label": "Source", "text": "Lavrov", "attributes": {}, **annotation_keys.pop("span", {})}],
        **annotation_keys,
    }
    return {"id": 1, "title": "t", "text": "Lavrov said.", "sha256": "0" * 64, "source": "", "url": "",
            "published": None, "language": "en", "metadata": {}, "annotations": [annotation]}


class TestWhateverTheRecordHolds:
    def test_label_studio_carries_a_gold_spans_review_decision(self):
        review = {"decision": "accepted", "from": ["ana", "bob"]}
        task = label_studio.task(record(span={"review": review, "created": "c", "updated": "u"}, id=3), "train")
        [annotation] = task["annotations"]
        assert annotation["meta"]["regions"] == {"s7": {"created": "c", "updated": "u", "review": review}}

    def test_a_record_without_provenance_gives_nulls_not_a_crash(self, tmp_path):
        [annotation] = label_studio.task(record(), "train")["annotations"]
        assert (annotation["id"], annotation["created_at"], annotation["updated_at"]) == (None, None, None)
        assert annotation["meta"]["regions"] == {"s7": {"created": None, "updated": None, "review": None}}

        output = Output(tmp_path)
        writer = csv_documents.Writer(output, {"topics": [], "stance_targets": []})
        writer.add(record(), "train")
        writer.close()
        output.finish()
        [row] = csv.DictReader(io.StringIO((tmp_path / "train.csv").read_text(encoding="utf-8")))
        assert (row["annotation_id"], row["created"], row["updated"], row["annotator"]) == ("", "", "", "admin")


def test_importing_the_jsonl_ignores_its_ids_and_times(project, analyst, admin_user, labelled):
    from annotator.datasets.imports import snapshot_jsonl_import
    from tests.factories import make_project

    snapshot = build(project, admin_user, scope="analysts", formats=["jsonl"])
    target = make_project(name="Copy", analyst=analyst)
    for path in split_files(snapshot, "jsonl").values():
        snapshot_jsonl_import(project=target, data=path.read_bytes())
    [copy] = Annotation.objects.filter(article__project=target)
    # New rows, made now: the file's ids and times describe the rows it was exported from.
    assert copy.id != labelled["mine"].id and copy.annotator == analyst
    assert copy.created_at > CHANGED and all(s.created_at > CHANGED for s in copy.spans.all())
    assert [s.text for s in copy.spans.all()] == ["Lavrov"]
