"""One module per file format; each has a `Writer` that takes records one at a time.

A writer is given the snapshot's `Output` (where files go, under temporary names until the
build finishes) and its schema; `add(record, split)` writes one article's record, whose
annotations are the ones the snapshot exports, and `close()` finishes the files and returns
what the dataset card should report about them (spans that could not be written, and why).
Every writer writes one example per (article, annotation) unless it says otherwise. A writer
with `add_line(line, split)` is given each record as its JSONL line (`jsonl.line`) instead.

A snapshot of many records is written in shards, each by a task of its own (see `build`): each
module's `join(parts, into, schema)` makes the snapshot's files of its format from the shards'
files, in the order of their records: `parts` holds, for each shard in that order, its files of
the format (name: where the shard wrote it).

Modules are imported when a snapshot asks for them: spaCy and pyarrow take a while to load.
"""

import hashlib
import os
import shutil
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

# key: (module, label shown on the export page)
FORMATS = {
    "jsonl": ("jsonl", "JSON Lines: one article per line, every annotation (the app's own format)"),
    "csv": ("csv_documents", "CSV of document labels: topics and stance per article"),
    "spacy": ("spacy_docbin", "spaCy DocBin (.spacy): spans, entities and topic categories"),
    "conll": ("conll", "CoNLL-2003 style BIO tags, and one BIO column per label for nested spans (token per line)"),
    "parquet": ("parquet", "Parquet (Hugging Face datasets): tokens, tags and topics with their label names"),
    "label-studio": ("label_studio", "Label Studio JSON tasks and labelling config"),
}
FORMAT_CHOICES = [(key, label) for key, (_, label) in FORMATS.items()]


def writer_class(key: str):
    return import_module(f"{__name__}.{FORMATS[key][0]}").Writer


def make_writer(key: str, output: "Output", schema: dict):
    """A writer of format `key`, writing into `output`."""
    return writer_class(key)(output, schema)


def join(parts: list[dict[str, tuple[Path, str]]], into: "Output", schema: dict) -> None:
    """The snapshot's files from its shards' (each shard's name: (where, format), in the order
    of their records), written into `into` by each format's `join`."""
    by_format: dict[str, list[dict[str, Path]]] = {}
    for i, part in enumerate(parts):
        for name, (path, format) in part.items():
            by_format.setdefault(format, [{} for _ in parts])[i][name] = path
    for format, files in by_format.items():
        import_module(f"{__name__}.{FORMATS[format][0]}").join(files, into, schema)


def concatenate(parts: list[dict[str, Path]], into: "Output", format: str, header: bytes = b"") -> None:
    """Each file the parts write, their copies one after the other; `header` (which each copy
    starts with) written once."""
    for name in sorted({name for part in parts for name in part}):
        with into.open(name, format) as handle:
            handle.write(header)
            for part in parts:
                if name in part:
                    with part[name].open("rb") as copy:
                        if copy.read(len(header)) != header:
                            raise ValueError(f"{name} of a shard does not start with its header.")
                        shutil.copyfileobj(copy, handle)


@dataclass(frozen=True)
class WrittenFile:
    name: str
    format: str
    size: int
    sha256: str


class Output:
    """The files of one snapshot being built, each under a temporary name until `finish()`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.files: dict[str, str] = {}  # name -> format
        self.finished: set[str] = set()
        self.handles: list = []

    def open(self, name: str, format: str, mode: str = "wb", **kwargs):
        """A file to write `name` to for now; closed by the writer, or by `close()` if the build fails."""
        handle = self.path(name, format).open(mode, **kwargs)
        self.handles.append(handle)
        return handle

    def close(self) -> None:
        for handle in self.handles:
            handle.close()

    def path(self, name: str, format: str) -> Path:
        """Where to write `name` for now; the same name twice is a bug in a writer."""
        if name in self.files:
            raise ValueError(f"Two formats want to write {name}.")
        self.files[name] = format
        return self._temporary(name)

    def rename(self, old: str, new: str) -> None:
        os.replace(self._temporary(old), self._temporary(new))
        self.files[new] = self.files.pop(old)

    def _temporary(self, name: str) -> Path:
        """Where `name` is written until `finish()`. A name may be in a folder
        (`tokenizer/ar/config.cfg`): the folder is made here."""
        folder, _, base = name.rpartition("/")
        directory = self.directory
        if folder:
            directory = directory / folder
            directory.mkdir(parents=True, exist_ok=True)
        return directory / f".{base}.part"

    def unfinished(self) -> dict[str, tuple[Path, str]]:
        """Each file written, where it is until `finish()`, and its format: a shard's files,
        which the snapshot's files are joined from (`join`)."""
        self.close()
        return {name: (self._temporary(name), format) for name, format in self.files.items() if name not in self.finished}

    def finish(self) -> list[WrittenFile]:
        """Hash every file not finished yet, then give it its real name; until then it has none."""
        self.close()
        written = []
        for name, format in sorted(self.files.items()):
            if name in self.finished:
                continue
            self.finished.add(name)
            temporary = self._temporary(name)
            digest = hashlib.sha256()
            with temporary.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                os.fsync(handle.fileno())
            os.replace(temporary, self.directory / name)
            written.append(WrittenFile(name, format, (self.directory / name).stat().st_size, digest.hexdigest()))
        return written


def annotator_name(annotation: dict) -> str:
    """Who made an annotation; a consensus is named by its analysts, "ana+bob"."""
    return annotation["annotator"] or "+".join(annotation.get("agreed_by", []))
