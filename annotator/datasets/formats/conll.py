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

The lines of an article with every tag `O` are made once; an annotation's document is those
lines with its spans' tags put in. Only when a kept span covers a line break (which then
ends no sentence) are its lines made again, token by token.
"""

import re

from ..splits import SPLITS
from .tokens import longest_first, tokenize

DOCSTART = "-DOCSTART- -X- -X- O\n"
_SPACE = re.compile(r"\s")


class _Article:
    """An article's tokens as CoNLL lines, with every tag `O`."""

    def __init__(self, tokens):
        from spacy.attrs import IS_SPACE

        self.tokens = tokens
        text = tokens.text
        # Whitespace is replaced one character for one, so each token's slice is its column.
        columns = _SPACE.sub("_", text)
        is_space = tokens.doc.to_array(IS_SPACE).tolist() if len(tokens) else []
        self.is_space = is_space
        self.line_break = [space and "\n" in text[start:end] for space, start, end in zip(is_space, tokens.starts, tokens.ends)]
        # prefix[i]: token i's line up to its tag, for a token that is not whitespace.
        self.prefix = [None if space else f"{columns[start:end]} _ _ " for space, start, end in zip(is_space, tokens.starts, tokens.ends)]
        # words_before[i] / breaks_before[i]: tokens before i that are written / that are line breaks.
        self.words = [i for i, space in enumerate(is_space) if not space]
        self.words_before = [0]
        self.breaks_before = [0]
        for space, line_break in zip(is_space, self.line_break):
            self.words_before.append(self.words_before[-1] + (not space))
            self.breaks_before.append(self.breaks_before[-1] + line_break)
        self.lines, self.line_of = self.make_lines({}, ())

    def make_lines(self, tags: dict[int, str], inside) -> tuple[list[str], dict[int, int]]:
        """The document's lines with these tags (others `O`), and the line of each token written;
        a line break inside a span (token range in `inside`) ends no sentence."""
        lines = [DOCSTART, "\n"]
        line_of = {}
        sentence_open = False
        prefix, line_break = self.prefix, self.line_break
        inside_break = set()
        for start, end in inside:
            inside_break.update(range(start, end))
        for i, column in enumerate(prefix):
            if column is None:
                if line_break[i] and sentence_open and i not in inside_break:
                    lines.append("\n")
                    sentence_open = False
                continue
            line_of[i] = len(lines)
            lines.append(f"{column}{tags.get(i, 'O')}\n")
            sentence_open = True
        if sentence_open:
            lines.append("\n")
        return lines, line_of


class Writer:
    format = "conll"

    def __init__(self, output, schema: dict):
        self.labels = [label["name"] for label in schema["labels"]]
        self.output = output
        self.handles = {}
        self.unaligned = dict.fromkeys(SPLITS, 0)
        self.overlapping = dict.fromkeys(SPLITS, 0)
        self._article = None

    def add(self, record: dict, split: str) -> None:
        tokens = tokenize(record["text"], record["language"])
        if self._article is None or self._article.tokens is not tokens:
            self._article = _Article(tokens)
        article = self._article
        if split not in self.handles:
            self.handles[split] = self.output.open(f"{split}.conll", self.format, "w", encoding="utf-8", newline="\n")
        handle = self.handles[split]
        words, words_before, breaks_before = article.words, article.words_before, article.breaks_before
        for annotation in record["annotations"]:
            aligned, unaligned = tokens.align(annotation["spans"])
            kept, dropped = longest_first(aligned, self.labels)
            tags = {}
            inside = []
            for span, start, end in kept:
                span_words = words[words_before[start] : words_before[end]]
                if not span_words:
                    dropped += 1
                    continue
                label = span["label"]
                tags[span_words[0]] = f"B-{label}"
                for i in span_words[1:]:
                    tags[i] = f"I-{label}"
                if breaks_before[end] != breaks_before[start]:
                    inside.append((start, end))
            self.unaligned[split] += unaligned
            self.overlapping[split] += dropped

            if inside:
                lines = article.make_lines(tags, inside)[0]
            else:
                lines = article.lines.copy()
                prefix, line_of = article.prefix, article.line_of
                for i, tag in tags.items():
                    lines[line_of[i]] = f"{prefix[i]}{tag}\n"
            handle.write("".join(lines))

    def close(self) -> dict:
        for handle in self.handles.values():
            handle.close()
        return {"unaligned_spans": self.unaligned, "overlapping_spans_dropped": self.overlapping}
