"""What every form for editing the database by hand shares."""

from django import forms
from django.core.exceptions import ValidationError

from annotator.corpus.text import refuse_control_characters


class TextChecked(forms.ModelForm):
    """Refuses a control character in any text or JSON field, with the message every other way in
    gives (Django's own fields refuse only NUL, and only outside JSON, whose "\\u0000" PostgreSQL
    then refuses with a 500). The Django admin's forms are these."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            try:
                refuse_control_characters(value, what=str(self.fields[name].label or name))
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned
