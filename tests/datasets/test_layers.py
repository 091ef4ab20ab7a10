"""Nested and overlapping spans survive the CoNLL and Parquet files, read as the card says.

The seeds are labelled in layers (a paragraph holding a quotation is a Claim, the quotation a
Quote, names in them Sources), and a hostile article nests three deep, crosses spans, puts two
labels on the same words, nests and crosses spans of one label, and mixes Arabic. The files are
read with the code the snapshot's own card prints (the CoNLL reader, the `load_dataset` call),
run from the snapshot's folder, and every span of the database that is on token boundaries must
be there with its label and its tokens: in its label's column, nested or not. Only a span inside
or across a longer one of the same label cannot share its column; those are named here and
counted in the card.
"""

import json
import re
import uuid

import pytest

from annotator.datasets.formats.tokens import tokenize
from annotator.labelling import services
from annotator.labelling.models import Annotation, Span
from tests.factories import ArticleFactory

from .helpers import SEEDS, build, file_path, split_files

pytestmark = pytest.mark.django_db
LABELS = ["Claim", "Quote", "Source"]

HOSTILE = (
    "Officials said “Lavrov told Blinken that the talks were over” yesterday.\n"
    "Zakharova Peskov answered: “sanctions will fail”, and “the West\nis divided” too.\n"
    "قال لافروف إن “الغرب يخسر الحرب” أمس.\n"
    "Emoji 👩‍👩‍👧 family and crème brûlée were served."
)


def add(annotation, actor, label, start, end):
    article = annotation.article
    return services.span_add(
        annotation=annotation, actor=actor, label=article.project.span_labels.get(name=label), start=start, end=end,
        text=article.text[start:end], client_id=uuid.uuid4(),
    )


