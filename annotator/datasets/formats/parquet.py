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
article's words are made Arrow strings once, for all its rows.

Rows are written a row group at a time (ROW_GROUP rows), so memory does not grow with the number of
articles.

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


def row(record: dict, annotation: dict, tokens: dict) -> dict:
    """The row's columns but its words and tags (`Writer._word_columns`); `tokens` maps each span
    (by `id()`) to its words' range."""
    topics = annotation["topics"]
    return {
        "article_id": record["id"],
        "sha256": record["sha256"],
        "title": record["title"],
        "text": record["text"],
        "language": record["language"],
        "source": record["source"],
        "url": record["url"],
        "published": record["published"],
        "metadata": json.dumps(record["metadata"], ensure_ascii=False, sort_keys=True),
        "annotation_id": annotation.get("id"),
        "annotator": annotator_name(annotation),
        "kind": annotation["kind"],
        "created": annotation.get("created"),
        "updated": annotation.get("updated"),
        "topics": topics,
        "stance": [{"target": t, "value": v} for t, v in sorted(annotation["stance"].items())],
        "spans": [
            {
                **{k: s[k] for k in ("id", "start", "end", "label", "text")},
                "attributes": json.dumps(s["attributes"], ensure_ascii=False, sort_keys=True) if s["attributes"] else "{}",
                "token_start": tokens.get(id(s), (None, None))[0],
                "token_end": tokens.get(id(s), (None, None))[1],
                "created": s.get("created"),
                "updated": s.get("updated"),
                "review": s.get("review"),
            }
            for s in annotation["spans"]
        ],
        "relations": [
            {"id": r.get("id"), "type": r["type"], "source": r["source"], "target": r["target"]}
            for r in annotation["relations"]
        ],
    }


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
        self.rows = {split: [] for split in SPLITS}
        self.codes = {split: [] for split in SPLITS}  # each row's (columns, words) codes
        self.words = {split: [] for split in SPLITS}  # each row's words, an Arrow array (its article's)
        self._article_words = (None, None)  # the current article's `Words` and their Arrow array
        self.losses = Losses()

    def add(self, record: dict, split: str) -> None:
        if split not in self.writers:
            handle = self.output.open(f"{split}.parquet", self.format)
            # Statistics only for the id: the writer keeps every row group's min and max until the
            # footer, and those of the text columns (whole articles) grew its memory with the corpus.
            self.writers[split] = self.pq.ParquetWriter(
                handle, self.schema, compression="zstd", write_statistics=["article_id"]
            )
        if not record["annotations"]:
            return
        tokens = record_tokens(record)
        words = words_of(tokens)
        words_before = words.words_before
        if self._article_words[0] is not words:
            self._article_words = (words, self.pa.array(words.words, self.pa.string()))
        self.losses.article(tokens, split)
        for annotation in record["annotations"]:
            layer = layered(tokens, words, annotation, self.labels, self.index)
            self.losses.add(record, annotation, layer, split)
            span_words = {}
            for span, start, end in layer.aligned:
                first, after = words_before[start], words_before[end]
                if first < after:
                    span_words[id(span)] = (first, after)
            topics = [self.topics[t] for t in annotation["topics"]]
            self.rows[split].append(row(record, {**annotation, "topics": topics}, span_words))
            self.codes[split].append(layer.codes)
            self.words[split].append(self._article_words[1])
        if len(self.rows[split]) >= ROW_GROUP:
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
        if not self.rows[split]:
            return
        pa = self.pa
        word_columns = self._word_columns(self.codes[split], self.words[split])
        plain = pa.schema([field for field in self.schema if field.name not in word_columns])
        table = pa.Table.from_pylist(self.rows[split], schema=plain)
        columns = [word_columns[name] if name in word_columns else table.column(name) for name in self.schema.names]
        self.writers[split].write_table(pa.Table.from_arrays(columns, schema=self.schema))
        self.rows[split], self.codes[split], self.words[split] = [], [], []

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
