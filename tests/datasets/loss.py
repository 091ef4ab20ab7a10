"""Alignment loss of the token formats on the seeds and on the Arabic-heavy corpus of
`data/arabic_hostile.json`, per language: used by test_tokenization.py and, run as
`python -m tests.datasets.loss`, for the table in docs/tokenization.md.

The seeds have no labels of their own: their spans are made as an analyst selects them, from the
text: every quotation inside quote marks (without the marks) is a Quote, every sentence of four
words or more (without its final punctuation) a Claim, and every occurrence of a known name that
stands as a word, or after an Arabic proclitic (`لروسيا`), a Source.
"""

import json
import re
from pathlib import Path

from annotator.datasets.formats import Output, conll, spacy_docbin
from annotator.datasets.formats.tokens import PROCLITIC, tokenizer_language

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
HOSTILE = Path(__file__).parent / "data" / "arabic_hostile.json"
ARABIC_SEED = "002_fbed2bf9dc136266.txt"
LABELS = ["Claim", "Quote", "Source"]
SCHEMA = {"labels": [{"name": name} for name in LABELS], "topics": []}
NAMES = {
    "en": ["Lavrov", "Sergey Lavrov", "TASS", "RT", "NATO", "Russia", "Iran", "Azerbaijan", "Armenia", "Tasnim",
           "the West", "Ukraine", "United States", "Washington", "Moscow"],
    "ar": ["لافروف", "سيرغي لافروف", "روسيا", "أرمينيا", "سوريا", "تاس", "سي أن أن", "موسكو", "يريفان", "ليبيا",
           "حفتر", "بنغازي", "هيئة تحرير الشام", "الغرب", "المسؤولين"],
}
QUOTED = re.compile(r"“([^“”\n]+)”|«([^«»\n]+)»|\"([^\"\n]+)\"|”([^“”\n]+)“")
SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")
_ids = iter(range(1, 10**9))


def _span(text, start, end, label):
    return {"id": next(_ids), "start": start, "end": end, "label": label, "text": text[start:end], "attributes": {}}


def analyst_spans(text: str, language: str) -> list[dict]:
    spans = []
    for match in QUOTED.finditer(text):
        group = next(g for g in range(1, 5) if match.group(g) is not None)
        start, end = match.span(group)
        inner = text[start:end]
        start += len(inner) - len(inner.lstrip())
        end -= len(inner) - len(inner.rstrip())
        if start < end:
            spans.append(_span(text, start, end, "Quote"))
    offset = 0
    for line in text.split("\n"):
        position = 0
        for sentence in SENTENCE_END.split(line):
            at = line.index(sentence, position)
            position = at + len(sentence)
            claim = sentence.strip().rstrip(".!?؟ ")
            if len(claim.split()) >= 4:
                start = offset + at + (len(sentence) - len(sentence.lstrip()))
                spans.append(_span(text, start, start + len(claim), "Claim"))
        offset += len(line) + 1
    for name in NAMES[language]:
        for match in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])|(?<=[وفبلك]){re.escape(name)}(?![\w-])", text):
            before = re.search(r"[\w-]*$", text[: match.start()]).group()
            if before and not PROCLITIC.fullmatch(before):
                continue
            spans.append(_span(text, match.start(), match.end(), "Source"))
    return sorted(spans, key=lambda s: (s["start"], -s["end"], s["id"]))


def phrase_spans(text: str, phrases) -> list[dict]:
    spans = []
    for item in phrases:
        label, phrase, occurrence = (*item, 0)[:3]
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(phrase, start + 1)
        spans.append(_span(text, start, start + len(phrase), label))
    return sorted(spans, key=lambda s: (s["start"], -s["end"], s["id"]))


def _record(article_id, text, language, spans):
    annotation = {"id": next(_ids), "annotator": "ana", "kind": "gold", "status": "submitted", "spans": spans,
                  "relations": [], "topics": [], "stance": {}}
    return {"id": article_id, "text": text, "language": language, "sha256": f"sha-{article_id}", "annotations": [annotation]}


def seed_records() -> list[dict]:
    records = []
    for n, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        language = "ar" if path.name == ARABIC_SEED else "en"
        records.append(_record(n + 1, text, language, analyst_spans(text, language)))
    return records


def hostile_records() -> list[dict]:
    articles = json.loads(HOSTILE.read_text(encoding="utf-8"))["articles"]
    return [_record(1000 + n, a["text"], a["language"], phrase_spans(a["text"], a["spans"])) for n, a in enumerate(articles)]


def write(directory: Path, records: list[dict]) -> tuple[Output, dict, dict]:
    """The records written by the spaCy and CoNLL writers (all in train): output, reports."""
    output = Output(directory)
    writers = [spacy_docbin.Writer(output, SCHEMA), conll.Writer(output, SCHEMA)]
    for record in records:
        for writer in writers:
            writer.add(record, "train")
    spacy_report, conll_report = (writer.close() for writer in writers)
    output.close()
    return output, spacy_report, conll_report


def losses(report: dict) -> dict[str, tuple[int, int, dict]]:
    """Tokenizer language -> (spans, spans not aligned, not aligned per label), from a writer's report."""
    return {
        language: (given, sum(report["unaligned_by_language"].get(language, {}).values()), report["unaligned_by_language"].get(language, {}))
        for language, given in sorted(report["spans_by_language"].items())
    }


def plain_losses(records: list[dict]) -> dict[str, tuple[int, int]]:
    """The same with spaCy's own blank tokenizer, as the token formats were before."""
    import spacy

    result = {}
    for record in records:
        try:
            nlp = spacy.blank(record["language"] or "xx")
        except Exception:
            nlp = spacy.blank("xx")
        doc = nlp.make_doc(record["text"])
        language = tokenizer_language(record["language"])
        given, lost = result.get(language, (0, 0))
        for annotation in record["annotations"]:
            for span in annotation["spans"]:
                given += 1
                lost += doc.char_span(span["start"], span["end"], alignment_mode="strict") is None
        result[language] = (given, lost)
    return result


if __name__ == "__main__":
    import tempfile

    for name, records in (("seeds", seed_records()), ("Arabic-heavy corpus", hostile_records())):
        with tempfile.TemporaryDirectory() as directory:
            _, report, _ = write(Path(directory), records)
        before = plain_losses(records)
        print(f"{name}: language | spans | not aligned (spaCy blank before) | not aligned now | loss now | per label | clitic splits {sum(report['clitic_splits'].values())}")
        for language, (given, lost, by_label) in losses(report).items():
            print(f"| {language} | {given} | {before[language][1]} ({100 * before[language][1] / given:.1f} %) | {lost} | {100 * lost / given:.2f} % | {by_label or 'none'} |")
