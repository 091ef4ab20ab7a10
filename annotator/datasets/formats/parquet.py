"""Parquet files, one per split, that `datasets.load_dataset("parquet", data_files=...)` loads
with typed features: label names, not bare numbers.

One row per (article, annotation), columns (Hugging Face `datasets` feature in brackets):
- article_id, sha256, title, text, language, source, url, published (ISO date or null),
  metadata (JSON text);
- annotation_id (null for the "agreed" consensus), annotator ("ana+bob" for a consensus), kind,
  created, updated (ISO 8601 UTC, when the records carry them);
- topics [Sequence(ClassLabel(names=the schema's topics))]: multi-label, each chosen topic's index;
- stance: list of {target, value};
- tokens [Sequence(Value("string"))]: the article's words, spaCy's tokens without whitespace,
  exactly the tokens of the CoNLL files (`tokens`, `conll.Words`);
- ner_tags [Sequence(ClassLabel(names=["O", "B-Claim", "I-Claim", "B-Quote", …]))]: one tag a
  token, the CoNLL NER column (overlaps: the longest span wins);
- `tags:<label>` for each label, in the schema's order [Sequence(ClassLabel(names=["O",
  "B-<label>", "I-<label>"]))]: every span of that label, nested or overlapping ones of other
  labels included, the CoNLL label column;
- spans: list of {id, start, end, label, text, attributes (JSON text), token_start, token_end
  (the span's tokens, `tokens[token_start:token_end]`; null if it is not on token boundaries or
  holds no word), created, updated, review ({decision, from}, for gold spans)}; every span,
  whether or not it is on token boundaries. Offsets are code points: `text[start:end] == span text`;
- relations: list of {id, type, source, target} (span ids).

Keys another part of the export adds to the records (the contract in `records`: ids, times,
review) are read with `.get()`: until they are there, they are null.

The features are written into the Arrow schema's metadata under "huggingface", as `datasets`
writes them (`Features.arrow_schema`), in the older spelling ("Sequence", and a list for a list
of structs) that `datasets` 2 to 5 all read. Tags are computed from each word's codes as arrays
(`conll.word_codes`) and handed to Arrow as arrays, never a Python value per token; an
article's words are made one Arrow string array once, for all its rows, from its text's UTF-8
bytes (`arrow_words`), never a Python string per word.

Rows are written a row group at a time (ROW_GROUP rows), so memory does not grow with the number of
articles. A row group's rows are gathered a list per column (and per span field), and each
column made an Arrow array from its list in one call: no dict per row or per span for Arrow to
read back key by key (`pa.Table.from_pylist` did that).

A snapshot written by several shard tasks (`join`) has one file per shard of a split,
`train-00000.parquet`, `train-00001.parquet`, … (a split of one shard's records: `train.parquet`),
which the card's `data_files` lists: `datasets` and pandas read a split of several files as one.
They are the shards' own files renamed, never read again nor rewritten.
"""

import json
import os

import numpy

from ..splits import SPLITS
from . import annotator_name
from .conll import Losses, layered, words_of
from .tokens import record_tokens

ROW_GROUP = 250

# The columns dictionary-encoded: those of few distinct values. The words, texts, titles and
# ids are not: hashing every word into a dictionary page (most pages then fell back to plain
# encoding anyway) was a sixth of writing the file, for files 4 % smaller (docs/performance.md,
# fourteenth session).
DICTIONARY_COLUMNS = [
    "language", "source", "annotator", "kind", "stance.list.element.target", "stance.list.element.value",
    "spans.list.element.label", "spans.list.element.review.decision", "spans.list.element.review.from.list.element",
    "relations.list.element.type",
]

_STRING = {"dtype": "string", "_type": "Value"}
_INT = {"dtype": "int64", "_type": "Value"}


def _class_labels(names: list[str]) -> dict:
    return {"feature": {"names": names, "_type": "ClassLabel"}, "_type": "Sequence"}


def tag_names(labels: list[str]) -> list[str]:
    """The ner_tags' names: O, then B- and I- of each label in the schema's order."""
    return ["O"] + [f"{bio}-{label}" for label in labels for bio in "BI"]


def features(schema: dict) -> dict:
    """The `datasets` features of the rows, as `Features.to_dict()` gives them (older spelling)."""
    labels = [label["name"] for label in schema["labels"]]
    strings = {"feature": _STRING, "_type": "Sequence"}
    return {
        "article_id": _INT,
        "sha256": _STRING,
        "title": _STRING,
        "text": _STRING,
        "language": _STRING,
        "source": _STRING,
        "url": _STRING,
        "published": _STRING,
        "metadata": _STRING,
        "annotation_id": _INT,
        "annotator": _STRING,
        "kind": _STRING,
        "created": _STRING,
        "updated": _STRING,
        "topics": _class_labels(list(schema["topics"])),
        "stance": [{"target": _STRING, "value": _STRING}],
        "tokens": strings,
        "ner_tags": _class_labels(tag_names(labels)),
        **{f"tags:{label}": _class_labels(["O", f"B-{label}", f"I-{label}"]) for label in labels},
        "spans": [
            {
                "id": _INT, "start": _INT, "end": _INT, "label": _STRING, "text": _STRING, "attributes": _STRING,
                "token_start": _INT, "token_end": _INT, "created": _STRING, "updated": _STRING,
                "review": {"decision": _STRING, "from": strings},
            }
        ],
        "relations": [{"id": _INT, "type": _STRING, "source": _INT, "target": _INT}],
    }


