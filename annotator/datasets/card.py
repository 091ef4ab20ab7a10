"""The dataset card: README.md of a snapshot, from its parameters, schema and counts.

It holds no time and no snapshot id, so it is byte-identical for the same inputs like every
data file; the export page shows when and by whom a snapshot was made.

It starts with the YAML header the Hugging Face Hub reads from a dataset's README.md
(`huggingface_hub.DatasetCard`): languages, task categories, size category, licence (the
project's), a pretty name, and, when the snapshot has Parquet files, `configs` naming each
split's, so that `load_dataset` on the uploaded folder loads them (not the JSONL, CSV or CoNLL
files beside them; see `CONFIG_FORMAT`).
"""

import json
import re
from collections.abc import Sequence

import yaml

from annotator.agreement.data import codings_of
from annotator.agreement.metrics import Tally, by_article
from annotator.labelling.models import Annotation

from .records import Scope
from .splits import MIN_EXCERPT, SHINGLE_WORDS, SPLITS

CODINGS_CHUNK = 500
_SPACE = re.compile(r"\s")

LOADING = {
    "jsonl": "`train.jsonl`, `validation.jsonl`, `test.jsonl`: one article per line with its exported annotations; "
    "`text[start:end]` is each span's text (offsets in code points). "
    "Import into annotator with `manage.py import_annotations PROJECT FILE --format jsonl`.",
    "csv": "`train.csv`, …: one row per (article, annotation): topics as 0/1 columns `topic:<name>`, stance as "
    "`stance:<target>`. Cells that start with = + - @ (or a tab or carriage return) have a leading apostrophe.",
    "spacy": "`train.spacy`, … (a large split is a folder of shards, `train/train-00000.spacy`, …): "
    "`DocBin().from_disk(path).get_docs(spacy.load('tokenizer/<lang>').vocab)`; every span in `doc.spans['sc']` "
    "(nested and overlapping ones too), non-overlapping ones in `doc.ents`, topics in `doc.cats`, the article's id "
    "and language and the annotation's id and annotator in `doc.user_data`; `spacy train` as shown below.",
    "conll": "`train.conll`, …: CoNLL files with one BIO column per label beside the CoNLL-2003 NER column, "
    "blank lines between sentences (line breaks of the text), in the order of the JSONL files; how to read them "
    "is below (Nested and overlapping spans).",
    "parquet": "`train.parquet`, … (a large split is several files, `train-00000.parquet`, …, one per shard it was "
    "written in): `datasets.load_dataset` as shown below (Parquet features), or `pandas.read_parquet`.",
    "label-studio": "`label_studio.json` and `label_studio_config.xml`: create a Label Studio project with the "
    "config, then import the tasks (spans, relations and topics; not stance).",
}


def md(value) -> str:
    """A value made safe for one Markdown table cell or list item."""
    text = "—" if value is None or value == "" else str(value)
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").split())


def table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines + [""]


class SplitAgreement:
    """Agreement between analysts on each split's articles, read from the database as the build goes.

    It rests on every analyst's submitted annotation of the articles in a split, whatever the
    snapshot's scope. In the "analysts" scope the records hold exactly those, and
    `tallies.SplitTally` adds them up; in the others this reads them a chunk of articles at a
    time. Either way only counts are kept (`Tally`).
    """

    def __init__(self, schema: dict):
        labels = [label["name"] for label in schema["labels"]]
        self.tallies = {
            split: Tally(topics=schema["topics"], targets=schema["stance_targets"], labels=labels) for split in SPLITS
        }
        self.waiting: dict[str, list[int]] = {split: [] for split in SPLITS}

    def add(self, article_id: int, split: str) -> None:
        self.waiting[split].append(article_id)
        if len(self.waiting[split]) >= CODINGS_CHUNK:
            self._read(split)

    def _read(self, split: str) -> None:
        ids, self.waiting[split] = self.waiting[split], []
        annotations = Annotation.objects.filter(
            article_id__in=ids, kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED
        )
        for coded in by_article(codings_of(annotations)).values():
            self.tallies[split].add(coded)

    def result(self) -> dict[str, Tally]:
        for split in SPLITS:
            if self.waiting[split]:
                self._read(split)
        return self.tallies


