from django import forms

from .models import TrainingSettings


class TrainingSettingsForm(forms.ModelForm):
    class Meta:
        model = TrainingSettings
        fields = ["retrain_every", "prefer_uncertain"]
        widgets = {"retrain_every": forms.NumberInput(attrs={"min": 0, "max": 100000})}
