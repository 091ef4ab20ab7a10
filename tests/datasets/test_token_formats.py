"""The spaCy and CoNLL writers against the plain way to write them, byte for byte.

The plain way is what the writers did before they were made fast: a fresh spaCy tokenizer, one
`Doc` per annotation, `doc.char_span(..., alignment_mode="strict")`, `doc.ents`, `doc.spans`,
`DocBin.add` and a token-by-token loop for CoNLL. The texts and spans are chosen to break the
fast way: Arabic, emoji and combining marks, nested and overlapping spans, spans inside words,
across line breaks and on whitespace alone, several annotations on one article, shards that end
between the annotations of one article, and both writers fed each record in turn.
"""

import random
import re
import unicodedata

import pytest
import spacy
from spacy.attrs import ORTH
from spacy.tokens import Doc, DocBin

from annotator.datasets.formats import Output, annotator_name, conll, spacy_docbin
from annotator.datasets.formats.tokens import ARABIC_LETTERS, PROCLITIC, blank, make_nlp, tokenize, tokenizer_language

from .conftest import EMOJI_TEXT
from .helpers import SEEDS

SPLITS = ("train", "validation", "test")
LABELS = ["Claim", "Quote", "Source"]
SCHEMA = {"labels": [{"name": name} for name in LABELS], "topics": ["Armenia", "Syria", "Other"]}


# The plain way -------------------------------------------------------------------------------

_fresh = {}


def fresh_nlp(language):
    """A tokenizer of the same language as the writers', never used by them (its own cache)."""
    if language not in _fresh:
        _fresh[language] = make_nlp(tokenizer_language(language))
    return _fresh[language]


def plain_doc(record):
    """The record's text tokenized, then each token cut where a span edge of any of its
    annotations leaves a proclitic before an Arabic letter; and how many cuts."""
    text = record["text"]
    doc = fresh_nlp(record["language"]).make_doc(text)
    edges = {edge for a in record["annotations"] for s in a["spans"] for edge in (s["start"], s["end"])}
    words, spaces, norms, cuts = [], [], [], 0
    for token in doc:
        start, end = token.idx, token.idx + len(token)
        bounds = [start]
        for edge in sorted(e for e in edges if start < e < end):
            if PROCLITIC.fullmatch(text[start:edge]) and re.match(f"[{ARABIC_LETTERS}]", text[edge]):
                bounds.append(edge)
        bounds.append(end)
        cuts += len(bounds) - 2
        words += [text[a:b] for a, b in zip(bounds, bounds[1:])]
        spaces += [False] * (len(bounds) - 2) + [bool(token.whitespace_)]
        # a token left whole keeps its norm (a tokenizer exception may have set one)
        norms += [token.norm_] if len(bounds) == 2 else [None] * (len(bounds) - 1)
    if not cuts:
        return doc, 0
    split = Doc(doc.vocab, words=words, spaces=spaces)
    for token, norm in zip(split, norms, strict=True):
        if norm is not None:
            token.norm_ = norm
    return split, cuts


def plain_docs(record):
    """(annotation, doc, aligned spans, kept spans, unaligned count) per annotation."""
    order = {label: i for i, label in enumerate(LABELS)}
    for annotation in record["annotations"]:
        doc, _ = plain_doc(record)
        aligned, unaligned = [], 0
        for span in annotation["spans"]:
            token_span = doc.char_span(span["start"], span["end"], label=span["label"], alignment_mode="strict")
            if token_span is None:
                unaligned += 1
            else:
                aligned.append((span, token_span))
        kept = []
        for pair in sorted(aligned, key=lambda p: (-(p[0]["end"] - p[0]["start"]), p[0]["start"], order[p[0]["label"]], p[0]["id"])):
            if all(pair[1].end <= other.start or pair[1].start >= other.end for _, other in kept):
                kept.append(pair)
        kept.sort(key=lambda pair: pair[1].start)
        yield annotation, doc, aligned, kept, unaligned


