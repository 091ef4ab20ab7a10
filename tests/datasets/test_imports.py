"""The annotation import writes in bulk what the labelling services would write one by one,
checks everything they check before writing, and writes all of it or nothing."""

import codecs
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.datasets import imports
from annotator.datasets.imports import ImportFailed, snapshot_jsonl_import
from annotator.labelling import services
from annotator.labelling.models import Annotation, Change, Relation, Span
from tests.factories import make_project

from .conftest import FAMILY
from .helpers import article

pytestmark = pytest.mark.django_db

TEXT = f"Lavrov said “the West is trying” in Yerevan {FAMILY}.\nThe ministry agreed."


def jsonl(*records) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def span(key, phrase, label, text=TEXT, **attributes):
    start = text.index(phrase)
    return {"id": key, "start": start, "end": start + len(phrase), "label": label, "text": phrase, "attributes": attributes}


def record(annotations, text=TEXT, **fields):
    return {"text": text, "title": "Lavrov", "source": "TASS", **fields, "annotations": annotations}


def full_annotation(annotator, status="submitted"):
    return {
        "annotator": annotator,
        "kind": "analyst",
        "status": status,
        "spans": [
            span(1, "the West is trying", "Quote", speaker=" Lavrov ", stance="critical", ignored="dropped"),
            span(2, "Lavrov", "Source"),
            span(3, FAMILY, "Claim"),
        ],
        # The same link twice is one relation, as `relation_create` makes it once.
        "relations": [{"type": "speaker", "source": 1, "target": 2}, {"type": "speaker", "source": 1, "target": 2}],
        "topics": ["Syria", "Armenia", "Armenia"],
        "stance": {"NATO": "neutral", "the West": "critical"},
    }


def imported_history(annotation):
    """The import's one change, span and relation ids replaced by what they point at."""
    spans = {s.id: (s.start, s.end) for s in Span.objects.filter(annotation=annotation)}
    relations = {r.id: (r.type.name, spans[r.source_id], spans[r.target_id]) for r in Relation.objects.filter(annotation=annotation)}
    rows = []
    for change in Change.objects.filter(annotation=annotation).order_by("created_at", "id"):
        after = dict(change.after)
        after["spans"] = [{**item, "id": spans[item["id"]]} for item in after["spans"]]
        after["relations"] = [
            {**item, "id": relations[item["id"]], "source": spans[item["source"]], "target": spans[item["target"]]}
            for item in after["relations"]
        ]
        rows.append((change.actor.username, change.action, change.subject, change.subject_id == annotation.id, change.before, after, change.reason))
    return rows


def state(annotation):
    annotation.refresh_from_db()
    return {
        "kind": annotation.kind,
        "status": annotation.status,
        "skip_reason": annotation.skip_reason,
        "version": annotation.version,
        "submitted": annotation.submitted_at is not None,
        "spans": sorted((s.start, s.end, s.label.name, s.text, json.dumps(s.attributes, sort_keys=True)) for s in annotation.spans.all()),
        "relations": sorted((r.type.name, r.source.start, r.target.start) for r in annotation.relations.all()),
        "services": services.labels_state(annotation),
    }


def through_services(project, annotator, status):
    """What the import did before it wrote in bulk: every write through the labelling services."""
    target = article(project, TEXT)
    annotation = services.annotation_get_or_create(article=target, annotator=annotator)
    labels = {label.name: label for label in project.span_labels.all()}
    made = {}
    for item in full_annotation(annotator.username)["spans"]:
        made[item["id"]] = services.span_add(
            annotation=annotation, actor=annotator, label=labels[item["label"]], start=item["start"], end=item["end"],
            text=item["text"], attributes=item["attributes"], client_id=uuid.uuid4(),
        )
    speaker = project.relation_types.get(name="speaker")
    for _ in range(2):
        services.relation_create(relation_type=speaker, source=made[1], target=made[2], actor=annotator)
    services.document_labels_set(
        annotation=annotation, actor=annotator,
        topic_ids=list(project.topics.filter(name__in=["Syria", "Armenia"]).values_list("id", flat=True)),
        stances={project.stance_targets.get(name=t).id: project.stance_values.get(name=v).id
                 for t, v in {"NATO": "neutral", "the West": "critical"}.items()},
    )
    if status == "submitted":
        services.annotation_submit(annotation=annotation, actor=annotator)
    elif status == "skipped":
        services.annotation_skip(annotation=annotation, reason="Skipped before it was imported", actor=annotator)
    return annotation


