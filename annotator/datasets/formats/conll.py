"""CoNLL-2003 style BIO files, one per split: `train.conll`, `validation.conll`, `test.conll`.

Each (article, annotation) is one document, started by the line `-DOCSTART- -X- -X- O` and a
blank line, in the order of the JSONL file (article id, then gold, then analysts by name).
Then one token a line, four columns separated by single spaces: the token, `_` (no part of
speech), `_` (no chunk) and the tag: `B-Label`, `I-Label` or `O`. Tokens are spaCy's (see
`tokens`); whitespace tokens are not written, and a blank line ends a sentence at every line
break of the text that is not inside a kept span. Whitespace inside a token (rare: a thin or
no-break space spaCy did not split on) is written as `_` so the columns stay four.

Overlaps: one tag per token, so the overlap policy of `tokens` applies: the longest span wins,
overlapping ones are dropped and counted in the card with the spans not on token boundaries.
"""

import re

from ..splits import SPLITS
from .tokens import align, blank, longest_first

DOCSTART = "-DOCSTART- -X- -X- O\n"
_SPACE = re.compile(r"\s")


class Writer:
    format = "conll"

    def __init__(self, output, schema: dict):
        self.labels = [label["name"] for label in schema["labels"]]
        self.output = output
        self.handles = {}
        self.unaligned = dict.fromkeys(SPLITS, 0)
        self.overlapping = dict.fromkeys(SPLITS, 0)

    def add(self, record: dict, split: str) -> None:
        nlp = blank(record["language"])
        if split not in self.handles:
            self.handles[split] = self.output.open(f"{split}.conll", self.format, "w", encoding="utf-8", newline="\n")
        handle = self.handles[split]
        for annotation in record["annotations"]:
            doc = nlp.make_doc(record["text"])
            aligned, unaligned = align(doc, annotation["spans"])
            kept, dropped = longest_first(aligned, self.labels)
            tags = ["O"] * len(doc)
            inside = [False] * len(doc)
            for _, span in kept:
                words = [t.i for t in span if not t.is_space]
                if not words:
                    dropped += 1
                    continue
                tags[words[0]] = f"B-{span.label_}"
                for i in words[1:]:
                    tags[i] = f"I-{span.label_}"
                for i in range(span.start, span.end):
                    inside[i] = True
            self.unaligned[split] += unaligned
            self.overlapping[split] += dropped

            lines = [DOCSTART, "\n"]
            sentence_open = False
            for token in doc:
                if token.is_space:
                    if "\n" in token.text and not inside[token.i] and sentence_open:
                        lines.append("\n")
                        sentence_open = False
                    continue
                lines.append(f"{_SPACE.sub('_', token.text)} _ _ {tags[token.i]}\n")
                sentence_open = True
            if sentence_open:
                lines.append("\n")
            handle.write("".join(lines))

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return {"unaligned_spans": self.unaligned, "overlapping_spans_dropped": self.overlapping}