def schema(project_schema: dict):
    """The Arrow schema of `features`, with the features in its metadata as `datasets` puts them."""
    import pyarrow as pa

    def arrow(feature):
        if isinstance(feature, list):
            return pa.list_(arrow(feature[0]))
        if feature.get("_type") == "Value":
            return pa.int64() if feature["dtype"] == "int64" else pa.string()
        if feature.get("_type") == "ClassLabel":
            return pa.int64()
        if feature.get("_type") == "Sequence":
            return pa.list_(arrow(feature["feature"]))
        return pa.struct([(name, arrow(inner)) for name, inner in feature.items()])

    described = features(project_schema)
    return pa.schema([(name, arrow(feature)) for name, feature in described.items()]).with_metadata(
        {"huggingface": json.dumps({"info": {"features": described}}, ensure_ascii=False)}
    )


# The columns whose values `_Rows` gathers as Python values, one a row, in the schema's order.
RECORD_COLUMNS = ("article_id", "sha256", "title", "text", "language", "source", "url", "published", "metadata")
ANNOTATION_COLUMNS = ("annotation_id", "annotator", "kind", "created", "updated", "topics", "stance", "relations")
SPAN_FIELDS = ("id", "start", "end", "label", "text", "attributes", "token_start", "token_end", "created", "updated", "review")


class _Rows:
    """The rows of a row group not written yet, a list per column (and per span field), not a
    dict per row and per span: Arrow makes each column's array from its list in one call."""

    def __init__(self):
        self.columns = {name: [] for name in (*RECORD_COLUMNS, *ANNOTATION_COLUMNS)}
        self.span_fields = {name: [] for name in SPAN_FIELDS}
        self.span_counts = []  # how many spans each row has
        self.codes = []  # each row's (columns, words) codes
        self.words = []  # each row's words, an Arrow array (its article's)

    def __len__(self) -> int:
        return len(self.span_counts)

    def add(self, record_values: tuple, annotation: dict, topics: list[int], span_words: dict, layer, words) -> None:
        """One row: the record's columns' values (`RECORD_COLUMNS`), the annotation's, its spans
        (`span_words` maps each span, by `id()`, to its words' range) and its words and tags."""
        columns = self.columns
        for name, value in zip(RECORD_COLUMNS, record_values):
            columns[name].append(value)
        columns["annotation_id"].append(annotation.get("id"))
        columns["annotator"].append(annotator_name(annotation))
        columns["kind"].append(annotation["kind"])
        columns["created"].append(annotation.get("created"))
        columns["updated"].append(annotation.get("updated"))
        columns["topics"].append(topics)
        columns["stance"].append([{"target": t, "value": v} for t, v in sorted(annotation["stance"].items())])
        columns["relations"].append(
            [{"id": r.get("id"), "type": r["type"], "source": r["source"], "target": r["target"]} for r in annotation["relations"]]
        )
        spans = annotation["spans"]
        fields = self.span_fields
        for key in ("id", "start", "end", "label", "text"):
            fields[key].extend([s[key] for s in spans])
        fields["attributes"].extend(
            [json.dumps(s["attributes"], ensure_ascii=False, sort_keys=True) if s["attributes"] else "{}" for s in spans]
        )
        ranges = [span_words.get(id(s), (None, None)) for s in spans]
        fields["token_start"].extend([first for first, _ in ranges])
        fields["token_end"].extend([after for _, after in ranges])
        for key in ("created", "updated", "review"):
            fields[key].extend([s.get(key) for s in spans])
        self.span_counts.append(len(spans))
        self.codes.append(layer.codes)
        self.words.append(words)

    def arrays(self, pa, schema) -> dict:
        """The columns but the words and tags, as Arrow arrays of the schema's types."""
        arrays = {name: pa.array(values, schema.field(name).type) for name, values in self.columns.items()}
        span_type = schema.field("spans").type.value_type
        children = [pa.array(self.span_fields[field.name], field.type) for field in span_type]
        offsets = pa.array(numpy.concatenate([[0], numpy.cumsum(self.span_counts, dtype=numpy.int64)]).astype(numpy.int32))
        arrays["spans"] = pa.ListArray.from_arrays(offsets, pa.StructArray.from_arrays(children, fields=list(span_type)))
        return arrays