def at(text, phrase, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return start, start + len(phrase)


def layered_spans(text):
    """A seed's spans in layers: each paragraph holding a quotation (Claim), the quotation inside
    its marks (Quote), capitalised names and the Arabic names (Source). No two of one label overlap."""
    quotes = [(m.start(1), m.end(1)) for m in re.finditer(r"[“«]([^”»\n]{3,}?)[”»]", text)]
    claims = set()
    for start, end in quotes:
        first = text.rfind("\n", 0, start) + 1
        last = text.find("\n", end)
        last = len(text) if last < 0 else last
        while text[first].isspace():
            first += 1
        while text[last - 1].isspace():
            last -= 1
        claims.add((first, last))
    names = [(m.start(), m.end()) for m in re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b|لافروف|روسيا", text)]
    return [("Claim", *c) for c in sorted(claims)[:15]] + [("Quote", *q) for q in quotes[:25]] + [("Source", *n) for n in names[:25]]


@pytest.fixture
def nested(project, admin_user):
    """Gold annotations of the seeds and of the hostile article; the spans each label column loses."""
    articles, lost = [], []
    for n, seed in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = seed.read_text(encoding="utf-8")
        article = ArticleFactory(project=project, text=text, title=seed.name, language="ar" if "002_" in seed.name else "en",
                                 published=f"2024-02-{n + 1:02d}")
        gold = Annotation.objects.create(article=article, annotator=admin_user, kind=Annotation.Kind.GOLD)
        for label, start, end in layered_spans(article.text):
            add(gold, admin_user, label, start, end)
        services.annotation_submit(annotation=gold, actor=admin_user)
        articles.append(article)

    article = ArticleFactory(project=project, text=HOSTILE, title="Hostile", language="en")
    text = article.text
    gold = Annotation.objects.create(article=article, annotator=admin_user, kind=Annotation.Kind.GOLD)
    sentence = at(text, "Officials said “Lavrov told Blinken that the talks were over” yesterday.")
    quote = at(text, "Lavrov told Blinken that the talks were over")
    inside = (sentence[0], at(text, "Blinken")[1])
    for label, (start, end), loses in [
        ("Claim", sentence, False),  # three deep: Claim ⊃ Quote ⊃ Source, Source
        ("Quote", quote, False),
        ("Source", at(text, "Lavrov"), False),
        ("Source", at(text, "Blinken"), False),
        ("Source", at(text, "Blinken"), False),  # the same span twice: one entity of its column
        ("Claim", inside, True),  # a Claim inside a longer Claim (and across its Quote): not in the Claim column
        ("Source", at(text, "Zakharova"), False),  # two Sources side by side
        ("Source", at(text, "Peskov"), False),
        ("Claim", (at(text, "Peskov")[0], at(text, "is divided")[1]), False),  # across a line break
        ("Quote", at(text, "sanctions will fail"), False),
        ("Quote", at(text, "the West\nis divided"), False),
        ("Source", at(text, "divided” too"), False),  # across the end of a Quote and of a Claim
        ("Quote", at(text, "fail”, and “the"), True),  # across two longer Quotes: not in the Quote column
        ("Claim", at(text, "قال لافروف إن “الغرب يخسر الحرب” أمس."), False),
        ("Quote", at(text, "الغرب يخسر الحرب"), False),
        ("Source", at(text, "لافروف"), False),
        ("Claim", at(text, "👩‍👩‍👧 family and crème brûlée"), False),
        ("Source", at(text, "👩‍👩‍👧"), False),
        ("Quote", at(text, "crème"), False),  # two labels on the same word
        ("Source", at(text, "crème"), False),
        ("Source", at(text, "avro"), False),  # inside a word: on no token boundary
    ]:
        span = add(gold, admin_user, label, start, end)
        if loses:
            lost.append(span.id)
    services.annotation_submit(annotation=gold, actor=admin_user)
    articles.append(article)
    return {"articles": articles, "hostile": article, "lost": lost}


def expected_spans(project):
    """{article id: {span id: (label, first word, word after, words)}} of every gold span on token
    boundaries of the tokenizer the snapshot uses, from the database; and the others' ids."""
    expected, unaligned = {}, []
    for span in Span.objects.filter(annotation__article__project=project, annotation__kind="gold").select_related(
        "label", "annotation__article"
    ):
        article = span.annotation.article
        # The article's tokens as the snapshot makes them: cut at a proclitic where a span's edge is.
        spans = [{"start": s.start, "end": s.end} for s in Span.objects.filter(annotation=span.annotation)]
        doc = tokenize(article.text, article.language, spans).doc
        token_span = doc.char_span(span.start, span.end, alignment_mode="strict")
        written = [token for token in (token_span or []) if not token.is_space]
        if token_span is None or not written:
            unaligned.append(span.id)
            continue
        word_of = {}
        for token in doc:
            if not token.is_space:
                word_of[token.i] = len(word_of)
        words = tuple(re.sub(r"\s", "_", token.text) for token in written)
        expected.setdefault(article.id, {})[span.id] = (span.label.name, word_of[written[0].i], word_of[written[-1].i] + 1, words)
    return expected, unaligned


def code_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", card, re.S)


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def run_card(snapshot, monkeypatch) -> tuple[dict, dict]:
    """The card's CoNLL reader and its `load_dataset` call, run as printed from the snapshot's folder."""
    folder = file_path(snapshot, "README.md").parent
    card = (folder / "README.md").read_text(encoding="utf-8")
    blocks = code_blocks(card)
    formats = snapshot.parameters["formats"]
    assert len(blocks) == 2 * ("conll" in formats) + ("parquet" in formats)
    monkeypatch.chdir(folder)
    reader, loaded = {}, {}
    if "conll" in formats:
        exec(blocks.pop(0), reader)
        exec(blocks.pop(0), loaded)  # the CoNLL files as sentences, with datasets' CoNLL reader
    if "parquet" in formats:
        exec(blocks.pop(0), loaded)
    return reader, loaded


def test_every_aligned_span_is_in_its_label_column_of_the_conll_and_parquet_files(
    project, admin_user, nested, hf_cache, monkeypatch
):
    snapshot = build(project, admin_user, formats=["jsonl", "conll", "parquet"], train=60, validation=20, test=20)
    assert snapshot.status == "ready", snapshot.error
    expected, unaligned = expected_spans(project)
    lost = set(nested["lost"])
    reader, loaded = run_card(snapshot, monkeypatch)

    # CoNLL, every split, with the card's reader
    documents = {}
    for split, path in split_files(snapshot, "conll").items():
        records = [json.loads(line) for line in file_path(snapshot, f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        read = reader["read_conll"](str(path))
        assert [int(d["about"]["article_id"]) for d in read] == [r["id"] for r in records]
        for document, record in zip(read, records):
            [annotation] = record["annotations"]
            assert document["about"] == {
                "article_id": str(record["id"]),
                "annotation_id": str(annotation["id"]) if annotation.get("id") is not None else "-",
                "annotator": admin_user.username,
                "language": record["language"],
            }
            assert {len(tags) for tags in document["tags"]} == {1 + len(LABELS)}
            documents[record["id"]] = document
    assert set(documents) == {a.id for a in nested["articles"]}
    nested_found = 0
    for article_id, spans in expected.items():
        document = documents[article_id]
        columns = list(zip(*document["tags"]))
        found = {(label, first, after) for column in columns[1:] for label, first, after in reader["entities"](column)}
        want = {(label, first, after) for span_id, (label, first, after, _) in spans.items() if span_id not in lost}
        assert found == want, article_id
        for span_id, (label, first, after, words) in spans.items():
            if span_id in lost:
                continue
            assert tuple(document["tokens"][first:after]) == words
            # in its own label's column, whatever else covers those words
            assert (label, first, after) in reader["entities"](columns[1 + LABELS.index(label)])
            if any(other != span_id and o[1] <= first and after <= o[2] and o[0] != label for other, o in spans.items()):
                nested_found += 1
        # the NER column holds no overlap
        ner = reader["entities"](columns[0])
        assert all(a[2] <= b[1] for a, b in zip(ner, ner[1:]))
    assert nested_found > 40  # the corpus does nest: seeds' Quotes in Claims, Sources in Quotes
    hostile = expected[nested["hostile"].id]
    assert len(lost) == 2 and lost <= set(hostile)
    for span_id in lost:  # the two of one label inside or across a longer one: not in their column
        label, first, after, _ = hostile[span_id]
        assert (label, first, after) not in reader["entities"](list(zip(*documents[nested["hostile"].id]["tags"]))[1 + LABELS.index(label)])
    report = snapshot.counts["formats"]["conll"]
    assert sum(report["same_label_overlaps_left_out_of_their_label_column"].values()) == 2
    assert sum(report["unaligned_spans"].values()) == len(unaligned) >= 1
    assert sum(report["spans_on_whitespace_only"].values()) == 0
    # the NER column keeps the longest of overlapping spans only: many more are out of it
    assert sum(report["overlapping_spans_left_out_of_the_ner_column"].values()) > 40
    card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
    assert "`token`, `_`, `_`, `NER`, `Claim`, `Quote`, `Source`" in card
    assert "| conll: same label overlaps left out of their label column |" in card

    # The same CoNLL files as sentences, with the card's call of datasets' own CoNLL reader
    sentences = loaded["sentences"]
    assert set(sentences) == set(split_files(snapshot, "conll"))
    for split in sentences:
        in_order = [documents[int(d["about"]["article_id"])] for d in reader["read_conll"](str(split_files(snapshot, "conll")[split]))]
        assert sum(sentences[split]["tokens"], []) == sum((d["tokens"] for d in in_order), [])
        for k, name in enumerate(["ner_tags", *LABELS]):
            assert sum(sentences[split][name], []) == [tags[k] for d in in_order for tags in d["tags"]]
    assert sum(sentences[s].num_rows for s in sentences) > len(documents)  # sentences, not documents

    # Parquet, with the card's load_dataset call
    dataset = loaded["dataset"]
    assert set(dataset) == set(split_files(snapshot, "parquet"))
    features = dataset["train"].features
    assert features["ner_tags"].feature.names == ["O", "B-Claim", "I-Claim", "B-Quote", "I-Quote", "B-Source", "I-Source"]
    for label in LABELS:
        assert features[f"tags:{label}"].feature.names == ["O", f"B-{label}", f"I-{label}"]
    assert features["topics"].feature.names == list(project.topics.values_list("name", flat=True))
    rows = 0
    for split in dataset:
        for row in dataset[split]:
            rows += 1
            document = documents[row["article_id"]]
            assert row["tokens"] == document["tokens"]
            columns = list(zip(*document["tags"]))
            assert [features["ner_tags"].feature.int2str(t) for t in row["ner_tags"]] == list(columns[0])
            for k, label in enumerate(LABELS):
                names = features[f"tags:{label}"].feature
                assert [names.int2str(t) for t in row[f"tags:{label}"]] == list(columns[1 + k])
            spans = expected.get(row["article_id"], {})
            for span in row["spans"]:
                assert row["text"][span["start"] : span["end"]] == span["text"]
                if span["id"] in spans:
                    _, first, after, words = spans[span["id"]]
                    assert (span["token_start"], span["token_end"]) == (first, after)
                else:
                    assert span["id"] in unaligned and span["token_start"] is None and span["token_end"] is None
            assert len(row["spans"]) == Span.objects.filter(annotation__article_id=row["article_id"], annotation__kind="gold").count()
    assert rows == len(nested["articles"])
    assert snapshot.counts["formats"]["parquet"] == snapshot.counts["formats"]["conll"]


def test_a_card_without_files_prints_no_call_that_would_fail(project, admin_user, monkeypatch):
    snapshot = build(project, admin_user, formats=["conll", "parquet"])
    assert snapshot.status == "ready" and snapshot.counts["articles"] == 0
    card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
    assert "No Parquet file: no article was exported." in card and "load_dataset(" not in card
    [reader] = code_blocks(card)
    monkeypatch.chdir(file_path(snapshot, "README.md").parent)
    defined = {}
    exec(reader, defined)
    assert {"read_conll", "entities"} <= set(defined)
    assert defined["entities"](["B-Claim", "I-Claim", "B-Quote", "O", "I-Quote"]) == [("Claim", 0, 2), ("Quote", 2, 3)]
