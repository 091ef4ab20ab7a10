"""Files the real tools wrote (Label Studio, doccano; see data/SOURCES.md) import with all their
annotations, or are refused with the reason: nothing comes in empty without saying so."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.datasets.imports import ImportFailed, doccano_import, label_studio_import
from annotator.labelling.models import Annotation, Relation, Span
from tests.factories import make_project

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def spans_of(annotation):
    return [(s.start, s.end, s.label.name, s.text) for s in annotation.spans.select_related("label").order_by("start", "end", "label__name")]


def relations_of(annotation):
    return sorted((r.type.name, r.source.text, r.target.text) for r in Relation.objects.filter(annotation=annotation).select_related("type", "source", "target"))


# Label Studio ---------------------------------------------------------------------------------


class TestLabelStudioCompletions:
    """The shape Label Studio wrote before 1.0: one task a file, its annotations under `completions`."""

    def test_every_region_comes_in_under_the_mapped_label(self, admin_user):
        target = make_project(name="Completions", admin=admin_user)
        task = json.loads(read("label_studio/completions_348.json"))
        regions = [r["value"] for r in task["completions"][0]["result"] if r["type"] == "labels"]
        assert len(regions) == 38

        result = label_studio_import(project=target, data=read("label_studio/completions_348.json"), gold_by=admin_user,
                                     mapping={"INGREDIENT": "Claim"})

        assert (result.articles_created, result.annotations, result.spans, result.relations) == (1, 1, 38, 0)
        gold = Annotation.objects.get(article__project=target)
        assert (gold.kind, gold.annotator, gold.status) == ("gold", admin_user, "submitted")
        assert spans_of(gold) == sorted((v["start"], v["end"], "Claim", v["text"]) for v in regions)
        assert all(gold.article.text[s.start:s.end] == s.text for s in gold.spans.all())

    def test_a_label_the_schema_lacks_is_named_once_with_how_to_map_it(self, admin_user):
        target = make_project(name="Unmapped", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=read("label_studio/completions_348.json"), gold_by=admin_user)
        assert failed.value.problems == [
            "names this project's schema does not have: span label “INGREDIENT” (38×): "
            "add them to the schema, or map each to one of yours with --map NAME=Label",
            "task 1: unknown span label “INGREDIENT”",
        ]
        assert not target.articles.exists()


class TestLabelStudioChoices:
    def test_choices_under_any_control_name_become_topics(self, admin_user):
        target = make_project(name="Humor", admin=admin_user)
        result = label_studio_import(project=target, data=read("label_studio/humor_dataset_2_annotations.json"), gold_by=admin_user,
                                     mapping={"Not Humor": "Other"})
        assert (result.articles_created, result.annotations, result.topics, result.stance) == (2, 2, 2, 0)
        for gold in Annotation.objects.filter(article__project=target):
            assert list(gold.topics.values_list("name", flat=True)) == ["Other"]

    def test_a_control_named_after_a_stance_target_sets_that_stance(self, admin_user):
        target = make_project(name="Humor stance", admin=admin_user)
        result = label_studio_import(project=target, data=read("label_studio/humor_dataset_2_annotations.json"), gold_by=admin_user,
                                     mapping={"sentiment": "NATO", "Not Humor": "neutral"})
        assert (result.annotations, result.topics, result.stance) == (2, 0, 2)
        stances = {a.article.text: [(s.target.name, s.value.name) for s in a.stances.all()] for a in Annotation.objects.filter(article__project=target)}
        assert stances == {
            "Joe biden rules out 2020 bid: 'guys, i'm not running'": [("NATO", "neutral")],
            "Watch: darvish gave hitter whiplash with slow pitch": [("NATO", "neutral")],
        }

    def test_unknown_choices_are_all_listed(self, admin_user):
        target = make_project(name="Humor unknown", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=read("label_studio/humor_dataset_2_annotations.json"), gold_by=admin_user)
        assert failed.value.problems[0].startswith("names this project's schema does not have: topic “Not Humor” (2×)")
        assert failed.value.problems[1:] == ["task 1: unknown topic “Not Humor”", "task 2: unknown topic “Not Humor”"]


class TestLabelStudioPredictions:
    def test_a_file_of_predictions_only_is_refused_saying_so(self, admin_user):
        target = make_project(name="Predictions", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=read("label_studio/text_with_2_predictions.json"), gold_by=admin_user,
                                mapping={"class_A": "Syria", "class_B": "Armenia"})
        assert failed.value.problems == [
            "the file yields no annotations (1 document(s), none with an annotation to import; "
            "2 Label Studio predictions (not imported: see --predictions-as))"
        ]
        assert not target.articles.exists()

    def test_predictions_become_the_named_analysts_annotation_in_progress(self, admin_user, analyst):
        target = make_project(name="Predictions as", admin=admin_user, analyst=analyst)
        data = read("label_studio/text_with_2_predictions.json")
        mapping = {"class_A": "Syria", "class_B": "Armenia"}
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=data, gold_by=admin_user, mapping=mapping, predictions_by=analyst.username)
        assert failed.value.problems == [
            "task 1: has 2 predictions (model versions model_version_A, model_version_B); choose one with --prediction-model"
        ]

        result = label_studio_import(project=target, data=data, gold_by=admin_user, mapping=mapping,
                                     predictions_by=analyst.username, prediction_model="model_version_B")
        assert (result.articles_created, result.annotations, result.topics) == (1, 1, 1)
        assert result.not_imported == {"Label Studio predictions of other model versions": 1}
        annotation = Annotation.objects.get(article__project=target)
        assert (annotation.kind, annotation.annotator, annotation.status) == ("analyst", analyst, "in_progress")
        assert list(annotation.topics.values_list("name", flat=True)) == ["Armenia"]

    def test_predictions_for_someone_not_in_the_project_are_refused(self, admin_user, analyst):
        target = make_project(name="Predictions stranger", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=read("label_studio/text_with_2_predictions.json"), gold_by=admin_user,
                                mapping={"class_A": "Syria"}, predictions_by=analyst.username, prediction_model="model_version_A")
        assert failed.value.problems == [f"task 1: “{analyst.username}” is not a member of this project"]


def test_a_label_studio_file_of_image_boxes_is_refused_with_what_it_held(admin_user):
    target = make_project(name="Boxes", admin=admin_user)
    with pytest.raises(ImportFailed) as failed:
        label_studio_import(project=target, data=read("label_studio/csv_test.json"), gold_by=admin_user)
    assert failed.value.problems == [
        "the file yields no annotations (2 document(s), none with an annotation to import; "
        "2 Label Studio annotations with nothing this app reads; "
        "2 Label Studio predictions (not imported: see --predictions-as); "
        "3 Label Studio “rectanglelabels” results (not read))"
    ]
    assert not target.articles.exists()


TEXT = "Lavrov said “the West is trying” in Yerevan.\nThe ministry agreed."


def region(key, phrase, label, text=TEXT):
    start = text.index(phrase)
    return {"id": key, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}


class TestLabelStudioRelationsAndTextKeys:
    """Tasks in the shape Label Studio documents for relations (no upstream text file has them)."""

    def test_relations_are_read_in_their_direction(self, admin_user):
        target = make_project(name="Relations", admin=admin_user)
        tasks = [{
            "data": {"review": TEXT, "title": "Lavrov in Yerevan"},
            "annotations": [{"result": [
                region("q", "the West is trying", "QUOTE"), region("s", "Lavrov", "PER"),
                # Drawn from the speaker to the quote, arrow pointing back: Quote → Source here.
                {"from_id": "s", "to_id": "q", "type": "relation", "direction": "left", "labels": ["said-by"]},
                {"id": "note", "from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["check"]}},
            ]}],
        }]
        result = label_studio_import(project=target, data=json.dumps(tasks).encode(), gold_by=admin_user,
                                     mapping={"QUOTE": "Quote", "PER": "Source", "said-by": "speaker"})
        assert (result.annotations, result.spans, result.relations) == (1, 2, 1)
        assert result.not_imported == {"Label Studio “textarea” results (not read)": 1}
        gold = Annotation.objects.get(article__project=target)
        assert gold.article.title == "Lavrov in Yerevan"
        assert spans_of(gold) == [(0, 6, "Source", "Lavrov"), (13, 31, "Quote", "the West is trying")]
        assert relations_of(gold) == [("speaker", "the West is trying", "Lavrov")]

    def test_text_under_another_key_is_found_or_asked_for(self, admin_user):
        target = make_project(name="Keys", admin=admin_user)
        tasks = [{"data": {"headline": "Lavrov in Yerevan", "body": TEXT},
                  "annotations": [{"result": [region("s", "Lavrov", "Source")]}]}]
        data = json.dumps(tasks).encode()
        with pytest.raises(ImportFailed) as failed:
            label_studio_import(project=target, data=data, gold_by=admin_user)
        assert failed.value.problems == ["the tasks' text could be any of data.body, data.headline: say which with --text-key"]

        result = label_studio_import(project=target, data=data, gold_by=admin_user, text_key="body")
        assert (result.articles_created, result.spans) == (1, 1)
        assert target.articles.get().text == TEXT

    def test_the_one_key_every_task_shares_is_the_text(self, admin_user):
        target = make_project(name="Shared key", admin=admin_user)
        tasks = [{"data": {"dialogue": TEXT, "id_in_corpus": 7}, "annotations": [{"result": [region("s", "Lavrov", "Source")]}]}]
        result = label_studio_import(project=target, data=json.dumps(tasks).encode(), gold_by=admin_user)
        assert result.spans == 1 and target.articles.get().text == TEXT


# doccano --------------------------------------------------------------------------------------

NER = {"ORG": "Source", "MISC": "Claim", "PERSON": "Source"}


class TestDoccano:
    def test_sequence_labelling_with_list_spans(self, admin_user):
        target = make_project(name="doccano NER", admin=admin_user)
        result = doccano_import(project=target, data=read("doccano/sequence_labeling.jsonl"), gold_by=admin_user, mapping=NER)
        assert (result.articles_created, result.annotations, result.spans) == (3, 3, 4)
        spans = {a.article.text: spans_of(a) for a in Annotation.objects.filter(article__project=target)}
        assert spans == {
            "EU rejects German call to boycott British lamb.": [(0, 2, "Source", "EU"), (11, 17, "Claim", "German")],
            "Peter Blackburn": [(0, 15, "Source", "Peter Blackburn")],
            "President Obama": [(10, 15, "Source", "Obama")],
        }

    def test_unknown_labels_are_all_named_with_how_to_map_them(self, admin_user):
        target = make_project(name="doccano unknown", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=target, data=read("doccano/sequence_labeling.jsonl"), gold_by=admin_user)
        assert failed.value.problems[0] == (
            "names this project's schema does not have: span label “MISC” (1×), span label “ORG” (1×), span label “PERSON” (2×): "
            "add them to the schema, or map each to one of yours with --map NAME=Label"
        )
        assert len(failed.value.problems) == 1 + 4  # then each line's own: ORG and MISC on line 1, PERSON on 2 and 3

    def test_relation_extraction_with_object_spans_and_relations(self, admin_user):
        target = make_project(name="doccano relations", admin=admin_user)
        mapping = {"ORG": "Claim", "DATE": "Source", "PERSON": "Source", "foundedAt": "source", "foundedBy": "source"}
        result = doccano_import(project=target, data=read("doccano/relation_extraction.jsonl"), gold_by=admin_user, mapping=mapping)
        assert (result.articles_created, result.spans, result.relations) == (1, 4, 3)
        gold = Annotation.objects.get(article__project=target)
        assert spans_of(gold) == [
            (0, 6, "Claim", "Google"), (22, 39, "Source", "September 4, 1998"), (44, 54, "Source", "Larry Page"), (59, 70, "Source", "Sergey Brin"),
        ]
        assert relations_of(gold) == [("source", "Google", "Larry Page"), ("source", "Google", "September 4, 1998"), ("source", "Google", "Sergey Brin")]

    def test_intent_detection_entities_as_lists_and_cats(self, admin_user):
        target = make_project(name="doccano intents", admin=admin_user)
        result = doccano_import(project=target, data=read("doccano/intent_detection.jsonl"), gold_by=admin_user,
                                mapping={"City": "Source", "flight": "Ukraine", "airport": "Syria"})
        assert (result.articles_created, result.spans, result.topics) == (2, 3, 2)
        by_text = {a.article.text: (spans_of(a), list(a.topics.values_list("name", flat=True))) for a in Annotation.objects.filter(article__project=target)}
        assert by_text["I want to know what airports are in Los Angeles"] == ([(36, 47, "Source", "Los Angeles")], ["Syria"])
        assert by_text["Find a flight from Memphis to Tacoma"][0][1] == (30, 36, "Source", "Tacoma")

    def test_text_classification_categories_become_topics(self, admin_user):
        target = make_project(name="doccano classes", admin=admin_user)
        result = doccano_import(project=target, data=read("doccano/text_classification.jsonl"), gold_by=admin_user,
                                mapping={"negative": "Syria", "positive": "Armenia"})
        assert (result.articles_created, result.annotations, result.spans, result.topics) == (3, 3, 0, 3)
        topics = {a.article.text: list(a.topics.values_list("name", flat=True)) for a in Annotation.objects.filter(article__project=target)}
        assert topics == {"Terrible customer service.": ["Syria"], "Really great transaction.": ["Armenia"], "Great price.": ["Armenia"]}

    def test_a_single_category_as_a_string(self, admin_user):
        target = make_project(name="doccano one class", admin=admin_user)
        result = doccano_import(project=target, data=b'{"text": "Great price.", "label": "positive"}\n', gold_by=admin_user,
                                mapping={"positive": "Armenia"})
        assert (result.annotations, result.topics) == (1, 1)

    def test_an_example_without_labels_is_counted(self, admin_user):
        target = make_project(name="doccano labels", admin=admin_user)
        result = doccano_import(project=target, data=read("doccano/text_classification_labels.jsonl"), gold_by=admin_user,
                                mapping={"negative": "Syria", "positive": "Armenia"})
        assert (result.articles_created, result.annotations, result.topics, result.articles_without_annotations) == (3, 2, 3, 1)
        assert "1 document(s) without any annotation" in result.summary()

    def test_bad_rows_are_named_by_line(self, admin_user):
        target = make_project(name="doccano bad", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=target, data=read("doccano/intent_with_bad_rows.jsonl"), gold_by=admin_user,
                           mapping={"LOC": "Source", "positive": "Armenia"})
        assert failed.value.problems == ["line 5: text is missing or empty"]
        assert not target.articles.exists()

    def test_a_file_without_any_label_is_refused(self, admin_user):
        target = make_project(name="doccano empty", admin=admin_user)
        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=target, data=b'{"text": "exampleB", "label": []}\n{"text": "exampleC"}\n', gold_by=admin_user)
        assert failed.value.problems == ["the file yields no annotations (2 document(s), none with an annotation to import)"]
        assert not target.articles.exists()


# The command ----------------------------------------------------------------------------------


def test_the_command_maps_names_and_prints_what_came_in_per_kind(admin_user, analyst, capsys):
    target = make_project(name="Command", admin=admin_user, analyst=analyst)
    path = str(DATA / "label_studio/text_with_2_predictions.json")
    with pytest.raises(CommandError, match="no annotations"):
        call_command("import_annotations", str(target.id), path, "--format", "label-studio", "--gold-by", admin_user.username)
    with pytest.raises(CommandError, match="--map takes NAME=Label"):
        call_command("import_annotations", str(target.id), path, "--format", "label-studio", "--gold-by", admin_user.username, "--map", "class_A")
    call_command(
        "import_annotations", str(target.id), path, "--format", "label-studio", "--gold-by", admin_user.username,
        "--map", "class_A=Syria", "--predictions-as", analyst.username, "--prediction-model", "model_version_A",
    )
    out = capsys.readouterr().out
    assert f"{path}: 1 new article(s), 0 already here, 1 annotation(s), 0 span(s), 0 relation(s), 1 topic(s), 0 stance(s), " \
           "1 Label Studio predictions of other model versions" in out
    assert Span.objects.filter(annotation__article__project=target).count() == 0
    assert list(Annotation.objects.get(article__project=target).topics.values_list("name", flat=True)) == ["Syria"]


def test_the_command_refuses_label_studio_options_for_doccano(admin_user):
    target = make_project(name="Command doccano", admin=admin_user)
    with pytest.raises(CommandError, match="are for Label Studio files"):
        call_command("import_annotations", str(target.id), str(DATA / "doccano/sequence_labeling.jsonl"), "--format", "doccano",
                     "--gold-by", admin_user.username, "--text-key", "body")
    call_command("import_annotations", str(target.id), str(DATA / "doccano/sequence_labeling.jsonl"), "--format", "doccano",
                 "--gold-by", admin_user.username, *[arg for name, ours in NER.items() for arg in ("--map", f"{name}={ours}")])
    assert Span.objects.filter(annotation__article__project=target).count() == 4
