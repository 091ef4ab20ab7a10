"""Every byte of the token formats (spaCy, CoNLL, Parquet) stays put when their code is made faster.

A small hostile corpus (Arabic with proclitics cut off by span edges, nested and overlapping
spans of one label and of several, spans on whitespace only, across line breaks and inside
words, emoji and combining marks, several annotations of one article, a consensus, an article
without annotations and an empty one, the same text twice in a row) is written by each token
writer alone, by the three together as a snapshot build hands them each record in turn, and
with spaCy's shards of two docs. Each file's SHA-256 and each writer's report must be the ones
the writers gave before their per-word work was redone (recorded from commit 9d48312's code).
A change of pinned spaCy or pyarrow may move bytes too: then compare the files read back
(tests/datasets/test_token_formats.py does) before updating these digests. The Parquet digests
were updated once so, in the fourteenth session, when only the columns of few values were left
dictionary-encoded (`parquet.DICTIONARY_COLUMNS`): every file read back equal to the old one.
"""

import hashlib
import json
import random

import pytest

from annotator.datasets.formats import Output, conll, parquet, spacy_docbin
from annotator.datasets.formats.tokens import make_nlp, tokenizer_language

from .conftest import EMOJI_TEXT
from .helpers import SEEDS

SPLITS = ("train", "validation", "test")
LABELS = ["Claim", "Quote", "Source"]
SCHEMA = {"labels": [{"name": name, "attributes": []} for name in LABELS], "topics": ["Armenia", "Syria", "Other"]}
WRITERS = {"spacy": spacy_docbin.Writer, "conll": conll.Writer, "parquet": parquet.Writer}


class Corpus:
    """Records as `records` makes them, with ids counted from 1 so the bytes never depend on other tests."""

    def __init__(self):
        self.next_id = 0
        self.rng = random.Random(13)

    def id(self) -> int:
        self.next_id += 1
        return self.next_id

    def span(self, text, start, end, label, **extra):
        return {"id": self.id(), "start": start, "end": end, "label": label, "text": text[start:end], "attributes": {},
                "created": "2026-12-01T10:00:00Z", "updated": "2026-12-01T10:05:00Z", "review": None, **extra}

    def phrase(self, text, words, label, occurrence=0, **extra):
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(words, start + 1)
        return self.span(text, start, start + len(words), label, **extra)

    def random_spans(self, text, language, count):
        """Spans on token boundaries (most), inside words and over whitespace, nested and overlapping."""
        doc = make_nlp(tokenizer_language(language)).make_doc(text)
        spans = []
        for _ in range(count):
            if self.rng.random() < 0.8:
                first = self.rng.randrange(len(doc))
                last = min(len(doc) - 1, first + self.rng.choice([0, 0, 1, 2, 3, 5, 8, 20]))
                start, end = doc[first].idx, doc[last].idx + len(doc[last])
            else:
                start = self.rng.randrange(len(text) - 1)
                end = min(len(text), start + self.rng.randrange(1, 30))
            spans.append(self.span(text, start, end, self.rng.choice(LABELS)))
        return spans

    def annotation(self, spans, annotator="ana", topics=(), stance=None, kind="analyst", relations=()):
        spans = sorted(spans, key=lambda s: (s["start"], -s["end"], s["id"]))
        return {"id": self.id(), "annotator": annotator, "kind": kind, "status": "submitted",
                "created": "2026-12-01T09:00:00Z", "updated": "2026-12-02T09:00:00Z", "spans": spans,
                "relations": [{"id": self.id(), "type": "speaker", "source": s, "target": t} for s, t in relations],
                "topics": sorted(topics), "stance": stance or {}}

    def record(self, text, language, annotations):
        n = self.id()
        return {"id": n, "title": f"Article {n}", "text": text, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "source": "TASS" if n % 2 else None, "url": f"https://news.example/{n}", "published": "2024-03-01",
                "language": language, "metadata": {"n": n}, "annotations": annotations}


