from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile

from .readers import PASTED_TEXT, READERS, TITLE_MAX_LENGTH
from .text import refuse_control_characters


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one `<input type=file multiple>`, as a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return super().clean(None, initial) or []
        single = super().clean
        return [single(item, initial) for item in (data if isinstance(data, list | tuple) else [data])]


class ArticleImportForm(forms.Form):
    files = MultipleFileField(
        required=False,
        # The import service names empty files in its report, with the rest of the batch.
        allow_empty_file=True,
        widget=MultipleFileInput(attrs={"accept": ",".join(READERS), "aria-describedby": "files-help"}),
    )
    title = forms.CharField(required=False, max_length=TITLE_MAX_LENGTH)
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 12, "cols": 80}))

    def clean(self):
        cleaned = super().clean()
        has_text = bool(cleaned.get("text", "").strip())
        if cleaned.get("title", "").strip() and not has_text:
            self.add_error("text", "Paste the article's text as well as its title.")
        elif not cleaned.get("files") and not has_text and not self.errors:
            raise forms.ValidationError("Choose one or more files, or paste an article's text.")
        return cleaned

    def batch(self) -> list[tuple[str, bytes]]:
        """The files to import, as (name, bytes); the pasted article is a .txt file."""
        # One byte over the limit is enough for the service to refuse a file, so an
        # oversized upload is never read into memory whole.
        limit = settings.ANNOTATOR_MAX_UPLOAD_BYTES + 1
        return [(upload.name, upload.read(limit)) for upload in self.cleaned_data["files"]] + self._pasted()

    def uploads(self) -> list[tuple[str, UploadedFile | bytes]]:
        """The batch as `batch()` gives it, the files left unread (a job copies them a chunk at a time)."""
        return [(upload.name, upload) for upload in self.cleaned_data["files"]] + self._pasted()

    def size(self) -> int:
        """The batch's bytes, read from none of its files."""
        return sum(upload.size for upload in self.cleaned_data["files"]) + sum(len(data) for _, data in self._pasted())

    def _pasted(self) -> list[tuple[str, bytes]]:
        text = self.cleaned_data["text"]
        if text.strip():
            title = self.cleaned_data["title"].strip()
            first_line = next(line.strip() for line in text.splitlines() if line.strip())
            if title and title != first_line:
                # As in a .txt file, the title is the text's first line.
                text = f"{title}\n\n{text}"
            return [(PASTED_TEXT, text.encode("utf-8"))]
        return []


LABELLED_FORMATS = [
    ("jsonl", "This app's JSONL (a snapshot or the JSONL download)"),
    ("label-studio", "Label Studio JSON export"),
    ("doccano", "doccano JSONL export"),
]


def parse_mapping(text: str) -> dict[str, str]:
    """`NAME=Label` lines (the file's name, then the project's) as a mapping; blank lines ignored."""
    mapping = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, ours = (part.strip() for part in line.partition("="))
        if not sep or not name or not ours:
            raise forms.ValidationError(
                "Write one NAME=Label a line (the file's name, then the project's), not “%(line)s”.",
                params={"line": line.strip()},
            )
        if mapping.get(name, ours) != ours:
            raise forms.ValidationError(
                "“%(name)s” is mapped twice: to “%(first)s” and to “%(second)s”.",
                params={"name": name, "first": mapping[name], "second": ours},
            )
        mapping[name] = ours
    return mapping


class LabelledImportForm(forms.Form):
    """Labelled files (the options of `manage.py import_annotations` a person needs), imported by a job."""

    prefix = "labelled"

    files = MultipleFileField(
        widget=MultipleFileInput(attrs={"accept": ".json,.jsonl", "aria-describedby": "labelled-files-help"}),
    )
    format = forms.ChoiceField(choices=LABELLED_FORMATS)
    gold_by = forms.ModelChoiceField(
        queryset=None, required=False, label="Gold by",
        help_text="Label Studio and doccano files carry no annotator of this app: their annotations "
                  "become this member's gold. For a JSONL file, leave it empty to keep its annotators.",
    )
    text_key = forms.CharField(
        required=False, max_length=200, label="Text key",
        help_text="Label Studio: the task data key holding the text (default: text, or the one key every task has).",
    )
    mapping = forms.CharField(
        required=False, label="Name mapping", widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="Label Studio and doccano: one NAME=Label a line, turning the file's label, choice, "
                  "category or relation NAME into this project's Label.",
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        members = get_user_model().objects.filter(memberships__project=project).order_by("username")
        self.fields["gold_by"].queryset = members
        self.fields["gold_by"].label_from_instance = lambda user: user.get_username()

    def clean_mapping(self):
        text = self.cleaned_data["mapping"]
        refuse_control_characters(text, what="Name mapping")
        return parse_mapping(text)

    def clean_text_key(self):
        text_key = self.cleaned_data["text_key"].strip()
        refuse_control_characters(text_key, what="Text key")
        return text_key

    def clean(self):
        cleaned = super().clean()
        format = cleaned.get("format")
        if format and format != "jsonl" and not cleaned.get("gold_by") and "gold_by" not in self.errors:
            self.add_error("gold_by", "A Label Studio or doccano file has no annotators of this app: choose whose gold it is.")
        if format and format != "label-studio" and cleaned.get("text_key"):
            self.add_error("text_key", "The text key is for Label Studio files.")
        if format == "jsonl" and cleaned.get("mapping"):
            self.add_error("mapping", "A JSONL file of this app already uses the project's names: leave the mapping empty.")
        return cleaned

    def uploads(self) -> list[tuple[str, UploadedFile]]:
        """The files, unread: the job copies them a chunk at a time."""
        return [(upload.name, upload) for upload in self.cleaned_data["files"]]

    def options(self) -> dict:
        cleaned = self.cleaned_data
        gold_by = cleaned.get("gold_by")
        return {
            "format": cleaned["format"],
            "gold_by": gold_by.pk if gold_by else None,
            "text_key": cleaned.get("text_key", ""),
            "mapping": cleaned.get("mapping", {}),
        }
