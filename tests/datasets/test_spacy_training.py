"""A data scientist's first steps with a snapshot's spaCy files: the card's commands, run as
printed (a tiny training: `--training.max_steps 2`), with the tokenizer the snapshot ships."""

import json
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import DocBin

from annotator.datasets.formats import spacy_docbin
from annotator.datasets.formats.tokens import tokenize
from tests.factories import ArticleFactory

from . import loss
from .helpers import annotate, build, file_path


@pytest.fixture
def hostile_gold(project, admin_user):
    """The Arabic-heavy corpus as reviewed articles."""
    articles = json.loads(loss.HOSTILE.read_text(encoding="utf-8"))["articles"]
    made = []
    for n, item in enumerate(articles):
        article = ArticleFactory(project=project, text=item["text"], language=item["language"], published=f"2024-02-{n + 1:02d}")
        annotate(article, admin_user, [tuple(s[:2]) for s in item["spans"] if len(s) == 2], gold=True)
        made.append(article)
    return made


def card_commands(snapshot) -> list[str]:
    card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Training with spaCy\n.*?```sh\n(.*?)```", card, re.S)
    assert block, card
    return block.group(1).strip().split("\n")


def run_as_printed(command: str, cwd, extra=()):
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "spacy"]
    result = subprocess.run([sys.executable, *words[1:], *extra], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize("sharded", [False, True])
def test_the_cards_spacy_training_works_as_printed(project, admin_user, hostile_gold, tmp_path, monkeypatch, sharded):
    if sharded:
        monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", 3)
    snapshot = build(project, admin_user, formats=["jsonl", "spacy", "conll"])
    assert snapshot.status == "ready", snapshot.error
    names = set(snapshot.files.values_list("name", flat=True))
    assert {"tokenizer/ar/config.cfg", "tokenizer/ar/meta.json", "tokenizer/ar/tokenizer", "tokenizer/en/tokenizer"} <= names
    train_shards = sorted(n for n in names if n.startswith("train/"))
    if sharded:
        assert len(train_shards) >= 3 and "train.spacy" not in names
        assert all(re.fullmatch(r"train/train-\d{5}\.spacy", n) for n in train_shards)
    else:
        assert "train.spacy" in names and not train_shards

    init, train = card_commands(snapshot)
    assert init == "python -m spacy init config config.cfg --lang ar --pipeline spancat"
    assert f"--paths.train {'train' if sharded else 'train.spacy'} " in train
    folder = tmp_path / "snapshot"
    shutil.copytree(file_path(snapshot, "README.md").parent, folder)
    run_as_printed(init, folder)
    run_as_printed(train, folder, ["--training.max_steps", "2"])

    # The trained pipeline tokenizes new text with the shipped tokenizer, not spaCy's default one.
    trained = spacy.load(folder / "model" / "model-last")
    text = "وقال المتحدث لـ”رويترز”: «لن نتراجع»."
    assert [t.text for t in trained.make_doc(text)] == [t.text for t in tokenize(text, "ar").doc]
    assert [t.text for t in spacy.blank("ar").make_doc(text)] != [t.text for t in tokenize(text, "ar").doc]
    # and the folder of train shards holds the train docs only
    train_docs = sum(len(DocBin().from_disk(folder / n)) for n in train_shards) if sharded else len(DocBin().from_disk(folder / "train.spacy"))
    assert train_docs == snapshot.counts["splits"]["train"]["examples"]


def test_the_card_reports_loss_per_language_and_label_and_the_tokenizer(project, admin_user, hostile_gold):
    # one span that no tokenizer can hold: inside a word, after no proclitic
    annotate(ArticleFactory(project=project, text="قال وزير الخارجية إن الوضع خطير جدا", language="ar"), admin_user,
             [("Claim", "خارجية")], gold=True)
    snapshot = build(project, admin_user, formats=["spacy"])
    card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
    report = snapshot.counts["formats"]["spacy"]
    assert report["unaligned_by_language"] == {"ar": {"Claim": 1}}
    given = report["spans_by_language"]["ar"]
    assert given > 80
    assert f"| ar | {given} | 1 | {100 / given:.2f} % | Claim: 1 |" in card
    assert f"| en | {report['spans_by_language']['en']} | 0 | 0.00 % | none |" in card
    assert sum(report["clitic_splits"].values()) >= 5
    assert re.search(r"\| spacy: clitic splits \| \d+ \| \d+ \| \d+ \|", card)
    assert "`tokenizer/ar/`, `tokenizer/en/`" in card
    assert snapshot.counts["tokenizers"] == ["tokenizer/ar", "tokenizer/en"]