def plain_spacy(records, shard_docs):
    """{file name: bytes} and the counts, as the writer wrote them before."""
    docs = {split: [] for split in SPLITS}
    unaligned, overlapping = dict.fromkeys(SPLITS, 0), dict.fromkeys(SPLITS, 0)
    for record, split in records:
        for annotation, doc, aligned, kept, missed in plain_docs(record):
            unaligned[split] += missed
            overlapping[split] += len(aligned) - len(kept)
            doc.spans["sc"] = [span for _, span in aligned]
            doc.ents = [span for _, span in kept]
            doc.cats = {topic: float(topic in annotation["topics"]) for topic in SCHEMA["topics"]}
            doc.user_data.update(
                {
                    "article_id": record["id"],
                    "sha256": record["sha256"],
                    "language": record["language"],
                    "annotation_id": annotation.get("id"),
                    "annotator": annotator_name(annotation),
                    "kind": annotation["kind"],
                    "split": split,
                    "stance": dict(sorted(annotation["stance"].items())),
                }
            )
            docs[split].append(doc)
    files = {}
    for split, split_docs in docs.items():
        shards = [split_docs[i : i + shard_docs] for i in range(0, len(split_docs), shard_docs)]
        for n, shard in enumerate(shards):
            name = f"{split}.spacy" if len(shards) == 1 else f"{split}/{split}-{n:05d}.spacy"
            files[name] = DocBin(docs=shard, attrs=spacy_docbin.ATTRS, store_user_data=True).to_bytes()
    return files, {"unaligned_spans": unaligned, "overlapping_spans_left_out_of_ents": overlapping, **plain_losses(records)}


def plain_losses(records):
    """Tokens cut at proclitics per split; spans given and spans not on token boundaries per
    tokenizer language (and label)."""
    splits, given, missed = dict.fromkeys(SPLITS, 0), {}, {}
    for record, split in records:
        splits[split] += plain_doc(record)[1]
        language = tokenizer_language(record["language"])
        for annotation, doc, _, _, _ in plain_docs(record):
            given[language] = given.get(language, 0) + len(annotation["spans"])
            for s in annotation["spans"]:
                if doc.char_span(s["start"], s["end"], alignment_mode="strict") is None:
                    by_label = missed.setdefault(language, {})
                    by_label[s["label"]] = by_label.get(s["label"], 0) + 1
    return {"clitic_splits": splits, "spans_by_language": given, "unaligned_by_language": missed}


def plain_layers(aligned):
    """Each label's column: its spans, one per set of tokens, the longest winning among those that
    overlap; and how many were left out."""
    order = {label: i for i, label in enumerate(LABELS)}
    columns, dropped = [], 0
    for label in LABELS:
        distinct = {}
        for pair in aligned:
            if pair[0]["label"] == label:
                distinct.setdefault((pair[1].start, pair[1].end), pair)
        kept = []
        for pair in sorted(distinct.values(), key=lambda p: (-(p[0]["end"] - p[0]["start"]), p[0]["start"], order[p[0]["label"]], p[0]["id"])):
            if all(pair[1].end <= other.start or pair[1].start >= other.end for _, other in kept):
                kept.append(pair)
        dropped += len(distinct) - len(kept)
        columns.append(kept)
    return columns, dropped


def plain_conll(records):
    texts = {}
    counts = {key: dict.fromkeys(SPLITS, 0) for key in (
        "unaligned_spans", "overlapping_spans_left_out_of_the_ner_column",
        "same_label_overlaps_left_out_of_their_label_column", "spans_on_whitespace_only",
    )}
    for record, split in records:
        for annotation, doc, aligned, kept, missed in plain_docs(record):
            layers, same_label = plain_layers(aligned)
            tags = [["O"] * len(doc) for _ in range(1 + len(LABELS))]
            inside = [False] * len(doc)
            wordless = [0] * len(tags)
            for column, spans in enumerate([kept, *layers]):
                for _, span in spans:
                    words = [t.i for t in span if not t.is_space]
                    if not words:
                        wordless[column] += 1
                        continue
                    tags[column][words[0]] = f"B-{span.label_}"
                    for i in words[1:]:
                        tags[column][i] = f"I-{span.label_}"
                    for i in range(span.start, span.end):
                        inside[i] = True
            counts["unaligned_spans"][split] += missed
            counts["overlapping_spans_left_out_of_the_ner_column"][split] += len(aligned) - len(kept) + wordless[0]
            counts["same_label_overlaps_left_out_of_their_label_column"][split] += same_label
            counts["spans_on_whitespace_only"][split] += sum(wordless[1:])
            annotation_id = annotation.get("id")
            lines = [
                f"-DOCSTART- article_id={record['id']} annotation_id={'-' if annotation_id is None else annotation_id} "
                f"annotator={annotator_name(annotation)} language={record['language'] or '-'}\n",
                "\n",
            ]
            sentence_open = False
            for token in doc:
                if token.is_space:
                    if "\n" in token.text and not inside[token.i] and sentence_open:
                        lines.append("\n")
                        sentence_open = False
                    continue
                row = " ".join(column[token.i] for column in tags)
                lines.append(f"{re.sub(r'\s', '_', token.text)} _ _ {row}\n")
                sentence_open = True
            if sentence_open:
                lines.append("\n")
            texts[f"{split}.conll"] = texts.get(f"{split}.conll", "") + "".join(lines)
    return texts, {**counts, **plain_losses(records)}


