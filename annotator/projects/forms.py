from django import forms
from django.contrib.auth import get_user_model

from .models import License, Membership


def _role_choices(roles):
    labels = dict(Membership.Role.choices)
    return [(role, labels[role]) for role in roles]


class MemberAddForm(forms.Form):
    """Someone to add, by username or email; `roles` are those the person adding may give.

    An existing account becomes `user`. An email address that no account has leaves `user`
    None and `email` set: the view invites them (a new account), if the person adding may.
    """

    username = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField()

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        self.fields["role"].initial = Membership.Role.ANALYST
        self.user = self.email = None

    def clean_username(self):
        given = self.cleaned_data["username"].strip()
        users = get_user_model().objects
        self.user = users.filter(**{get_user_model().USERNAME_FIELD: given}).first()
        if self.user is not None:
            return given
        if "@" not in given:
            raise forms.ValidationError(
                f"There is no account named “{given}”. To invite someone new, give their email address."
            )
        email = users.normalize_email(forms.EmailField().clean(given))
        matches = list(users.filter(email__iexact=email)[:2])
        if len(matches) > 1:
            raise forms.ValidationError(f"Several accounts use {email}: give the username of the one to add.")
        if matches:
            self.user = matches[0]
        else:
            self.email = email
        return given


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
