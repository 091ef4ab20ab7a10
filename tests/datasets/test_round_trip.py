"""Snapshot files imported into a new project give back the same articles and annotations."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.datasets.imports import ImportFailed, doccano_import, snapshot_jsonl_import
from annotator.labelling.models import Annotation, Change, Span
from annotator.projects.models import Membership
from tests.factories import UserFactory, make_project

from .conftest import EMOJI_TEXT, FAMILY
from .helpers import annotate, article, build, link, split_files

pytestmark = pytest.mark.django_db


PROVENANCE = ("created", "updated")


def comparable(snapshot):
    """Every record of a JSONL snapshot without its ids and times (an import makes new rows, now):
    relations point at span offsets instead."""
    records = []
    for path in split_files(snapshot, "jsonl").values():
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("id")
            for annotation in record["annotations"]:
                annotation.pop("id")
                for key in PROVENANCE:
                    annotation.pop(key)
                    for span in annotation["spans"]:
                        span.pop(key)
                by_id = {s.pop("id"): (s["start"], s["end"], s["label"]) for s in annotation["spans"]}
                annotation["relations"] = sorted(
                    (r["type"], by_id[r["source"]], by_id[r["target"]]) for r in annotation["relations"]
                )
            records.append(record)
    return sorted(records, key=lambda r: r["sha256"])


@pytest.fixture
def labelled(project, analyst, admin_user):
    second = UserFactory(username="zed")
    Membership.objects.create(project=project, user=second, role=Membership.Role.ANALYST)
    english = article(project, "Lavrov said “the West is trying”.\nThe ministry agreed.", source="TASS",
                      url="https://example.org/a", published="2024-03-01", metadata={"feed": "tass"})
    emoji = article(project, EMOJI_TEXT, title="Emoji", language="")
    a = annotate(english, analyst, [("Quote", "the West is trying"), ("Source", "Lavrov")], topics=["Armenia", "Other"], stances={"the West": "critical"}, submit=False)
    link(project, "speaker", a.made_spans[0], a.made_spans[1], actor=analyst)
    from annotator.labelling import services

    services.span_update(span=a.made_spans[0], label=a.made_spans[0].label, attributes={"speaker": "Lavrov", "stance": "critical"}, actor=analyst)
    services.annotation_submit(annotation=a, actor=analyst)
    annotate(english, second, [("Claim", "trying”.\nThe ministry")], topics=["Syria"])
    annotate(emoji, analyst, [("Source", FAMILY), ("Claim", "🇦🇲"), ("Claim", "q\u0307 مُحَمَّد")])
    annotate(emoji, second, [("Quote", "NATO is expanding")], stances={"NATO": "neutral"})
    annotate(english, admin_user, [("Source", "Lavrov")], topics=["Armenia"], gold=True)
    return second


def new_project(*users, name="Imported"):
    project = make_project(name=name)
    for user in users:
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return project


class TestJsonl:
    def test_every_analyst_snapshot_round_trips(self, project, analyst, admin_user, labelled):
        original = build(project, admin_user, scope="analysts", formats=["jsonl"])
        target = new_project(analyst, labelled)
        for path in split_files(original, "jsonl").values():
            snapshot_jsonl_import(project=target, data=path.read_bytes())
        again = build(target, admin_user, scope="analysts", formats=["jsonl"])
        assert comparable(again) == comparable(original)
        assert len(comparable(again)) == 2
        # Each annotation's history holds its import, with every span it brought.
        imports = Change.objects.filter(annotation__article__project=target, subject="annotation", action="import")
        assert sum(len(change.after["spans"]) for change in imports) == 7
        assert imports.count() == Annotation.objects.filter(article__project=target).count()
        assert Annotation.objects.filter(article__project=target, status="submitted").count() == 4

    def test_gold_snapshot_round_trips_by_the_reviewer(self, project, admin_user, labelled):
        original = build(project, admin_user, scope="gold", formats=["jsonl"])
        target = make_project(name="Gold copy", admin=admin_user)
        for path in split_files(original, "jsonl").values():
            snapshot_jsonl_import(project=target, data=path.read_bytes())
        assert comparable(build(target, admin_user, scope="gold", formats=["jsonl"])) == comparable(original)

    def test_the_download_round_trips_too_and_the_command_imports_it(self, project, analyst, admin_user, labelled, client, tmp_path):
        client.force_login(admin_user)
        response = client.get(f"/p/{project.id}/export.jsonl")
        path = tmp_path / "all.jsonl"
        path.write_bytes(b"".join(response.streaming_content))
        target = new_project(analyst, labelled)
        Membership.objects.create(project=target, user=admin_user, role=Membership.Role.REVIEWER)
        call_command("import_annotations", str(target.id), str(path), "--format", "jsonl")
        for scope in ("analysts", "gold"):
            assert comparable(build(target, admin_user, scope=scope, formats=["jsonl"])) == comparable(
                build(project, admin_user, scope=scope, formats=["jsonl"])
            )

    def test_agreed_snapshot_imports_as_gold_by_a_user(self, project, analyst, admin_user, labelled):
        english = project.articles.get(source="TASS")
        same = article(project, "Shoigu visited Damascus.")
        annotate(same, analyst, [("Source", "Shoigu")], topics=["Syria"])
        annotate(same, labelled, [("Source", "Shoigu")], topics=["Syria", "Other"])
        original = build(project, admin_user, scope="agreed", formats=["jsonl"])
        [data] = [p.read_bytes() for p in split_files(original, "jsonl").values()]
        target = make_project(name="Agreed", admin=admin_user)
        with pytest.raises(ImportFailed, match="1 problem"):
            snapshot_jsonl_import(project=target, data=data)
        snapshot_jsonl_import(project=target, data=data, gold_by=admin_user)
        gold = Annotation.objects.get(article__project=target, kind="gold")
        assert gold.annotator == admin_user and gold.status == "submitted"
        assert [(s.label.name, s.text) for s in gold.spans.all()] == [("Source", "Shoigu")]
        assert list(gold.topics.values_list("name", flat=True)) == ["Syria"]
        assert not target.articles.filter(sha256=english.sha256).exists()

    def test_unknown_users_labels_and_mismatched_offsets_import_nothing(self, project, analyst, admin_user, labelled):
        original = build(project, admin_user, scope="analysts", formats=["jsonl"])
        lines = [json.loads(line) for p in split_files(original, "jsonl").values() for line in p.read_text(encoding="utf-8").splitlines()]
        lines[0]["annotations"][0]["spans"][0]["start"] += 1
        lines[0]["annotations"][0]["spans"][0]["end"] += 1
        lines[-1]["annotations"][-1]["spans"][0]["label"] = "Person"
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
        target = new_project(analyst)  # zed is not a member
        with pytest.raises(ImportFailed) as failed:
            snapshot_jsonl_import(project=target, data=data)
        problems = "\n".join(failed.value.problems)
        assert "“zed” is not a member of this project" in problems
        assert "unknown span label “Person”" in problems
        assert "does not match the article" in problems
        assert not target.articles.exists() and not Annotation.objects.filter(article__project=target).exists()

    def test_existing_articles_get_the_annotations_but_existing_work_is_never_merged(self, project, analyst, admin_user, labelled):
        original = build(project, admin_user, scope="analysts", formats=["jsonl"])
        data = b"".join(p.read_bytes() for p in split_files(original, "jsonl").values())
        target = new_project(analyst, labelled)
        article(target, "Lavrov said “the West is trying”.\nThe ministry agreed.")
        result = snapshot_jsonl_import(project=target, data=data)
        assert (result.articles_created, result.articles_matched, result.annotations) == (1, 1, 4)
        with pytest.raises(ImportFailed, match="problem"):
            snapshot_jsonl_import(project=target, data=data)
        assert target.articles.count() == 2 and Annotation.objects.filter(article__project=target).count() == 4


class TestDoccano:
    def test_spans_and_topics(self, admin_user):
        target = make_project(name="doccano", admin=admin_user)
        text = "Lavrov said NATO 👩‍👩‍👧 is expanding."
        rows = [
            {"text": text, "label": [[0, 6, "Source"], [17, 22, "Source"], [12, 16, "Claim"], "Armenia"]},
            {"text": "Shoigu met Blinken.", "entities": [{"id": 7, "start_offset": 0, "end_offset": 6, "label": "Source"},
                                                       {"id": 8, "start_offset": 11, "end_offset": 18, "label": "Quote"}],
             "relations": [{"from_id": 8, "to_id": 7, "type": "speaker"}]},
        ]
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        result = doccano_import(project=target, data=data, gold_by=admin_user)
        assert (result.articles_created, result.spans) == (2, 5)
        first = Annotation.objects.get(article__text=text, kind="gold")
        assert [(s.start, s.end, s.label.name, s.text) for s in first.spans.all()] == [
            (0, 6, "Source", "Lavrov"), (12, 16, "Claim", "NATO"), (17, 22, "Source", "👩‍👩‍👧"),
        ]
        assert list(first.topics.values_list("name", flat=True)) == ["Armenia"]
        second = Annotation.objects.get(article__text="Shoigu met Blinken.")
        assert [(r.type.name, r.source.text, r.target.text) for r in second.relations.all()] == [("speaker", "Blinken", "Shoigu")]

    def test_offsets_past_the_text_or_bad_lines_import_nothing(self, admin_user):
        target = make_project(name="doccano", admin=admin_user)
        data = b'{"text": "Short.", "label": [[0, 60, "Claim"]]}\n{"text": "Fine.", "label": [[0, 4, "Claim"]]}\n'
        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=target, data=data, gold_by=admin_user)
        assert failed.value.problems == ["line 1: The span [0, 60) is not inside the article (which has 6 characters)."]
        with pytest.raises(ImportFailed, match="problem"):
            doccano_import(project=target, data=b"{not json\n", gold_by=admin_user)
        assert not target.articles.exists()

    def test_command(self, admin_user, tmp_path, capsys):
        target = make_project(name="cmd", admin=admin_user)
        path = tmp_path / "doccano.jsonl"
        path.write_text('{"text": "Lavrov spoke.", "label": [[0, 6, "Source"]]}\n', encoding="utf-8")
        with pytest.raises(CommandError, match="--gold-by"):
            call_command("import_annotations", str(target.id), str(path), "--format", "doccano")
        call_command("import_annotations", str(target.id), str(path), "--format", "doccano", "--gold-by", admin_user.username)
        assert Span.objects.get(annotation__article__project=target).text == "Lavrov"
        path.write_text('{"text": "Lavrov spoke.", "label": [[0, 5, "Nobody"]]}\n', encoding="utf-8")
        other = make_project(name="cmd2", admin=admin_user)
        with pytest.raises(CommandError, match="unknown span label"):
            call_command("import_annotations", str(other.id), str(path), "--format", "doccano", "--gold-by", admin_user.username)
        assert not other.articles.exists()