def _figure(figure) -> str:
    if figure.value is None:
        return f"— ({figure.note})" if figure.note else "—"
    return f"{figure.value:.3f} (n={figure.n})"


def _scope(parameters: dict) -> str:
    scope = parameters["scope"]
    text = Scope(scope).label
    if scope == Scope.ANALYST:
        text += f" (analyst {parameters.get('analyst_username') or parameters.get('analyst')})"
    return text


# The Hub's size buckets, by number of examples (rows of the Parquet files).
SIZE_CATEGORIES = [
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
]
# The one format named in `configs`. Parquet only: `datasets` reads every config of a folder with
# its default config's builder (a JSONL config beside it would not load), and it cannot load the
# JSONL files on their own either: it infers their nested schema file by file, and a split whose
# annotations hold no relation gets a type the other splits do not cast to.
CONFIG_FORMAT = "parquet"


def size_category(examples: int) -> str:
    return next((name for limit, name in SIZE_CATEGORIES if examples < limit), "n>1B")


def _split_files(files, format: str) -> list[dict]:
    """Each split's files of one format (one, or a split's shards): `data_files` of a config."""
    by_split = []
    for split in SPLITS:
        names = sorted(f.name for f in files if f.format == format and f.name.split(".")[0].split("-")[0] == split)
        if names:
            by_split.append({"split": split, "path": names[0] if len(names) == 1 else names})
    return by_split


def header(*, project, counts, files) -> str:
    """The YAML front matter the Hugging Face Hub reads (its dataset card metadata)."""
    metadata = {
        "pretty_name": project.name,
        # Articles whose language was not detected have none to name.
        "language": [code for code in counts.get("languages", {}) if code],
        # str(): a project made in this process holds its default as the `License` member, which YAML cannot write.
        "license": str(project.license),
        "task_categories": ["token-classification", "text-classification"],
        "size_categories": [size_category(counts["examples"])],
    }
    data_files = _split_files(files, CONFIG_FORMAT)
    if data_files:
        metadata["configs"] = [{"config_name": "default", "data_files": data_files}]
    return "---\n" + yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False, width=1000) + "---\n"