@pytest.mark.parametrize("status", ["submitted", "skipped", "in_progress"])
def test_the_import_leaves_what_the_labelling_services_leave_and_one_change_for_it(analyst, status):
    by_services = through_services(make_project(name="By hand", analyst=analyst), analyst, status)
    imported_into = make_project(name="Imported", analyst=analyst)
    result = snapshot_jsonl_import(project=imported_into, data=jsonl(record([full_annotation("analyst", status)])))
    assert (result.articles_created, result.annotations, result.spans) == (1, 1, 3)
    imported = Annotation.objects.get(article__project=imported_into)
    expected = state(by_services)
    assert state(imported) == {**expected, "version": 2}
    # The quote is linked to its speaker: the speaker is the link, not the file's free text too.
    assert expected["spans"][1][4] == json.dumps({"stance": "critical"}, sort_keys=True)
    assert len({s.client_id for s in Span.objects.filter(annotation__article__project=imported_into)}) == 3
    # Its history: one change, the import, with everything it brought (attributes cleaned).
    quote, source, claim = (TEXT.index(p) for p in ("the West is trying", "Lavrov", FAMILY))
    quote, source, claim = (quote, quote + 18), (source, source + 6), (claim, claim + len(FAMILY))
    assert imported_history(imported) == [(
        "analyst", "import", "annotation", True, None,
        {
            "status": status,
            "spans": [
                {"id": quote, "label": "Quote", "start": quote[0], "end": quote[1], "text": "the West is trying",
                 "attributes": {"stance": "critical"}},
                {"id": source, "label": "Source", "start": source[0], "end": source[1], "text": "Lavrov", "attributes": {}},
                {"id": claim, "label": "Claim", "start": claim[0], "end": claim[1], "text": FAMILY, "attributes": {}},
            ],
            "relations": [{"id": ("speaker", quote, source), "type": "speaker", "source": quote, "target": source}],
            "topics": ["Armenia", "Syria"],
            "stance": {"NATO": "neutral", "the West": "critical"},
        },
        "Skipped before it was imported" if status == "skipped" else "",
    )]


def test_gold_by_a_user_is_written_by_that_user(analyst, admin_user):
    target = make_project(name="Gold", admin=admin_user)
    annotation = full_annotation("someone-not-here")
    snapshot_jsonl_import(project=target, data=jsonl(record([annotation])), gold_by=admin_user)
    gold = Annotation.objects.get(article__project=target)
    assert (gold.kind, gold.annotator, gold.status, gold.version) == ("gold", admin_user, "submitted", 2)
    assert list(Change.objects.filter(annotation=gold).values_list("actor__username", "action")) == [(admin_user.username, "import")]


def test_every_problem_is_listed_and_nothing_is_written(analyst):
    target = make_project(name="Refused", analyst=analyst)
    bad = full_annotation("analyst")
    bad["spans"][0]["attributes"] = {"stance": "loving"}
    bad["spans"][1]["attributes"] = {"speaker": 7}  # a Source has no speaker: dropped, as ever
    bad["spans"][2]["attributes"] = {"claimant": 7}
    bad["spans"][2]["start"] += 1  # one character on: no longer selects its text
    bad["spans"][2]["end"] += 1
    bad["relations"] = [
        {"type": "speaker", "source": 2, "target": 1},  # from a Source to a Quote: the wrong way round
        {"type": "speaker", "source": 1, "target": 1},
        {"type": "speaker", "source": 1, "target": 9},
    ]
    fine = record([full_annotation("analyst")], text="Shoigu met Blinken.")
    fine["annotations"][0].update(spans=[span(1, "Shoigu", "Source", "Shoigu met Blinken.")], relations=[])
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=jsonl(fine, record([bad])))
    moved = TEXT.index(FAMILY) + 1
    assert failed.value.problems == [
        "line 2: “loving” is not a valid stance.",
        "line 2: span attribute “claimant” must be text",
        f"line 2: The selected text does not match the article at [{moved}, {moved + len(FAMILY)}): "
        f"the article has “{TEXT[moved:moved + len(FAMILY)]}”, the browser sent “{FAMILY}”. Nothing was saved; reload the page.",
        "line 2: A “speaker” link goes from a Quote span to a Source span.",
        "line 2: A span cannot be linked to itself.",
        "line 2: a “speaker” relation links a span that is not in the annotation",
    ]
    assert not target.articles.exists()
    assert not Annotation.objects.filter(article__project=target).exists()
    assert not Change.objects.filter(annotation__article__project=target).exists()


