"""spaCy DocBin files (`.spacy`), one per split, for `spacy train` and `DocBin().from_disk()`.

One Doc per (article, annotation), tokenized as `tokens` says. Each Doc carries:
- `doc.spans["sc"]`: every span on token boundaries, labelled (overlaps allowed: spancat);
- `doc.ents`: the non-overlapping spans under the overlap policy (ner);
- `doc.cats`: 1.0 for each topic chosen, 0.0 for the schema's other topics (textcat_multilabel);
- `doc.user_data`: article_id, sha256, annotator, kind, split and stance.
Spans not on token boundaries are left out and counted in the card, per split.

A split of more than SHARD_DOCS docs is written as several files, `train-00000.spacy`,
`train-00001.spacy`, …, so memory stays bounded; `spacy train` reads a folder of them.
"""

from ..splits import SPLITS
from . import annotator_name
from .tokens import align, blank, longest_first

SHARD_DOCS = 1000


class Writer:
    format = "spacy"

    def __init__(self, output, schema: dict):
        from spacy.tokens import DocBin

        self._docbin = lambda: DocBin(store_user_data=True)
        self.output = output
        self.topics = schema["topics"]
        self.labels = [label["name"] for label in schema["labels"]]
        self.bins = {split: self._docbin() for split in SPLITS}
        self.shards = dict.fromkeys(SPLITS, 0)
        self.unaligned = dict.fromkeys(SPLITS, 0)
        self.overlapping = dict.fromkeys(SPLITS, 0)

    def add(self, record: dict, split: str) -> None:
        nlp = blank(record["language"])
        for annotation in record["annotations"]:
            doc = nlp.make_doc(record["text"])
            aligned, unaligned = align(doc, annotation["spans"])
            kept, dropped = longest_first(aligned, self.labels)
            self.unaligned[split] += unaligned
            self.overlapping[split] += dropped
            doc.spans["sc"] = [span for _, span in aligned]
            doc.ents = [span for _, span in kept]
            doc.cats = {topic: float(topic in annotation["topics"]) for topic in self.topics}
            doc.user_data.update(
                {
                    "article_id": record["id"],
                    "sha256": record["sha256"],
                    "annotator": annotator_name(annotation),
                    "kind": annotation["kind"],
                    "split": split,
                    "stance": dict(sorted(annotation["stance"].items())),
                }
            )
            self.bins[split].add(doc)
            if len(self.bins[split]) >= SHARD_DOCS:
                self._flush(split)

    def _name(self, split: str, shard: int) -> str:
        return f"{split}-{shard:05d}.spacy"

    def _flush(self, split: str) -> None:
        shard = self.shards[split]
        if shard == 1:
            self.output.rename(f"{split}.spacy", self._name(split, 0))
        name = f"{split}.spacy" if shard == 0 else self._name(split, shard)
        self.output.path(name, self.format).write_bytes(self.bins[split].to_bytes())
        self.bins[split] = self._docbin()
        self.shards[split] += 1

    def close(self) -> dict:
        for split in SPLITS:
            if len(self.bins[split]):
                self._flush(split)
        return {"unaligned_spans": self.unaligned, "overlapping_spans_left_out_of_ents": self.overlapping}