def render(*, project, parameters, schema, counts, files, agreement, versions) -> str:
    split = parameters["split"]
    filters = parameters.get("filters", {})
    out = [header(project=project, counts=counts, files=files), f"# {md(project.name)}: labelled dataset", ""]
    out += [
        f"Exported by annotator {versions['annotator']}. The same labels exported with the same parameters give "
        "byte-identical files, this card included (it holds no time and no snapshot id).",
        "",
        "## How it was made",
        "",
        f"- Licence: {md(project.get_license_display())} (`{project.license}`), set by the project's admin.",
        f"- Scope: {md(_scope(parameters))}. Only submitted work is exported.",
        f"- Topics filter: {md(', '.join(filters.get('topics', [])) or 'none')}",
        f"- Published: from {md(filters.get('published_from') or 'any date')} to {md(filters.get('published_to') or 'any date')}",
        f"- Sources: {md(', '.join(filters.get('sources', [])) or 'all')}",
        f"- Formats: {md(', '.join(parameters['formats']))}",
        f"- Split by article: train {split['train']}%, validation {split['validation']}%, test {split['test']}%, "
        f"seed {split['seed']}; stratified by primary topic; near-duplicate articles are kept in one split: the same "
        f"story lightly edited ({SHINGLE_WORDS}-word shingle Jaccard ≥ {split['near_duplicate_threshold']}) and excerpts "
        f"(at least {split['near_duplicate_threshold']} of an article's {SHINGLE_WORDS}-word shingles, {MIN_EXCERPT} or more, "
        f"inside another; found from sampled shingles, so a short excerpt can be missed: about 4 % of those of "
        f"{2 * MIN_EXCERPT} shingles at 0.8, under 0.3 % of those of {5 * MIN_EXCERPT}).",
        "- Versions: " + ", ".join(f"{name} {v}" for name, v in sorted(versions.items())),
        "",
        "## Counts",
        "",
        f"{counts['articles']} articles and {counts['examples']} examples (one per article and exported annotation), "
        f"from {counts['candidates']} candidate articles.",
        "",
    ]
    splits = counts["splits"]
    rows = [
        ["Articles", *(splits[s]["articles"] for s in SPLITS)],
        ["Examples", *(splits[s]["examples"] for s in SPLITS)],
        ["Spans", *(splits[s]["spans"] for s in SPLITS)],
    ]
    rows += [[f"Label: {label['name']}", *(splits[s]["labels"].get(label["name"], 0) for s in SPLITS)] for label in schema["labels"]]
    rows += [
        [f"Relation: {relation['name']}", *(splits[s].get("relations", {}).get(relation["name"], 0) for s in SPLITS)]
        for relation in schema["relation_types"]
    ]
    rows += [[f"Topic: {topic}", *(splits[s]["topics"].get(topic, 0) for s in SPLITS)] for topic in schema["topics"]]
    for target in schema["stance_targets"]:
        for value in schema["stance_values"]:
            rows.append([f"Stance toward {target}: {value}", *(splits[s]["stance"].get(target, {}).get(value, 0) for s in SPLITS)])
    out += table(["Count", *SPLITS], rows)

    strata = sorted({t for s in SPLITS for t in splits[s]["primary_topics"]})
    out += ["Articles per primary topic (the strata of the split):", ""]
    out += table(["Primary topic", *SPLITS], [[t or "(no topic)", *(splits[s]["primary_topics"].get(t, 0) for s in SPLITS)] for t in strata])

    if counts["left_out"]:
        reasons = {"no_agreement": "analysts' spans differ, or fewer than two analysts", "topic_filter": "none of the chosen topics", "no_annotation": "no exported annotation"}
        out += ["Candidate articles left out:", ""]
        out += [f"- {md(reasons.get(k, k))}: {n}" for k, n in counts["left_out"].items()] + [""]

    near = counts["near_duplicates"]
    out += ["## Near-duplicate groups", ""]
    if near["groups"]:
        out += [f"{len(near['groups'])} groups of near-duplicate articles ({near['articles']} articles) were each kept in one split (article ids):", ""]
        out += [f"- {', '.join(str(i) for i in group)}" for group in near["groups"][:100]]
        if len(near["groups"]) > 100:
            out.append(f"- … and {len(near['groups']) - 100} more (see the snapshot's counts)")
        out.append("")
    else:
        out += ["None found.", ""]

    if counts["formats"]:
        out += _token_formats(counts, schema)

    if not any(agreement[s].analysts for s in SPLITS):
        out += ["## Agreement between analysts on these articles", "", "No analyst submitted an annotation of these articles.", ""]
    else:
        out += ["## Agreement between analysts on these articles", "",
                "From every analyst's submitted annotation of the articles in each split (Krippendorff's alpha for "
                "topics and stance, span F1 between pairs of analysts). n is the number of items a figure rests on.", ""]
        rows = [
            ["Analysts", *(len(agreement[s].analysts) for s in SPLITS)],
            ["Articles with two or more analysts", *(agreement[s].shared_articles for s in SPLITS)],
            ["Topic alpha (mean)", *(_figure(agreement[s].topic_alpha_mean) for s in SPLITS)],
        ]
        rows += [[f"Stance alpha: {target}", *(_figure(dict(agreement[s].stance_alpha)[target]) for s in SPLITS)] for target in schema["stance_targets"]]
        rows += [["Span F1, exact (all labels)", *(_figure(agreement[s].spans_overall.exact) for s in SPLITS)]]
        rows += [["Span F1, overlap (all labels)", *(_figure(agreement[s].spans_overall.overlap) for s in SPLITS)]]
        for index, label in enumerate(schema["labels"]):
            rows.append([f"Span F1, exact: {label['name']}", *(_figure(agreement[s].spans[index].exact) for s in SPLITS)])
        out += table(["Count", *SPLITS], rows)

    out += ["## Label schema", ""]
    for label in schema["labels"]:
        attributes = ", ".join(f"{a['name']} ({a['kind']})" for a in label["attributes"]) or "no attributes"
        out.append(f"- Span label **{md(label['name'])}**: {md(attributes)}")
    for relation in schema["relation_types"]:
        out.append(f"- Relation **{md(relation['name'])}**: {md(relation['source'])} → {md(relation['target'] or 'any span')}")
    out.append(f"- Topics: {md(', '.join(schema['topics']))}")
    out.append(f"- Stance values: {md(', '.join(schema['stance_values']))}; targets: {md(', '.join(schema['stance_targets']))}")
    out.append("")

    out += ["## Files", "", "A split that got no article has no files.", ""]
    out += table(["File", "Format", "Bytes", "SHA-256"], [[f.name, f.format, f.size, f.sha256] for f in files])
    out += ["## Loading", ""]
    out += [f"- {LOADING[key]}" for key in parameters["formats"]]
    out.append("")
    if "spacy" in parameters["formats"]:
        out += _spacy_training(counts, files)
    if "conll" in parameters["formats"]:
        out += conll_section(schema, [f.name for f in files if f.format == "conll"])
    if "parquet" in parameters["formats"]:
        out += parquet_section(schema, [f.name for f in files if f.format == "parquet"])
    return "\n".join(out)