@pytest.mark.parametrize("fails", [False, True])
def test_the_cycle_collector_is_off_while_an_import_runs_and_as_it_was_after(analyst, monkeypatch, fails):
    import gc

    target = make_project(name="Collector", analyst=analyst)
    seen = []
    checked = imports._check

    def check(*args):
        seen.append(gc.isenabled())
        users, problems = checked(*args)
        return users, problems + (["refused"] if fails else [])

    monkeypatch.setattr(imports, "_check", check)
    assert gc.isenabled()
    for importer, data, gold_by in [
        (imports.snapshot_jsonl_import, jsonl(record([full_annotation("analyst")])), None),
        # (Label Studio and doccano files without any annotation are refused: each brings a topic.)
        (imports.label_studio_import, json.dumps([{"data": {"text": "Another story."}, "annotations": [
            {"result": [{"type": "choices", "from_name": "topics", "value": {"choices": ["Syria"]}}]}]}]).encode(), analyst),
        (imports.doccano_import, jsonl({"text": "A third story.", "label": ["Syria"]}), analyst),
    ]:
        try:
            importer(project=target, data=data, gold_by=gold_by)
        except ImportFailed:
            assert fails
        assert gc.isenabled()
    assert seen == [False, False, False]
    gc.disable()
    try:
        imports.snapshot_jsonl_import(project=make_project(name="Collector off"), data=jsonl(record([])))
    except ImportFailed:
        assert fails
    finally:
        assert not gc.isenabled()  # left as it was
        gc.enable()


def test_an_article_the_article_rules_refuse_is_a_problem_at_its_line(analyst):
    target = make_project(name="Bad articles", analyst=analyst)
    data = jsonl(
        record([full_annotation("analyst")]),
        record([], text="Another story.", url="ftp://example.org/story"),
        record([], text="A third story.", title="Bell\u0007 in the title".encode().decode("unicode_escape")),
    )
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=data)
    assert failed.value.problems == [
        "line 2: url is not an http:// or https:// address ('ftp://example.org/story')",
        "line 3: contains a control character (such as \\u0000), which text cannot hold",
    ]
    assert not target.articles.exists() and not Annotation.objects.filter(article__project=target).exists()


def test_queries_do_not_grow_with_articles_or_spans(analyst):
    def queries(articles):
        target = make_project(name=f"Queries {articles}", analyst=analyst)
        records = []
        for n in range(articles):
            text = f"{TEXT} Story {n}."
            annotation = full_annotation("analyst")
            annotation["spans"] = [span(k, phrase, label, text) for k, phrase, label in
                                   [(1, "the West is trying", "Quote"), (2, "Lavrov", "Source"), (3, f"Story {n}", "Claim")]]
            records.append(record([annotation], text=text))
        with CaptureQueriesContext(connection) as captured:
            result = snapshot_jsonl_import(project=target, data=jsonl(*records))
        assert result.spans == 3 * articles
        return len(captured)

    assert queries(30) == queries(2)


def test_someone_annotating_during_the_import_makes_it_fail_cleanly(analyst, monkeypatch):
    target = make_project(name="Race", analyst=analyst)
    data = jsonl(record([full_annotation("analyst")]))
    checked = imports._check

    def check_then_someone_annotates(*args):
        users, problems = checked(*args)
        # Between the check and the write, the analyst starts the same article in the app.
        existing = article(target, TEXT)
        services.annotation_get_or_create(article=existing, annotator=analyst)
        return users, problems

    monkeypatch.setattr(imports, "_check", check_then_someone_annotates)
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=data)
    assert failed.value.problems == [
        "someone else annotated one of these articles while it was imported; nothing was imported"
    ]
    assert Annotation.objects.filter(article__project=target).count() == 1
    assert not Span.objects.filter(annotation__article__project=target).exists()


