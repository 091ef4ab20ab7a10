from django import forms
from django.conf import settings

from .readers import PASTED_TEXT, READERS, TITLE_MAX_LENGTH


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
        batch = [(upload.name, upload.read(limit)) for upload in self.cleaned_data["files"]]
        text = self.cleaned_data["text"]
        if text.strip():
            title = self.cleaned_data["title"].strip()
            first_line = next(line.strip() for line in text.splitlines() if line.strip())
            if title and title != first_line:
                # As in a .txt file, the title is the text's first line.
                text = f"{title}\n\n{text}"
            batch.append((PASTED_TEXT, text.encode("utf-8")))
        return batch
