"""The dataset card's YAML header, read the way the Hugging Face Hub reads it (`huggingface_hub`,
offline), and a snapshot folder loaded by `datasets` from that header alone."""

from pathlib import Path

import pytest
from django.conf import settings
from huggingface_hub import DatasetCard

from annotator.datasets.card import size_category
from annotator.datasets.splits import SPLITS
from annotator.projects.models import Project

from .helpers import annotate, article, build, file_path

pytestmark = pytest.mark.django_db


def card_of(snapshot) -> DatasetCard:
    return DatasetCard(file_path(snapshot, "README.md").read_text(encoding="utf-8"))


@pytest.fixture
def licensed(project):
    Project.objects.filter(pk=project.pk).update(license="cc-by-sa-4.0", name="Claims: “RT” & TASS, 2024")
    project.refresh_from_db()
    return project


def test_the_hub_reads_every_field(licensed, admin_user, gold_corpus):
    snapshot = build(licensed, admin_user)
    card = card_of(snapshot)
    data = card.data
    assert data.pretty_name == "Claims: “RT” & TASS, 2024"
    assert data.license == "cc-by-sa-4.0"
    # The gold corpus: English articles, one Arabic, and the emoji article with no language detected.
    assert data.language == ["ar", "en"]
    assert data.task_categories == ["token-classification", "text-classification"]
    assert data.size_categories == ["n<1K"]
    names = set(snapshot.files.values_list("name", flat=True))
    parquet = [{"split": s, "path": f"{s}.parquet"} for s in SPLITS if f"{s}.parquet" in names]
    jsonl = [{"split": s, "path": f"{s}.jsonl"} for s in SPLITS if f"{s}.jsonl" in names]
    assert parquet and jsonl
    # Parquet is the one config: `datasets` reads every config of a folder with one builder.
    assert data.configs == [{"config_name": "default", "data_files": parquet}]
    # The Markdown follows the header, and names the licence too.
    assert card.text.lstrip("\n").startswith("# Claims: “RT” & TASS, 2024: labelled dataset\n")
    assert "- Licence: CC BY-SA 4.0 (Creative Commons Attribution-ShareAlike) (`cc-by-sa-4.0`)" in card.text


def test_without_parquet_or_jsonl_there_are_no_configs_and_an_unset_licence_is_unknown(project, admin_user, gold_corpus):
    snapshot = build(project, admin_user, formats=["csv", "conll"])
    data = card_of(snapshot).data
    assert data.license == "unknown"
    assert "configs" not in data.to_dict()


def test_jsonl_alone_gets_no_config(project, admin_user, gold_corpus):
    # `datasets` cannot load the JSONL files' nested records by inference: no config promises it.
    snapshot = build(project, admin_user, formats=["jsonl"])
    assert "configs" not in card_of(snapshot).data.to_dict()


def test_languages_are_those_of_the_exported_articles_only(project, admin_user):
    french = article(project, "Macron a parlé.", language="fr")
    annotate(french, admin_user, [("Source", "Macron")], gold=True)
    # Not reviewed: not exported, so its language is not the dataset's.
    german = article(project, "Scholz sprach.", language="de")
    annotate(german, admin_user, [("Source", "Scholz")], gold=True, submit=False)
    snapshot = build(project, admin_user, formats=["jsonl"])
    assert card_of(snapshot).data.language == ["fr"]
    assert snapshot.counts["languages"] == {"fr": 1}


@pytest.mark.parametrize(
    ("examples", "category"),
    [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (99_999, "10K<n<100K"), (100_000, "100K<n<1M"), (2 * 10**9, "n>1B")],
)
def test_size_categories_follow_the_hubs_buckets(examples, category):
    assert size_category(examples) == category


def test_datasets_loads_the_uploaded_folder_from_the_header_alone(project, admin_user, gold_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    snapshot = build(project, admin_user, formats=["jsonl", "parquet", "conll"])
    folder = Path(settings.ANNOTATOR_SNAPSHOT_ROOT) / snapshot.directory
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "hf-cache"))
    examples = {s: snapshot.counts["splits"][s]["examples"] for s in SPLITS if snapshot.counts["splits"][s]["examples"]}
    assert {s: loaded[s].num_rows for s in loaded} == examples
    # Rows are the Parquet files' (one per example, its annotator a column), not the JSONL files'.
    assert "annotator" in loaded["train"].column_names and "annotations" not in loaded["train"].column_names


def test_a_project_made_in_this_process_writes_its_default_licence():
    # Its `license` is still the `License` member (a str subclass), which a safe YAML dump refuses.
    from annotator.datasets.card import header

    project = Project(name="Made here")
    text = header(project=project, counts={"languages": {"en": 1}, "examples": 1}, files=[])
    assert DatasetCard(text + "\n# Made here\n").data.license == "unknown"
