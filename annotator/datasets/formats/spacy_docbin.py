"""spaCy DocBin files (`.spacy`), one per split, for `spacy train` and `DocBin().from_disk()`.

One Doc per (article, annotation), tokenized as `tokens` says. Each Doc carries:
- `doc.spans["sc"]`: every span on token boundaries, labelled (overlaps allowed: spancat);
- `doc.ents`: the non-overlapping spans under the overlap policy (ner);
- `doc.cats`: 1.0 for each topic chosen, 0.0 for the schema's other topics (textcat_multilabel);
- `doc.user_data`: article_id, sha256, language (the article's), annotation_id (None for an
  "agreed" consensus), annotator, kind, split and stance.
Spans not on token boundaries are left out and counted in the card, per split and per language
and label; tokens cut at an Arabic proclitic for a span are counted too (`tokens.tokenize`).

A split of more than SHARD_DOCS docs is written as several files in a folder of the split's name,
`train/train-00000.spacy`, `train/train-00001.spacy`, …, so memory stays bounded; `spacy train`
reads the folder (`--paths.train train`), which holds that split's shards only. A snapshot written
by several shard tasks (`join`) numbers their files on, in the order of the records: each task's
last file of a split holds the docs left over (fewer than SHARD_DOCS).

The Docs are not built one by one: `DocBin.add(doc)` reads every token's nine strings in
Python and packs two msgpack messages with a new packer each time (and srsly looks up its
entry points for each), which made an export take minutes. Instead each annotation's entry
is put in the DocBin directly, as `DocBin.add` would have made it for a Doc of the article's
tokens with those spans, entities, categories and user data: the token array is the article's
(`doc.to_array`, once per article) with the entity columns filled in; the strings are the
tokens' texts and norms, "" (no tag, lemma, morph, dep, kb id) and the span labels; the span
group is `SpanGroup.to_bytes()`'s message. `DocBin.to_bytes()` then writes the file as ever.
This fills DocBin's own lists (`tokens`, `spaces`, `flags`, `strings`, `cats`, `user_data`,
`span_groups`) as spaCy 3.8 (pinned) has them; tests/datasets/test_token_formats.py checks the
files byte for byte against `DocBin.add`, so an upgrade that changes them fails there first.
"""

import os
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy

from ..splits import SPLITS
from . import annotator_name
from .tokens import placed, record_tokens, tokenizer_language, unaligned_labels

SHARD_DOCS = 250
# The token attributes a file keeps (with each token's spacing, which DocBin always keeps): its
# text, norm and entity. The rest of DocBin's default thirteen (tag, lemma, dependency, sentence
# start, …) are never set here, no pipeline having run: their zeros were two thirds of every file
# before compression, and compressing them most of the time a spaCy export took.
ATTRS = ("ORTH", "NORM", "ENT_IOB", "ENT_TYPE")
SPAN_GROUP = "sc"
# Token.ent_iob values in a Doc's array: inside, outside, beginning.
IOB_I, IOB_O, IOB_B = 1, 2, 3


def shard_name(split: str, shard: int) -> str:
    # A split's shards in a folder of their own, so that `spacy train --paths.train train`
    # reads the train split's shards and no other split's.
    return f"{split}/{split}-{shard:05d}.spacy"