# Records ------------------------------------------------------------------------------------

_ids = iter(range(1, 10**6))


def span(text, start, end, label):
    return {"id": next(_ids), "start": start, "end": end, "label": label, "text": text[start:end], "attributes": {}}


def phrase(text, words, label, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(words, start + 1)
    return span(text, start, start + len(words), label)


def annotation(spans, annotator="ana", topics=(), stance=None, kind="analyst"):
    return {"id": next(_ids), "annotator": annotator, "kind": kind, "status": "submitted", "spans": spans, "relations": [],
            "topics": sorted(topics), "stance": stance or {}}


def record(article_id, text, language, annotations):
    return {"id": article_id, "text": text, "language": language, "sha256": f"sha-{article_id}", "annotations": annotations}


def random_spans(text, language, rng, count):
    """Spans on token boundaries (most), inside words, over whitespace, nested and overlapping."""
    doc = fresh_nlp(language).make_doc(text)
    starts = [t.idx for t in doc]
    ends = [t.idx + len(t) for t in doc]
    spans = []
    for _ in range(count):
        if rng.random() < 0.8:
            first = rng.randrange(len(doc))
            last = min(len(doc) - 1, first + rng.choice([0, 0, 1, 2, 3, 5, 8, 20]))
            start, end = starts[first], ends[last]
        else:
            start = rng.randrange(len(text) - 1)
            end = min(len(text), start + rng.randrange(1, 30))
        spans.append(span(text, start, end, rng.choice(LABELS)))
    # records come ordered by start, then longest first, then id
    return sorted(spans, key=lambda s: (s["start"], -s["end"], s["id"]))


def corpus():
    rng = random.Random(5)
    english = (SEEDS / "000_ae679646e52ec00c.txt").read_text(encoding="utf-8")
    arabic = (SEEDS / "002_fbed2bf9dc136266.txt").read_text(encoding="utf-8")
    across = "Lavrov said “the West is trying”.\nThe ministry agreed.\n\n  Then\u00a0nothing   more.\n"
    ascii_english = english.encode("ascii", "ignore").decode()
    assert ascii_english.isascii() and "\n" in ascii_english
    records = [
        record(1, across, "en", [
            annotation([phrase(across, "Lavrov", "Source"), phrase(across, "the West is trying", "Quote"),
                        phrase(across, "trying”.\nThe ministry", "Claim"), phrase(across, "\n\n  ", "Claim"),
                        phrase(across, "avro", "Source"), phrase(across, "\u00a0", "Quote")],
                       topics=["Armenia"], stance={"the West": "critical", "Russia": "neutral"}),
            # the same article, other spans: nothing may leak from the first annotation's
            annotation([phrase(across, "ministry agreed", "Quote"), phrase(across, "said", "Claim")], annotator="bob", topics=["Syria"]),
            annotation([], annotator=None, kind="consensus") | {"agreed_by": ["ana", "bob"]},
        ]),
        record(2, EMOJI_TEXT, "", [annotation([phrase(EMOJI_TEXT, "👩\u200d👩\u200d👧", "Source"), phrase(EMOJI_TEXT, "🇦🇲", "Claim"),
                                               phrase(EMOJI_TEXT, "q\u0307 مُحَمَّد", "Claim"), phrase(EMOJI_TEXT, "avro", "Source")])]),
        record(3, english, "en", [annotation(random_spans(english, "en", rng, 300)),
                                  annotation(random_spans(english, "en", rng, 300), annotator="bob", topics=["Other", "Syria"])]),
        record(4, arabic, "ar", [annotation(random_spans(arabic, "ar", rng, 200), topics=["Syria"]),
                                 annotation(random_spans(arabic, "ar", rng, 200), annotator="bob")]),
        # the same text again straight after, in another language: tokenized again
        record(5, arabic, "en", [annotation(random_spans(arabic, "en", rng, 100))]),
        record(6, unicodedata.normalize("NFC", "Café crème — “quoted”.\tTabbed\r\nline"), "fr", [annotation([])]),
        record(7, "", "en", [annotation([])]),
        record(8, "No annotations here.", "zz", []),
        # ASCII only: a string of one byte a character, where the others are of four (emoji)
        record(9, ascii_english, "en", [annotation(random_spans(ascii_english, "en", rng, 200)),
                                        annotation(random_spans(ascii_english, "en", rng, 200), annotator="bob")]),
    ]
    for n, seed in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = seed.read_text(encoding="utf-8")
        language = "ar" if "002_" in seed.name else "en"
        records.append(record(100 + n, text, language, [annotation(random_spans(text, language, rng, 150)),
                                                        annotation(random_spans(text, language, rng, 150), annotator="bob")]))
    return [(r, SPLITS[i % 3]) for i, r in enumerate(records)]


def write(tmp_path, records, formats):
    output = Output(tmp_path)
    writers = [cls(output, SCHEMA) for cls in formats]
    for r, split in records:
        for writer in writers:  # as the snapshot build does: each record to every writer in turn
            writer.add(r, split)
    reports = [writer.close() for writer in writers]
    output.close()
    return output, reports


def written(tmp_path, output, name):
    return output._temporary(name).read_bytes()


# Tests --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shard_docs", [1000, 2])
def test_spacy_and_conll_files_are_the_plain_ones_byte_for_byte(tmp_path, monkeypatch, shard_docs):
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", shard_docs)
    records = corpus()
    output, (spacy_report, conll_report) = write(tmp_path, records, [spacy_docbin.Writer, conll.Writer])

    spacy_files, spacy_counts = plain_spacy(records, shard_docs)
    assert sorted(name for name, fmt in output.files.items() if fmt == "spacy") == sorted(spacy_files)
    for name, content in spacy_files.items():
        assert written(tmp_path, output, name) == content, name
    assert spacy_report == spacy_counts

    conll_files, conll_counts = plain_conll(records)
    assert sorted(name for name, fmt in output.files.items() if fmt == "conll") == sorted(conll_files)
    for name, content in conll_files.items():
        assert written(tmp_path, output, name).decode("utf-8") == content, name
    assert conll_report == conll_counts
    # the corpus does reach the cases it is meant to
    assert sum(spacy_counts["unaligned_spans"].values()) > 100
    assert sum(spacy_counts["overlapping_spans_left_out_of_ents"].values()) > 100
    assert sum(conll_counts["overlapping_spans_left_out_of_the_ner_column"].values()) > sum(spacy_counts["overlapping_spans_left_out_of_ents"].values())
    assert sum(conll_counts["same_label_overlaps_left_out_of_their_label_column"].values()) > 50
    assert sum(conll_counts["spans_on_whitespace_only"].values()) > 0
    assert sum(spacy_counts["clitic_splits"].values()) > 0
    if shard_docs == 2:
        assert "train/train-00003.spacy" in spacy_files


def test_annotations_of_one_article_keep_their_own_spans(tmp_path):
    records = corpus()[:1]
    output, _ = write(tmp_path, records, [spacy_docbin.Writer])
    vocab = spacy.blank("en").vocab
    ana, bob, consensus = DocBin().from_bytes(written(tmp_path, output, "train.spacy")).get_docs(vocab)
    assert [(s.text, s.label_) for s in ana.spans["sc"]] == [
        ("Lavrov", "Source"), ("the West is trying", "Quote"), ("trying”.\nThe ministry", "Claim"), ("\n\n  ", "Claim"), ("\u00a0", "Quote")]
    assert [(e.text, e.label_) for e in ana.ents] == [
        ("Lavrov", "Source"), ("trying”.\nThe ministry", "Claim"), ("\n\n  ", "Claim"), ("\u00a0", "Quote")]
    assert [(s.text, s.label_) for s in bob.spans["sc"]] == [("ministry agreed", "Quote"), ("said", "Claim")]  # as given
    assert [(e.text, e.label_) for e in bob.ents] == [("said", "Claim"), ("ministry agreed", "Quote")]
    assert list(consensus.spans["sc"]) == [] and list(consensus.ents) == []
    assert (ana.cats, bob.cats) == ({"Armenia": 1.0, "Syria": 0.0, "Other": 0.0}, {"Armenia": 0.0, "Syria": 1.0, "Other": 0.0})
    assert ana.user_data["stance"] == {"Russia": "neutral", "the West": "critical"}
    assert consensus.user_data["annotator"] == "ana+bob"
    assert (ana.user_data["annotation_id"], ana.user_data["language"]) == (records[0][0]["annotations"][0]["id"], "en")
    assert ana.text == bob.text == consensus.text == records[0][0]["text"]


def test_the_attributes_left_out_of_the_files_are_empty_so_the_docs_read_back_are_the_same():
    vocab = spacy.blank("en").vocab
    docs = []
    for record, _ in corpus():
        for _, doc, _, kept, _ in plain_docs(record):
            doc.ents = [span for _, span in kept]
            docs.append(doc)
    assert sum(len(doc.ents) for doc in docs) > 10

    def read_back(attrs):
        return [doc.to_json() for doc in DocBin(attrs=attrs).from_bytes(DocBin(docs=docs, attrs=attrs).to_bytes()).get_docs(vocab)]

    assert read_back(spacy_docbin.ATTRS) == read_back(DocBin().attrs)


def test_tokens_are_spacys_whatever_its_cache_holds():
    # The writers fill the tokenizer's cache chunk by chunk; the tokens must not depend on it.
    texts = [r["text"] for r, _ in corpus()]
    for text in texts * 2:
        for language in ("en", "ar", ""):
            tokens = tokenize(text, language)
            plain = fresh_nlp(language).make_doc(text)
            assert [(t.text, t.whitespace_) for t in tokens.doc] == [(t.text, t.whitespace_) for t in plain]
            assert tokens.starts.tolist() == [t.idx for t in plain]
            assert tokens.ends.tolist() == [t.idx + len(t) for t in plain]


def test_the_pipeline_is_replaced_when_its_cache_is_full_and_the_tokens_stay_the_same(monkeypatch):
    # Its vocabulary and cache only grow: after CACHE_SIZE new chunks a fresh pipeline takes over.
    from annotator.datasets.formats import tokens as tokens_module

    monkeypatch.setattr(tokens_module, "CACHE_SIZE", 300)
    blank.cache_clear()  # a new pipeline, and the set of the chunks its cache has seen with it
    tokens_module._seen.cache_clear()
    texts = [r["text"] for r, _ in corpus()]
    pipelines = []  # the pipelines themselves: an id may be reused once one is dropped
    for text in texts * 3:
        if not pipelines or pipelines[-1] is not blank("en"):
            pipelines.append(blank("en"))
        tokens = tokenize(text + " ", "en")  # never the last article again: tokenized each time
        plain = fresh_nlp("en").make_doc(text + " ")
        assert [(t.text, t.whitespace_) for t in tokens.doc] == [(t.text, t.whitespace_) for t in plain]
        assert len(tokens_module._seen("en")) <= 300 or len(set(text.split())) > 300
    assert len(pipelines) > 1
    blank.cache_clear()
    tokens_module._seen.cache_clear()


def test_whitespace_inside_a_token_is_written_as_underscores(tmp_path):
    # Only a special case with a space makes such a token; this language code is this test's own.
    language = "en-x-new-york"
    for nlp in (blank(language), fresh_nlp(language)):
        nlp.tokenizer.add_special_case("New York", [{ORTH: "New York"}])
    text = "Officials in New York said so.\nNew York agreed, in New York."
    records = [(record(1, text, language, [annotation([phrase(text, "New York", "Source"), phrase(text, "New York agreed", "Claim")])]), "train")]
    output, (spacy_report, conll_report) = write(tmp_path, records, [spacy_docbin.Writer, conll.Writer])
    conll_files, conll_counts = plain_conll(records)
    document = written(tmp_path, output, "train.conll").decode("utf-8")
    assert document == conll_files["train.conll"]
    assert "New_York _ _ B-Source O O B-Source\nsaid _ _ O O O O\n" in document
    assert "New_York _ _ B-Claim B-Claim O O\nagreed _ _ I-Claim I-Claim O O\n" in document
    assert "in _ _ O O O O\nNew_York _ _ O O O O\n" in document
    assert written(tmp_path, output, "train.spacy") == plain_spacy(records, 1000)[0]["train.spacy"]
    # Parquet alone makes its tokens from the text's bytes, not from the CoNLL words: the same
    # words all the same, "_" for the space included.
    import pyarrow.parquet as pq

    from annotator.datasets.formats import parquet

    fields = {"title": "t", "source": None, "url": "", "published": None, "metadata": {}}
    (tmp_path / "parquet").mkdir()
    output = Output(tmp_path / "parquet")
    writer = parquet.Writer(output, SCHEMA)
    writer.add({**records[0][0], **fields}, "train")
    writer.close()
    output.close()
    row = pq.read_table(output._temporary("train.parquet")).to_pylist()[0]
    lines = [line for line in document.split("\n")[2:] if line]
    assert row["tokens"] == [line.split(" ")[0] for line in lines]
    assert row["tokens"][2:5] == ["New_York", "said", "so"]


def test_a_shard_that_fails_to_write_fails_the_export(tmp_path, monkeypatch):
    # Shards are written on a thread of their own: its error must reach the build, not vanish.
    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(DocBin, "to_bytes", broken)
    monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", 2)
    writer = spacy_docbin.Writer(Output(tmp_path), SCHEMA)
    with pytest.raises(OSError, match="disk full"):
        for r, split in corpus():
            writer.add(r, split)
        writer.close()


def test_parquet_tags_are_the_conll_columns_when_both_are_written_from_the_same_records(tmp_path):
    # Both writers share each annotation's layers (`conll.layered`): written together, the CoNLL
    # files are still the plain ones, and every Parquet tag column is the CoNLL column of its name.
    import pyarrow.parquet as pq

    from annotator.datasets.formats import parquet

    fields = {"title": "t", "source": None, "url": "", "published": None, "metadata": {}}
    records = [({**r, **fields}, split) for r, split in corpus()]
    schema = {**SCHEMA, "labels": [{"name": name, "attributes": []} for name in LABELS]}
    output = Output(tmp_path)
    writers = [conll.Writer(output, schema), parquet.Writer(output, schema)]
    for r, split in records:
        for writer in writers:
            writer.add(r, split)
    conll_report, parquet_report = [writer.close() for writer in writers]
    output.close()
    conll_files, conll_counts = plain_conll(records)
    assert conll_report == parquet_report == conll_counts
    compared = 0
    for split in SPLITS:
        document = written(tmp_path, output, f"{split}.conll").decode("utf-8")
        assert document == conll_files[f"{split}.conll"]
        documents = []
        for line in document.split("\n"):
            if line.startswith("-DOCSTART-"):
                documents.append([])
            elif line:
                documents[-1].append(line.split(" "))
        rows = pq.read_table(output._temporary(f"{split}.parquet")).to_pylist()
        assert len(rows) == len(documents)
        names = parquet.tag_names(LABELS)
        for row, lines in zip(rows, documents):
            assert row["tokens"] == [line[0] for line in lines]
            assert [names[t] for t in row["ner_tags"]] == [line[3] for line in lines]
            for k, label in enumerate(LABELS):
                assert [["O", f"B-{label}", f"I-{label}"][t] for t in row[f"tags:{label}"]] == [line[4 + k] for line in lines]
                compared += sum(1 for t in row[f"tags:{label}"] if t)
    assert compared > 1000


def test_parquet_dictionary_encodes_the_columns_of_few_values_and_not_the_words(tmp_path):
    # Every name in DICTIONARY_COLUMNS is a column of the file (a renamed one would silently go
    # back to plain encoding), and the words and texts, hashed into dictionaries, are not.
    import pyarrow.parquet as pq

    from annotator.datasets.formats import parquet

    fields = {"title": "t", "source": "wire", "url": "", "published": None, "metadata": {}}
    schema = {**SCHEMA, "labels": [{"name": name, "attributes": []} for name in LABELS]}
    output = Output(tmp_path)
    writer = parquet.Writer(output, schema)
    for r, split in corpus():
        writer.add({**r, **fields}, split)
    writer.close()
    output.close()
    metadata = pq.ParquetFile(output._temporary("train.parquet")).metadata
    chunks = {metadata.schema.column(i).path: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    assert set(parquet.DICTIONARY_COLUMNS) <= set(chunks)
    for path in parquet.DICTIONARY_COLUMNS:
        assert chunks[path].has_dictionary_page, path
    for path in ("text", "title", "tokens.list.element", "spans.list.element.text"):
        assert not chunks[path].has_dictionary_page, path
