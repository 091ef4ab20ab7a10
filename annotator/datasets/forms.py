from django import forms
from django.contrib.auth import get_user_model

from annotator.projects.models import Membership

from .formats import FORMAT_CHOICES, FORMATS
from .records import Scope

SEED_MAX = 2**31 - 1


class SnapshotForm(forms.Form):
    """What a snapshot holds: scope, filters, formats and split. `parameters()` is what is stored."""

    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.GOLD, widget=forms.RadioSelect)
    analyst = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Analyst (for “one analyst”)"
    )
    topics = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Only articles given at least one of these topics. None ticked: every article.",
    )
    published_from = forms.DateField(required=False, label="Published from", widget=forms.DateInput(attrs={"type": "date"}))
    published_to = forms.DateField(required=False, label="Published to", widget=forms.DateInput(attrs={"type": "date"}))
    sources = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every source."
    )
    formats = forms.MultipleChoiceField(
        choices=FORMAT_CHOICES, initial=list(FORMATS), widget=forms.CheckboxSelectMultiple
    )
    train = forms.IntegerField(min_value=0, max_value=100, initial=80, label="Train %")
    validation = forms.IntegerField(min_value=0, max_value=100, initial=10, label="Validation %")
    test = forms.IntegerField(min_value=0, max_value=100, initial=10, label="Test %")
    seed = forms.IntegerField(min_value=0, max_value=SEED_MAX, initial=13)
    near_duplicate_threshold = forms.DecimalField(
        min_value=0.5, max_value=1, decimal_places=2, initial="0.8", label="Near-duplicate threshold",
        help_text="Articles whose word 5-gram Jaccard similarity is at least this, or one at least this share of whose "
        "5-grams are in the other (an excerpt), are kept in one split.",
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["analyst"].queryset = (
            get_user_model()
            .objects.filter(memberships__project=project, memberships__role=Membership.Role.ANALYST)
            .order_by("username")
        )
        self.fields["topics"].choices = [(t.name, t.name) for t in project.topics.all()]
        sources = project.articles.exclude(source="").order_by("source").values_list("source", flat=True).distinct()
        self.fields["sources"].choices = [(s, s) for s in sources]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == Scope.ANALYST and not cleaned.get("analyst"):
            self.add_error("analyst", "Choose the analyst whose annotations to export.")
        ratios = [cleaned.get(s) for s in ("train", "validation", "test")]
        if None not in ratios and sum(ratios) != 100:
            self.add_error(None, f"The split percentages must add up to 100 (they add up to {sum(ratios)}).")
        start, end = cleaned.get("published_from"), cleaned.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", "The end date is before the start date.")
        return cleaned

    def parameters(self) -> dict:
        data = self.cleaned_data
        analyst = data["analyst"] if data["scope"] == Scope.ANALYST else None
        return {
            "scope": data["scope"],
            "analyst": analyst.id if analyst else None,
            "analyst_username": analyst.get_username() if analyst else None,
            "filters": {
                "topics": [t for t, _ in self.fields["topics"].choices if t in data["topics"]],
                "published_from": data["published_from"].isoformat() if data["published_from"] else None,
                "published_to": data["published_to"].isoformat() if data["published_to"] else None,
                "sources": sorted(data["sources"]),
            },
            # In the order of FORMATS, whatever order they were ticked in.
            "formats": [key for key in FORMATS if key in data["formats"]],
            "split": {
                "train": data["train"],
                "validation": data["validation"],
                "test": data["test"],
                "seed": data["seed"],
                "near_duplicate_threshold": float(data["near_duplicate_threshold"]),
            },
        }