class Writer:
    format = "spacy"

    def __init__(self, output, schema: dict):
        from spacy.attrs import ENT_IOB, ENT_TYPE, NORM, ORTH, SPACY
        from spacy.tokens import DocBin
        from srsly.msgpack import Packer

        self._docbin = lambda: DocBin(attrs=ATTRS, store_user_data=True)
        self._pack = Packer(use_bin_type=True).pack  # what srsly.msgpack_dumps does, with one packer
        self._spacy = SPACY
        attrs = self._docbin().attrs
        self._attrs = attrs
        self._strings_columns = [attrs.index(ORTH), attrs.index(NORM)]
        self._iob = attrs.index(ENT_IOB)
        self._type = attrs.index(ENT_TYPE)
        self._article = None
        self._words_in = None  # the DocBin that has the strings of this article's tokens
        self._thread = None
        self._writing = None  # the shard being written
        self.output = output
        self.topics = schema["topics"]
        self.labels = [label["name"] for label in schema["labels"]]
        self.bins = {split: self._docbin() for split in SPLITS}
        self.shards = dict.fromkeys(SPLITS, 0)  # the shard each split's bin will be written as
        self.unaligned = dict.fromkeys(SPLITS, 0)
        self.overlapping = dict.fromkeys(SPLITS, 0)
        self.clitic_splits = dict.fromkeys(SPLITS, 0)
        self.spans = {}  # tokenizer language -> spans given, for the card's loss per language
        self.unaligned_labels = {}  # tokenizer language -> label -> spans not on token boundaries

    def _article_arrays(self, tokens):
        """The token array, spaces and strings every Doc of this article shares."""
        if self._article is None or self._article[0] is not tokens:
            doc = tokens.doc
            array = doc.to_array(self._attrs).reshape(len(doc), len(self._attrs))
            spaces = doc.to_array(self._spacy).reshape(len(doc), 1).astype(bool)
            strings = doc.vocab.strings
            words = [strings[key] for key in numpy.unique(array[:, self._strings_columns]).tolist()]
            if len(doc):
                words.append("")
            self._article = (tokens, array, spaces, words, doc.has_unknown_spaces)
        return self._article[1:]

    def add(self, record: dict, split: str) -> None:
        tokens = record_tokens(record)
        array, spaces, words, unknown_spaces = self._article_arrays(tokens)
        add_string = tokens.vocab.strings.add
        language = tokenizer_language(record["language"])
        self.clitic_splits[split] += tokens.clitic_splits
        for annotation in record["annotations"]:
            spans = placed(tokens, annotation, self.labels)
            aligned, unaligned, kept, dropped = spans.aligned, spans.unaligned, spans.columns[0], spans.left_out
            self.unaligned[split] += unaligned
            self.overlapping[split] += dropped
            self.spans[language] = self.spans.get(language, 0) + len(annotation["spans"])
            if unaligned:
                missed = self.unaligned_labels.setdefault(language, {})
                for label, n in unaligned_labels(annotation["spans"], aligned).items():
                    missed[label] = missed.get(label, 0) + n

            doc_array = array.copy()
            doc_array[:, self._iob] = IOB_O
            for span, start, end in kept:
                doc_array[start, self._iob] = IOB_B
                doc_array[start + 1 : end, self._iob] = IOB_I
                doc_array[start:end, self._type] = add_string(span["label"])
            span_group = self._pack(
                {
                    "name": SPAN_GROUP,
                    "attrs": {},
                    "spans": [
                        # span id, kb id, label, start and end token, start and end character
                        struct.pack(">QQQllll", 0, 0, add_string(span["label"]), start, end, span["start"], span["end"])
                        for span, start, end in aligned
                    ],
                }
            )
            docbin = self.bins[split]
            docbin.tokens.append(doc_array)
            docbin.spaces.append(spaces)
            docbin.flags.append({"has_unknown_spaces": unknown_spaces})
            if self._words_in != (docbin, tokens):
                docbin.strings.update(words)
                self._words_in = (docbin, tokens)
            docbin.strings.update(span["label"] for span, _, _ in aligned)
            docbin.cats.append({topic: float(topic in annotation["topics"]) for topic in self.topics})
            docbin.user_data.append(
                self._pack(
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
            )
            docbin.span_groups.append(self._pack({span_group: [SPAN_GROUP]}))
            if len(docbin) >= SHARD_DOCS:
                self._flush(split)

    def _flush(self, split: str) -> None:
        docbin, shard = self.bins[split], self.shards[split]
        self.bins[split], self.shards[split] = self._docbin(), shard + 1
        self._words_in = None
        # zlib, most of `DocBin.to_bytes()`, lets other threads run: a shard is compressed and
        # written on a thread of its own while the next docs are made (on a second core, if one
        # is free). One shard at a time, and never while a file is being renamed.
        self._wait()
        # How many docs the split has is not known yet: its first shard is named as the only
        # one, and renamed when a second starts.
        if shard == 1:
            self.output.rename(f"{split}.spacy", shard_name(split, 0))
        path = self.output.path(shard_name(split, shard) if shard > 0 else f"{split}.spacy", self.format)
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spacy-docbin")
        self._writing = self._thread.submit(lambda: path.write_bytes(docbin.to_bytes()))

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def close(self) -> dict:
        for split in SPLITS:
            if len(self.bins[split]):
                self._flush(split)
        self._wait()
        if self._thread is not None:
            self._thread.shutdown()
        return {
            "unaligned_spans": self.unaligned,
            "overlapping_spans_left_out_of_ents": self.overlapping,
            "clitic_splits": self.clitic_splits,
            "spans_by_language": self.spans,
            "unaligned_by_language": self.unaligned_labels,
        }


def join(parts: list, into, schema: dict) -> None:
    """Each split's files of every shard (`train.spacy`, or its `train/train-00000.spacy`, …), in
    order, renamed as one split's: `train.spacy` if it is the only one, else numbered on."""
    for split in SPLITS:
        paths = [part[name] for part in parts for name in sorted(part) if name.split("/")[0].split(".")[0] == split]
        for shard, path in enumerate(paths):
            os.replace(path, into.path(f"{split}.spacy" if len(paths) == 1 else shard_name(split, shard), Writer.format))
