from django import forms
from django.contrib.auth import get_user_model

from .models import License, Membership


def _role_choices(roles):
    labels = dict(Membership.Role.choices)
    return [(role, labels[role]) for role in roles]


class MemberAddForm(forms.Form):
    """Add an existing account, by its username; `roles` are those the person adding may give."""

    username = forms.CharField(max_length=150)
    role = forms.ChoiceField()

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        self.fields["role"].initial = Membership.Role.ANALYST

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise forms.ValidationError(f"There is no account named “{username}”. Ask a site admin to create it.")
        self.user = user
        return username


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField()

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)


class ProjectSettingsForm(forms.Form):
    overlap = forms.IntegerField(
        label="Analysts per article",
        min_value=1,
        max_value=32767,
        help_text="How many analysts label each article before it goes to review. Lowering it takes "
        "no one off an article they already have.",
    )
    license = forms.ChoiceField(
        label="Dataset licence",
        choices=License.choices,
        # Left out of a post (an older form still open in a tab): the licence stays as it is.
        required=False,
        help_text="Written in the card of every dataset exported from this project (its Hugging Face header).",
    )