def corpus():
    c = Corpus()
    arabic = (SEEDS / "002_fbed2bf9dc136266.txt").read_text(encoding="utf-8")[:2500]
    english = (SEEDS / "000_ae679646e52ec00c.txt").read_text(encoding="utf-8")[:3000]
    across = "Lavrov said “the West is trying”.\nThe ministry agreed.\n\n  Then\u00a0nothing   more.\n"

    quote = c.phrase(across, "the West is trying", "Quote", attributes={"stance": "critical"})
    source = c.phrase(across, "Lavrov", "Source")
    clitics = [
        c.phrase(arabic, "قناة روسيا-1", "Source"),  # after the ل of لقناة
        c.phrase(arabic, "تسحب", "Claim"),  # after و” of و”تسحب
        c.phrase(arabic, "رويترز", "Source"),  # after لـ” of لـ”رويترز
        c.phrase(arabic, "التزامن", "Quote"),  # after the ب of بالتزامن
    ]
    nested = [
        c.phrase(arabic, "“الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية”", "Claim"),
        c.phrase(arabic, "الدول الغربية التي تتودد الآن إلى أرمينيا", "Quote"),
        c.phrase(arabic, "الدول الغربية", "Quote", 1),  # a Quote inside a Quote
        c.phrase(arabic, "أرمينيا", "Source", 1),
        c.phrase(arabic, "سيرغي لافروف", "Source"),
    ]
    records = [
        c.record(across, "en", [
            c.annotation([source, quote, c.phrase(across, "trying”.\nThe ministry", "Claim"), c.phrase(across, "\n\n  ", "Claim"),
                          c.phrase(across, "avro", "Source"), c.phrase(across, "\u00a0", "Quote"),
                          c.phrase(across, "the West", "Quote"), c.phrase(across, "West is", "Quote")],
                         topics=["Armenia"], stance={"the West": "critical", "Russia": "neutral"},
                         relations=[(quote["id"], source["id"])]),
            c.annotation([c.phrase(across, "ministry agreed", "Quote"), c.phrase(across, "said", "Claim")], annotator="bob",
                         topics=["Syria"]),
            c.annotation([], annotator=None, kind="agreed") | {"agreed_by": ["ana", "bob"], "id": None},
        ]),
        c.record(EMOJI_TEXT, "", [c.annotation([
            c.phrase(EMOJI_TEXT, "👩\u200d👩\u200d👧", "Source"), c.phrase(EMOJI_TEXT, "🇦🇲", "Claim"),
            c.phrase(EMOJI_TEXT, "q\u0307 مُحَمَّد", "Claim"), c.phrase(EMOJI_TEXT, "avro", "Source"),
            c.phrase(EMOJI_TEXT, "NATO is expanding", "Quote", review={"decision": "accepted", "from": ["ana"]}),
        ])]),
        c.record(arabic, "ar", [
            c.annotation([*clitics, *nested, *c.random_spans(arabic, "ar", 60)], topics=["Syria"]),
            c.annotation(c.random_spans(arabic, "ar", 60), annotator="bob", topics=["Armenia", "Other"]),
            c.annotation(nested[:2] + [c.phrase(arabic, "قناة", "Source")], annotator="gold", kind="gold"),
        ]),
        # the same text again straight after, in another language: tokenized again
        c.record(arabic, "en", [c.annotation(c.random_spans(arabic, "en", 40))]),
        c.record(english, "en", [c.annotation(c.random_spans(english, "en", 80)),
                                 c.annotation(c.random_spans(english, "en", 80), annotator="bob")]),
        c.record("Café crème — “quoted”.\tTabbed\r\nline", "fr", [c.annotation([])]),
        c.record("", "en", [c.annotation([])]),
        c.record("No annotations here.", "zz", []),
        c.record(english, "en", [c.annotation(c.random_spans(english, "en", 30), annotator="cat")]),
    ]
    return [(r, SPLITS[i % 3]) for i, r in enumerate(records)]


def digests(tmp_path, formats) -> dict:
    """{format: {file name: SHA-256, "report": the report's SHA-256}} of what the writers of
    `formats` write from the corpus, fed each record in turn as a snapshot build does."""
    output = Output(tmp_path)
    writers = {name: WRITERS[name](output, SCHEMA) for name in formats}
    for record, split in corpus():
        for writer in writers.values():
            writer.add(record, split)
    reports = {name: writer.close() for name, writer in writers.items()}
    output.close()
    result = {name: {"report": hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()}
              for name, report in reports.items()}
    for name, format_name in sorted(output.files.items()):
        result[format_name][name] = hashlib.sha256(output._temporary(name).read_bytes()).hexdigest()
    return result


