"""Gold made on the review page carries its links and its review decisions into every export."""

import json

import pyarrow.parquet as pq
import pytest

from annotator.datasets.splits import SPLITS
from annotator.labelling import services as labelling
from annotator.projects.models import Membership, RelationType
from annotator.review import services as review
from tests.factories import UserFactory
from tests.review.helpers import mark, submit

from .helpers import article, build, file_path, split_files

pytestmark = pytest.mark.django_db

TEXT = "Lavrov said “the West is trying to pull Armenia away”.\nThe ministry repeated the claim."
QUOTE = "the West is trying to pull Armenia away"
CLAIM = "repeated the claim"


@pytest.fixture
def reviewed(project, analyst, admin_user):
    """Two analysts link a quote to Lavrov and a claim to the ministry; a reviewer takes the quote
    link into gold, adds the claim link of their own and marks the article reviewed."""
    second = UserFactory(username="analyst2")
    Membership.objects.create(project=project, user=second, role=Membership.Role.ANALYST)
    types = {t.name: t for t in RelationType.objects.filter(project=project)}
    labels = {label.name: label for label in project.span_labels.all()}
    news = article(project, TEXT, title="Links")
    made = {}
    for user in (analyst, second):
        quote = mark(news, user, labels["Quote"], QUOTE)
        lavrov = mark(news, user, labels["Source"], "Lavrov")
        made[user.username] = (quote, lavrov, labelling.relation_create(relation_type=types["speaker"], source=quote,
                                                                        target=lavrov))
        submit(news, user)
    quote, lavrov, speaker = made["analyst"]
    review.gold_span_accept(article=news, reviewer=admin_user, span=quote, expected_version=0)
    review.gold_span_accept(article=news, reviewer=admin_user, span=lavrov, expected_version=2)
    review.gold_relation_accept(article=news, reviewer=admin_user, relation=speaker, expected_version=3)
    start = TEXT.index(CLAIM)
    claim = review.gold_span_add(article=news, reviewer=admin_user, label=labels["Claim"], start=start,
                                 end=start + len(CLAIM), text=CLAIM, client_id="00000000-0000-0000-0000-00000000c1a1",
                                 expected_version=4)
    start = TEXT.index("ministry")
    ministry = review.gold_span_add(article=news, reviewer=admin_user, label=labels["Source"], start=start,
                                    end=start + 8, text="ministry", client_id="00000000-0000-0000-0000-00000000c1a2",
                                    expected_version=5)
    review.gold_relation_add(article=news, reviewer=admin_user, relation_type=types["source"], source=claim,
                             target=ministry, expected_version=6)
    review.gold_mark_reviewed(article=news, reviewer=admin_user, expected_version=7)
    return news


def test_gold_jsonl_has_the_links_and_each_spans_review(project, admin_user, reviewed):
    snapshot = build(project, admin_user, formats=["jsonl"])
    [record] = [json.loads(line) for path in split_files(snapshot, "jsonl").values()
                for line in path.read_text(encoding="utf-8").splitlines()]
    [gold] = record["annotations"]
    assert gold["kind"] == "gold"
    text_of = {span["id"]: span["text"] for span in gold["spans"]}
    assert sorted((r["type"], text_of[r["source"]], text_of[r["target"]]) for r in gold["relations"]) == [
        ("source", CLAIM, "ministry"), ("speaker", QUOTE, "Lavrov"),
    ]
    assert all(isinstance(r["id"], int) for r in gold["relations"])
    assert {span["text"]: span["review"] for span in gold["spans"]} == {
        QUOTE: {"decision": "accepted", "from": ["analyst", "analyst2"]},
        "Lavrov": {"decision": "accepted", "from": ["analyst", "analyst2"]},
        CLAIM: {"decision": "added", "from": []},
        "ministry": {"decision": "added", "from": []},
    }


def test_gold_label_studio_has_the_links_between_its_regions(project, admin_user, reviewed):
    snapshot = build(project, admin_user, formats=["label-studio"])
    [task] = json.loads(file_path(snapshot, "label_studio.json").read_text(encoding="utf-8"))
    [annotation] = task["annotations"]
    assert annotation["ground_truth"] is True
    regions = {r["id"]: r["value"]["text"] for r in annotation["result"] if r["type"] == "labels"}
    links = [r for r in annotation["result"] if r["type"] == "relation"]
    assert sorted((r["labels"][0], regions[r["from_id"]], regions[r["to_id"]]) for r in links) == [
        ("source", CLAIM, "ministry"), ("speaker", QUOTE, "Lavrov"),
    ]


def test_gold_parquet_rows_hold_the_links(project, admin_user, reviewed):
    snapshot = build(project, admin_user, formats=["parquet"])
    [path] = split_files(snapshot, "parquet").values()
    [row] = pq.read_table(path).to_pylist()
    text_of = {span["id"]: span["text"] for span in row["spans"]}
    assert sorted((r["type"], text_of[r["source"]], text_of[r["target"]]) for r in row["relations"]) == [
        ("source", CLAIM, "ministry"), ("speaker", QUOTE, "Lavrov"),
    ]


def test_the_card_counts_relations_per_type_and_split(project, admin_user, reviewed):
    snapshot = build(project, admin_user, formats=["jsonl"])
    [split] = [s for s in SPLITS if snapshot.counts["splits"][s]["articles"]]
    assert snapshot.counts["splits"][split]["relations"] == {"speaker": 1, "source": 1}
    card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
    cells = {"train": "0", "validation": "0", "test": "0", split: "1"}
    for name in ("speaker", "source"):
        assert f"| Relation: {name} | {cells['train']} | {cells['validation']} | {cells['test']} |" in card