def arrow_words(pa, words):
    """The article's words (`conll.Words`) as an Arrow string array, made from the bytes of
    its UTF-8 text: no Python string a word. A token with whitespace inside (a tokenizer special
    case), which `Words.words` writes with "_", takes the words' strings instead."""
    tokens = words.tokens
    data = tokens.text.encode()
    # Code point offsets -> UTF-8 byte offsets: the byte each code point starts at (any but a
    # continuation byte, 10xxxxxx), and the end.
    byte_at = numpy.append(numpy.flatnonzero((numpy.frombuffer(data, numpy.uint8) & 0xC0) != 0x80), len(data))
    first = tokens.start_array[words.written]
    starts, lengths = byte_at[first], byte_at[first + words.lengths] - byte_at[first]
    offsets = numpy.concatenate([[0], numpy.cumsum(lengths)])
    # Each word's bytes, one after the other: byte i of the result is byte i + (its word's start
    # in the text - its start in the result) of the text.
    taken = numpy.frombuffer(data, numpy.uint8)[numpy.arange(offsets[-1]) + numpy.repeat(starts - offsets[:-1], lengths)]
    joined = taken.tobytes().decode()
    if joined.split(maxsplit=1) != [joined]:
        return pa.array(words.words, pa.string())
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets.astype(numpy.int32)), pa.py_buffer(taken))


class Writer:
    format = "parquet"

    def __init__(self, output, schema_: dict):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.pq = pa, pq
        self.output = output
        self.labels = [label["name"] for label in schema_["labels"]]
        self.index = {label: i for i, label in enumerate(self.labels)}
        self.topics = {name: i for i, name in enumerate(schema_["topics"])}
        self.schema = schema(schema_)
        self.writers = {}
        self.rows = {split: _Rows() for split in SPLITS}
        self._article_words = (None, None)  # the current article's `Words` and their Arrow array
        self.losses = Losses()

    def add(self, record: dict, split: str) -> None:
        if split not in self.writers:
            handle = self.output.open(f"{split}.parquet", self.format)
            # Statistics only for the id: the writer keeps every row group's min and max until the
            # footer, and those of the text columns (whole articles) grew its memory with the corpus.
            self.writers[split] = self.pq.ParquetWriter(
                handle, self.schema, compression="zstd", write_statistics=["article_id"], use_dictionary=DICTIONARY_COLUMNS
            )
        if not record["annotations"]:
            return
        tokens = record_tokens(record)
        words = words_of(tokens)
        words_before = words.words_before
        if self._article_words[0] is not words:
            self._article_words = (words, arrow_words(self.pa, words))
        self.losses.article(tokens, split)
        record_values = (
            record["id"], record["sha256"], record["title"], record["text"], record["language"], record["source"],
            record["url"], record["published"], json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True),
        )
        rows = self.rows[split]
        for annotation in record["annotations"]:
            layer = layered(tokens, words, annotation, self.labels, self.index)
            self.losses.add(record, annotation, layer, split)
            span_words = {}
            for span, start, end in layer.aligned:
                first, after = words_before[start], words_before[end]
                if first < after:
                    span_words[id(span)] = (first, after)
            topics = [self.topics[t] for t in annotation["topics"]]
            rows.add(record_values, annotation, topics, span_words, layer, self._article_words[1])
        if len(rows) >= ROW_GROUP:
            self._flush(split)

    def _word_columns(self, codes: list, words: list) -> dict:
        """The tokens, ner_tags and each label's tags column of these rows, as Arrow list arrays
        made from arrays: the words of an article are made Arrow strings once for all its rows."""
        pa = self.pa
        lengths = numpy.fromiter((c.shape[1] for c in codes), numpy.int64, len(codes))
        offsets = pa.array(numpy.concatenate([[0], numpy.cumsum(lengths)]).astype(numpy.int32))
        # int64: the type of a ClassLabel, which `datasets` would otherwise cast to as it loads.
        every = numpy.concatenate(codes, axis=1).astype(numpy.int64)
        columns = {
            "tokens": pa.ListArray.from_arrays(offsets, pa.concat_arrays(words)),
            "ner_tags": pa.ListArray.from_arrays(offsets, pa.array(every[0])),
        }
        for k, label in enumerate(self.labels):
            # The column's codes are label k's (2k+1 for B, 2k+2 for I); its names are O, B, I.
            mine = every[k + 1]
            columns[f"tags:{label}"] = pa.ListArray.from_arrays(offsets, pa.array(numpy.where(mine > 0, 2 - (mine & 1), 0)))
        return columns

    def _flush(self, split: str) -> None:
        rows = self.rows[split]
        if not len(rows):
            return
        pa = self.pa
        arrays = {**rows.arrays(pa, self.schema), **self._word_columns(rows.codes, rows.words)}
        self.writers[split].write_table(pa.Table.from_arrays([arrays[name] for name in self.schema.names], schema=self.schema))
        self.rows[split] = _Rows()

    def close(self) -> dict:
        for split, writer in self.writers.items():
            self._flush(split)
            writer.close()  # writes the footer; the Output closes the file
        return self.losses.report()


def join(parts: list, into, schema_: dict) -> None:
    for split in SPLITS:
        paths = [part[f"{split}.parquet"] for part in parts if f"{split}.parquet" in part]
        for shard, path in enumerate(paths):
            os.replace(path, into.path(f"{split}.parquet" if len(paths) == 1 else f"{split}-{shard:05d}.parquet", Writer.format))