def test_the_command_imports_every_file_or_none(analyst, tmp_path):
    target = make_project(name="Two files", analyst=analyst)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(jsonl(record([full_annotation("analyst")])))
    wrong = full_annotation("analyst")
    wrong["spans"][0]["label"] = "Person"
    bad.write_bytes(jsonl(record([wrong], text="Another story about Lavrov said “the West is trying” in Yerevan.")))
    with pytest.raises(CommandError, match="unknown span label “Person”"):
        call_command("import_annotations", str(target.id), str(good), str(bad), "--format", "jsonl")
    assert not target.articles.exists() and not Change.objects.filter(annotation__article__project=target).exists()
    call_command("import_annotations", str(target.id), str(good), "--format", "jsonl")
    assert Span.objects.filter(annotation__article__project=target).count() == 3


def test_lines_that_are_not_json_are_each_listed_and_blank_lines_skipped(analyst):
    target = make_project(name="Not JSON", analyst=analyst)
    fine = jsonl(record([full_annotation("analyst")]))
    data = codecs.BOM_UTF8 + fine + b"\n  \n\xc2\xa0\xe2\x80\xa8\n" + b'{"text": "cut off\n' + b"{'text': 'quoted'}\n" + fine
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=data)
    assert [problem.split(" (")[0] for problem in failed.value.problems] == ["line 5: not JSON", "line 6: not JSON"]
    assert all(problem.endswith(")") and len(problem) > len("line 5: not JSON ()") for problem in failed.value.problems)
    assert not target.articles.exists()


def test_a_file_that_is_not_utf8_is_refused_at_its_byte(analyst):
    target = make_project(name="Not UTF-8", analyst=analyst)
    fine = jsonl(record([full_annotation("analyst")]))
    data = codecs.BOM_UTF8 + fine + b'{"text": "caf\xe9"}\n'  # é in Latin-1, 13 bytes into its line
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=data)
    # Its line, and its position in the file, the byte order mark counted.
    assert failed.value.problems == [
        f"line 2: the file is not UTF-8 (byte 0xe9 at position {3 + len(fine) + 13}: invalid continuation byte)"
    ]
    assert not target.articles.exists()


def test_a_label_studio_file_that_is_not_utf8_is_refused_at_its_line(analyst, admin_user):
    target = make_project(name="Not UTF-8", analyst=analyst)
    data = b'[\n  {"data": {"text": "Lavrov"}},\n  {"data": {"text": "caf\xe9"}}\n]\n'
    with pytest.raises(ImportFailed) as failed:
        imports.label_studio_import(project=target, data=data, gold_by=admin_user)
    assert failed.value.problems == [
        f"line 3: the file is not UTF-8 (byte 0xe9 at position {data.index(b'\xe9')}: invalid continuation byte)"
    ]


@pytest.mark.parametrize("char", ["\u0000", "\u0008", "\u000c", "\u001f", "\u007f", "\u0085", "\u009f"])
def test_a_control_character_anywhere_in_a_record_is_refused_at_its_line(analyst, char):
    # Each as the record's JSON spells it after orjson: \u0000, \b, \f, or the character itself
    # (DEL and C1), which the one search of the whole record must find (`_refuse_control_characters`).
    target = make_project(name="Controls", analyst=analyst)
    annotation = full_annotation("analyst")
    annotation["spans"][0]["attributes"]["speaker"] = f"Lav{char}rov"
    with pytest.raises(ImportFailed) as failed:
        snapshot_jsonl_import(project=target, data=jsonl(record([]), record([annotation])))
    assert failed.value.problems == [
        f"line 2: the record contains the control character U+{ord(char):04X}, which text cannot hold: remove it "
        "(tabs and line breaks are fine)."
    ]


def test_a_backslash_before_b_or_f_in_a_record_is_text_not_a_control_character(analyst):
    target = make_project(name="Backslashes", analyst=analyst)
    annotation = full_annotation("analyst")
    annotation["spans"][0]["attributes"]["speaker"] = "C:\\build\\files\tand a tab"
    annotation["relations"] = []  # (a speaker link would give the attribute instead)
    result = snapshot_jsonl_import(project=target, data=jsonl(record([annotation])))
    assert result.spans == 3
    assert Span.objects.get(annotation__article__project=target, label__name="Quote").attributes["speaker"] == "C:\\build\\files\tand a tab"