# Reports of the token formats that are not counts per split.
BY_LANGUAGE = ("spans_by_language", "unaligned_by_language")


def _token_formats(counts: dict, schema: dict) -> list[str]:
    out = ["## Spans the token formats could not hold", "",
           "Spans whose start or end is not on a token boundary of the shipped tokenizer are left out of the spaCy "
           "token data and of every CoNLL column and Parquet tag column (the Parquet `spans` column and the JSONL "
           "files keep them), never moved or widened. The tokenizer splits quote marks and punctuation of every "
           "script from words, and where a span's edge cuts a known Arabic proclitic (و ف ب ل ك, alone or combined, "
           "as in `لقناة`) off a word, that token is split there for the article (counted below as clitic splits). "
           "Where a token can carry one label only (the CoNLL NER column, Parquet `ner_tags`, spaCy `doc.ents`), the "
           "longest overlapping span wins, then the earlier, then the label first in the schema; the others are left "
           "out of that column (`doc.spans['sc']` keeps them all, and so do the label columns, below). A label's own "
           "column leaves out only a span overlapping a longer one of the same label, and a span of whitespace alone "
           "has no word to tag.", ""]
    rows = [
        [f"{fmt}: {what.replace('_', ' ')}", *(numbers[s] for s in SPLITS)]
        for fmt, report in counts["formats"].items()
        for what, numbers in report.items()
        if what not in BY_LANGUAGE
    ]
    out += table(["Count", *SPLITS], rows)
    # Every token format tokenizes alike: the first one's counts stand for all.
    report = next((r for r in counts["formats"].values() if "spans_by_language" in r), None)
    if report is not None:
        labels = [label["name"] for label in schema["labels"]]
        out += ["Spans not on token boundaries, per language (the tokenizer's) and label:", ""]
        rows = []
        for language, given in sorted(report["spans_by_language"].items()):
            missed = report["unaligned_by_language"].get(language, {})
            lost = sum(missed.values())
            share = f"{100 * lost / given:.2f} %" if given else "—"
            by_label = ", ".join(f"{label}: {missed[label]}" for label in [*labels, *sorted(set(missed) - set(labels))] if missed.get(label))
            rows.append([language, given, lost, share, by_label or "none"])
        out += table(["Language", "Spans", "Not aligned", "Loss", "Not aligned per label"], rows)
    tokenizers = counts.get("tokenizers") or []
    if tokenizers:
        out += ["## Tokenizer", "",
                "The spaCy and CoNLL files were tokenized by the blank spaCy pipeline of each article's language, with "
                "the punctuation rules above, saved here: " + ", ".join(f"`{md(t)}/`" for t in tokenizers) + ". "
                "`spacy.load('tokenizer/<lang>')` tokenizes new text exactly as the files were (the clitic splits "
                "excepted: they follow the labelled spans).", ""]
    return out


def _main_tokenizer(counts: dict) -> str | None:
    """The shipped tokenizer of the language with the most spans (the first, when none has any)."""
    tokenizers = counts.get("tokenizers") or []
    if not tokenizers:
        return None
    spans = (counts["formats"].get("spacy") or {}).get("spans_by_language", {})
    return max(tokenizers, key=lambda t: (spans.get(t.rpartition("/")[2], 0), -tokenizers.index(t)))


