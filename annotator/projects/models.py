"""Projects, who belongs to them, and the label schema (the types, never the annotations)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user):
        """Projects the user may open: every read of project data starts here."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(memberships__user=user).distinct()


class License(models.TextChoices):
    """Licences a dataset is commonly published under, by the identifiers the Hugging Face Hub
    reads in a dataset card's `license` field."""

    UNKNOWN = "unknown", "Not chosen yet"
    CC_BY_4_0 = "cc-by-4.0", "CC BY 4.0 (Creative Commons Attribution)"
    CC_BY_SA_4_0 = "cc-by-sa-4.0", "CC BY-SA 4.0 (Creative Commons Attribution-ShareAlike)"
    CC_BY_NC_4_0 = "cc-by-nc-4.0", "CC BY-NC 4.0 (Creative Commons Attribution-NonCommercial)"
    CC_BY_NC_SA_4_0 = "cc-by-nc-sa-4.0", "CC BY-NC-SA 4.0 (Creative Commons Attribution-NonCommercial-ShareAlike)"
    CC_BY_ND_4_0 = "cc-by-nd-4.0", "CC BY-ND 4.0 (Creative Commons Attribution-NoDerivatives)"
    CC_BY_NC_ND_4_0 = "cc-by-nc-nd-4.0", "CC BY-NC-ND 4.0 (Creative Commons Attribution-NonCommercial-NoDerivatives)"
    CC0_1_0 = "cc0-1.0", "CC0 1.0 (public domain dedication)"
    ODC_BY = "odc-by", "ODC-By (Open Data Commons Attribution)"
    ODBL = "odbl", "ODbL (Open Data Commons Open Database License)"
    PDDL = "pddl", "PDDL (Open Data Commons Public Domain Dedication)"
    APACHE_2_0 = "apache-2.0", "Apache 2.0"
    MIT = "mit", "MIT"
    OTHER = "other", "Other (say which in the project description)"


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # How many analysts label each article before it goes to review.
    overlap = models.PositiveSmallIntegerField(default=1)
    # The licence of the datasets exported from the project, written in every dataset card.
    license = models.CharField("dataset licence", max_length=20, choices=License.choices, default=License.UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive"),
            models.CheckConstraint(condition=Q(license__in=License.values), name="project_license_valid"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        REVIEWER = "reviewer", "Reviewer"
        ANALYST = "analyst", "Analyst"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=["admin", "reviewer", "analyst"]), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) in {self.project}"


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f77b4.")
hotkey = RegexValidator(r"^[a-z0-9]$", "Use one lower-case letter or digit.")

# Keys the labelling page keeps for itself (static/annotator/js/labelling.js): a label given one
# would never be chosen by it.
RESERVED_HOTKEYS = {
    "r": "retry changes that were not saved",
    "?": "keyboard help",
    "escape": "closing the help and the label menu",
    "enter": "opening a span (and, with Shift, submit and next)",
    "tab": "moving between controls",
    " ": "scrolling the page",
    # Capitals (Shift and the letter): a label's key is a lower-case letter or digit, so these
    # never clash with one; listed so the help and this list agree.
    "A": "accepting the focused suggestion",
    "X": "rejecting the focused suggestion",
    "Y": "accepting every suggestion on the article",
    "arrowup": "moving in the label menu and the text",
    "arrowdown": "moving in the label menu and the text",
    "arrowleft": "moving in the label menu and the text",
    "arrowright": "moving in the label menu and the text",
}


def hotkey_not_reserved(value: str) -> None:
    """Refuse a label key the page already uses, naming what uses it."""
    use = RESERVED_HOTKEYS.get((value or "").lower())
    if use is not None:
        raise ValidationError(
            "“%(key)s” is the labelling page's own key for %(use)s: choose another key for this label.",
            code="reserved_hotkey",
            params={"key": value, "use": use},
        )


class SpanLabel(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="span_labels")
    name = models.CharField(max_length=60)
    colour = models.CharField(max_length=7, validators=[hex_colour])
    hotkey = models.CharField(max_length=1, validators=[hotkey, hotkey_not_reserved])
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="spanlabel_unique_name"),
            models.UniqueConstraint(fields=["project", "hotkey"], name="spanlabel_unique_hotkey"),
            # The colour is written into a stylesheet: only a plain hex colour may get there.
            models.CheckConstraint(condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"), name="spanlabel_colour_hex"),
            models.CheckConstraint(condition=Q(hotkey__regex=r"^[a-z0-9]$"), name="spanlabel_hotkey_valid"),
        ]

    def __str__(self):
        return self.name


class SpanAttribute(models.Model):
    """A field an analyst fills on a span of one label (a Quote's speaker, a Claim's stance)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Free text"
        STANCE = "stance", "One of the project's stance values"
        TARGET = "target", "One of the project's stance targets"

    label = models.ForeignKey(SpanLabel, on_delete=models.CASCADE, related_name="attributes")
    name = models.SlugField(max_length=40)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["label", "name"], name="spanattribute_unique_name")]

    def __str__(self):
        return f"{self.label.name}.{self.name}"


class RelationType(models.Model):
    """A directed link between two spans, e.g. a Quote to the mention of its speaker."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relation_types")
    name = models.CharField(max_length=60)
    source_label = models.ForeignKey(SpanLabel, on_delete=models.RESTRICT, related_name="+")
    target_label = models.ForeignKey(SpanLabel, on_delete=models.RESTRICT, related_name="+", null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="relationtype_unique_name")]

    def __str__(self):
        return self.name


class Topic(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    # What the topic suggester (`suggestions.rules.topics`) looks for in an article's text.
    keywords = models.TextField(
        blank=True,
        help_text="Words or phrases that suggest this topic, one a line or separated by commas, in any language of "
        "the corpus. A word matches whole words (any case); end it with * to match any ending (Ukrain* finds "
        "Ukraine and Ukrainian). Arabic words also match after a prefix such as و، ب، ل or ال.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="topic_unique_name")]

    def __str__(self):
        return self.name


class StanceValue(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stance_values")
    name = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="stancevalue_unique_name")]

    def __str__(self):
        return self.name


class StanceTarget(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stance_targets")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="stancetarget_unique_name")]

    def __str__(self):
        return self.name