EXPECTED = {
    "spacy": {
        "report": "6bc5f2cf556c24e9284242306b4b26fe9adcb5ff07578faa447bed601845ed2b",
        "test.spacy": "c00357aa20e18cc7052ce1e7a4edabfc75a57fbafeb486436ae65c5d973caebb",
        "train.spacy": "d686dfacfb61741cbdd7c81bacd3be269d3db1ba29818542476f2ad02fc02abf",
        "validation.spacy": "c707b08ed205ab5e8d3fec7405c470ffb319a4919fe0d4a888251552bea29b61",
    },
    "conll": {
        "report": "b18d83d39798bf3dbb69b95b8f0da0b7056ddd604edba1ac0d0aa16abe70f4bd",
        "test.conll": "7e29556501395a21391cb16a2d87561d8657b949c921fb0dde0041899ee4057d",
        "train.conll": "8e24849e6542922fef47456d454cf1b63627acdacdb85a7edd8916f10d6dd259",
        "validation.conll": "7189a5590f898360e5a94a1f446ddfdfd713752790c54c8326c7f34419ac46d4",
    },
    "parquet": {
        "report": "b18d83d39798bf3dbb69b95b8f0da0b7056ddd604edba1ac0d0aa16abe70f4bd",
        "test.parquet": "cc709826205f7d8f2ccbc3033913e4bba44c4c49f93c9035e59a92e055906ad2",
        "train.parquet": "62f8ad4635a664c77af307bd270a55c5aa6c4a53bcf798282d8ba16760df2a14",
        "validation.parquet": "a862c94008ba7f647bc9c202b063e9a5878562898b6e18877c4fc6d79158d6f2",
    },
}
EXPECTED_SHARDED = {
    "report": "6bc5f2cf556c24e9284242306b4b26fe9adcb5ff07578faa447bed601845ed2b",
    "test/test-00000.spacy": "a214bff27b3c327d28df2eee5e5a1376064d0698c36e51bff4ade02cec27afe6",
    "test/test-00001.spacy": "b1badf780f6c6c958235bc12706d7accf63d49dc841254dae44d697dc4743d6c",
    "test/test-00002.spacy": "f191022bd4bc225a440ffedd602087b949fdcd20761dae9d66f4e4f12113788b",
    "train/train-00000.spacy": "426a2520241308142cd12f0b443b93624d7b728a5dc998fa8c9849cd531621dc",
    "train/train-00001.spacy": "0e3196e8486d6cdf1d0ed6f73cdf3b6a73e9ed7d3dc4a83d376b08e72493c56c",
    "train/train-00002.spacy": "0078fc4ee571b34c919dbf5e9df6e878addb7819ee522c2cc8c6de82a25862f1",
    "validation/validation-00000.spacy": "233dbe33e425bd7b8115d3e76e05f13830159b248b348dee88e615800f3b8e37",
    "validation/validation-00001.spacy": "cbfccb8ecfbf5f227e7f6eceac153aacf216a82d9223a249dce1dc0ea190cc41",
}


@pytest.mark.parametrize("formats", [["spacy"], ["conll"], ["parquet"], ["spacy", "conll", "parquet"], ["parquet", "conll"]])
def test_token_format_bytes_are_the_recorded_ones(tmp_path, formats):
    assert digests(tmp_path, formats) == {name: EXPECTED[name] for name in formats}


def test_spacy_shards_bytes_are_the_recorded_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", 2)
    assert digests(tmp_path, ["spacy"]) == {"spacy": EXPECTED_SHARDED}


def test_the_corpus_reaches_the_hostile_cases(tmp_path):
    output = Output(tmp_path)
    writer = conll.Writer(output, SCHEMA)
    for record, split in corpus():
        writer.add(record, split)
    report = writer.close()
    for count in ("unaligned_spans", "overlapping_spans_left_out_of_the_ner_column",
                  "same_label_overlaps_left_out_of_their_label_column", "spans_on_whitespace_only", "clitic_splits"):
        assert sum(report[count].values()) > 0, count
    assert set(report["spans_by_language"]) == {"en", "ar", "xx", "fr"}