def _spacy_corpus(split: str, names: set[str]) -> str | None:
    """What `--paths.<split>` is for spaCy: the split's file, or its folder of shards."""
    if f"{split}.spacy" in names:
        return f"{split}.spacy"
    if any(name.startswith(f"{split}/") for name in names):
        return split
    return None


def _spacy_training(counts: dict, files) -> list[str]:
    names = {f.name for f in files}
    train = _spacy_corpus("train", names)
    dev = _spacy_corpus("validation", names) or _spacy_corpus("test", names)
    tokenizer = _main_tokenizer(counts)
    if train is None or dev is None or tokenizer is None:
        return ["## Training with spaCy", "", "This snapshot has no train and validation (or test) spaCy files to train on.", ""]
    language = tokenizer.rpartition("/")[2]
    before_init = f'{{"@callbacks": "spacy.copy_from_base_model.v1", "tokenizer": "{tokenizer}", "vocab": null}}'
    others = [t for t in counts["tokenizers"] if t != tokenizer]
    return [
        "## Training with spaCy", "",
        "From this folder: make a config for spancat (or ner, textcat_multilabel), then train with the shipped "
        f"`{tokenizer}` tokenizer (the language with the most spans)"
        f"{'' if dev.startswith('validation') else ', evaluating on the test split (there is no validation split)'}. "
        "A split of many docs is a folder of shards, which spaCy reads whole."
        + (f" Docs of articles in other languages were tokenized by {', '.join(f'`{t}`' for t in others)}: "
           "`doc.user_data['language']` tells them apart." if others else ""), "",
        "```sh",
        f"python -m spacy init config config.cfg --lang {language} --pipeline spancat",
        f"python -m spacy train config.cfg --paths.train {train} --paths.dev {dev} "
        f"--initialize.before_init '{before_init}' --output model",
        "```", "",
    ]


# How to read the CoNLL files: a reader with no dependency, the columns in the file's order.
CONLL_READER = '''def read_conll(path):
    """Each document: its -DOCSTART- fields, its tokens, and each token's tags (NER, then one per label)."""
    documents = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            fields = line.split(" ")
            if fields == ["\\n"]:
                continue  # a blank line ends a sentence
            fields[-1] = fields[-1].rstrip("\\n")
            if fields[0] == "-DOCSTART-":
                documents.append({"about": dict(f.split("=", 1) for f in fields[1:]), "tokens": [], "tags": []})
            else:
                documents[-1]["tokens"].append(fields[0])
                documents[-1]["tags"].append(fields[3:])
    return documents


def entities(tags):
    """(label, first token, token after the last) of each span in one BIO column."""
    found = []
    for i, tag in enumerate([*tags, "O"]):
        if found and found[-1][2] is None and tag != "I-" + found[-1][0]:
            found[-1][2] = i
        if tag.startswith("B-"):
            found.append([tag[2:], i, None])
    return [tuple(span) for span in found]


for document in read_conll({path}):
    columns = list(zip(*document["tags"]))  # columns[0] is NER, columns[1 + k] label k's
    spans = [span for column in columns[1:] for span in entities(column)]'''


def conll_section(schema: dict, names: list[str]) -> list[str]:
    labels = [label["name"] for label in schema["labels"]]
    path = next((f"{split}.conll" for split in SPLITS if f"{split}.conll" in names), None)
    # The reader, then its use on the first file there is (none when no article was exported).
    reader = CONLL_READER if path else CONLL_READER[: CONLL_READER.index("\n\n\nfor document")]
    return [
        "## Nested and overlapping spans (CoNLL)",
        "",
        "Each (article, annotation) is one document, started by a line that says whose it is, then a blank line: "
        "`-DOCSTART- article_id=12 annotation_id=34 annotator=ana language=en` (`-` where there is no value: "
        "the agreed consensus has no annotation id and is named by its analysts, `ana+bob`). Readers of "
        "CoNLL-2003 files skip a line that starts with `-DOCSTART-`.",
        "",
        "Then one token a line, columns separated by one space, in this order: "
        + ", ".join(f"`{md(c)}`" for c in ["token", "_", "_", "NER", *(_SPACE.sub("_", label) for label in labels)])
        + ". `NER` is the CoNLL-2003 column: one tag a token, so where spans overlap the longest wins (see above). "
        "Then one BIO column per label, in the schema's order (layered, as nested-NER corpora ship): every span of "
        "that label, so a Quote inside a Claim is whole in the Quote column and the Claim whole in the Claim column. "
        "A label's column leaves out only a span overlapping a longer one of the same label (counted above); two "
        "spans of one label on the same tokens are one entity of its column; a space in a label's name is `_` in its tags. Each column is plain BIO, so a BIO "
        "reader reads it one column at a time; or with this reader, which needs nothing installed:",
        "",
        "```python",
        *reader.replace("{path}", json.dumps(path)).splitlines(),
        "```",
        "",
        *_load_conll(labels, names),
    ]


