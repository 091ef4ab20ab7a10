from django import forms

from .data import DateRange


class DateRangeForm(forms.Form):
    """The `from` and `to` query parameters; both optional, both days included.

    `from` is a Python keyword, so the fields are added by name rather than declared.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(
            required=False,
            label="From",
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": "Enter the first day as a date like 2025-01-31."},
        )
        self.fields["to"] = forms.DateField(
            required=False,
            label="To",
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": "Enter the last day as a date like 2025-01-31."},
        )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("from"), cleaned.get("to")
        if since and until and since > until:
            raise forms.ValidationError("The first day is after the last day.")
        return cleaned

    def date_range(self) -> DateRange:
        return DateRange(since=self.cleaned_data.get("from"), until=self.cleaned_data.get("to"))