def _load_conll(labels: list[str], names: list[str]) -> list[str]:
    """The CoNLL files as sentences with `datasets`' own CoNLL reader, as printed from the folder."""
    data_files = {split: [f"{split}.conll"] for split in SPLITS if f"{split}.conll" in names}
    if not data_files:
        return []
    columns = ["tokens", "pos_tags", "chunk_tags", "ner_tags", *(_SPACE.sub("_", label) for label in labels)]
    return [
        "Or as sentences (without their documents' `-DOCSTART-` lines), with `datasets`' CoNLL reader "
        "(`datasets` 5 or later), each column a list of tags a sentence:",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f"sentences = load_dataset(\"conll\", data_files={json.dumps(data_files)}, column_names={json.dumps(columns, ensure_ascii=False)})",
        "```",
        "",
    ]


def parquet_section(schema: dict, names: list[str]) -> list[str]:
    labels = [label["name"] for label in schema["labels"]]
    data_files = {split: sorted(n for n in names if n.split(".")[0].split("-")[0] == split) for split in SPLITS}
    data_files = {split: files for split, files in data_files.items() if files}
    return [
        "## Parquet features",
        "",
        "One row per (article, annotation). The column types are Hugging Face `datasets` features, kept in the "
        "files' Arrow schema, so `load_dataset` gives label names with no cleaning (`.int2str`):",
        "",
        "- `tokens`: `Sequence(Value('string'))`, the words of the CoNLL files (spaCy's tokens without whitespace).",
        "- `ner_tags`: `Sequence(ClassLabel(names=[" + ", ".join(f"'{md(n)}'" for n in ["O"] + [f"{b}-{label}" for label in labels for b in "BI"]) + "]))`: "
        "one tag a token, the CoNLL NER column (the longest of overlapping spans).",
        *(f"- `tags:{md(label)}`: `Sequence(ClassLabel(names=['O', 'B-{md(label)}', 'I-{md(label)}']))`: every span "
          f"labelled {md(label)}, nested ones included (the CoNLL {md(label)} column)." for label in labels),
        "- `topics`: `Sequence(ClassLabel(names=[" + ", ".join(f"'{md(t)}'" for t in schema["topics"]) + "]))`, multi-label.",
        "- `stance`: list of `{target, value}`.",
        "- `spans`: every span, aligned or not: `id`, `start`, `end` (code points: `text[start:end] == text`), "
        "`label`, `text`, `attributes` (JSON), `token_start`, `token_end` (its words, `tokens[token_start:token_end]`; "
        "null when not on token boundaries), `created`, `updated`, `review` (`decision` and `from`, for gold spans).",
        "- `relations`: list of `{id, type, source, target}` (span ids).",
        "- `article_id`, `sha256`, `title`, `text`, `language`, `source`, `url`, `published`, `metadata` (JSON), "
        "`annotation_id`, `annotator`, `kind`, `created`, `updated`.",
        "",
        *_load_dataset(data_files),
    ]


def _load_dataset(data_files: dict[str, list[str]]) -> list[str]:
    """A `load_dataset` call that runs as printed from the snapshot's folder, naming its Parquet files."""
    if not data_files:
        return ["No Parquet file: no article was exported.", ""]
    first = json.dumps(next(iter(data_files)))
    return [
        "From this folder:",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f"dataset = load_dataset(\"parquet\", data_files={json.dumps(data_files)})",
        f"first = dataset[{first}][0]",
        f"tags = dataset[{first}].features[\"ner_tags\"].feature",
        "print([(token, tags.int2str(tag)) for token, tag in zip(first[\"tokens\"], first[\"ner_tags\"])])",
        "```",
        "",
    ]
