from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import Membership, Project, RelationType, SpanAttribute, SpanLabel, StanceTarget, StanceValue, Topic

# The schema a new project starts with; an admin edits it afterwards in Django admin.
DEFAULT_SPAN_LABELS = [
    # name, colour, hotkey, attributes (name, kind)
    ("Claim", "#1f77b4", "c", [("claimant", "text"), ("stance", "stance"), ("target", "target")]),
    ("Quote", "#d62728", "q", [("speaker", "text"), ("stance", "stance"), ("target", "target")]),
    # The mention of a person or organisation that a quote or claim is linked to.
    ("Source", "#2ca02c", "s", []),
]
DEFAULT_RELATIONS = [("speaker", "Quote", "Source"), ("source", "Claim", "Source")]
DEFAULT_TOPICS = ["Armenia", "Syria", "Iran nuclear deal (JCPOA)", "Ukraine", "Israel–Palestine", "Other"]
DEFAULT_STANCE_VALUES = ["supportive", "critical", "neutral"]
DEFAULT_STANCE_TARGETS = ["the West", "the United States", "NATO"]


@transaction.atomic
def project_create(*, name: str, description: str = "", admin: AbstractBaseUser | None = None) -> Project:
    project = Project.objects.create(name=name, description=description)
    labels = {}
    for order, (label_name, colour, key, attributes) in enumerate(DEFAULT_SPAN_LABELS):
        label = SpanLabel.objects.create(project=project, name=label_name, colour=colour, hotkey=key, order=order)
        labels[label_name] = label
        SpanAttribute.objects.bulk_create(
            SpanAttribute(label=label, name=attr, kind=kind, order=i) for i, (attr, kind) in enumerate(attributes)
        )
    RelationType.objects.bulk_create(
        RelationType(project=project, name=rel, source_label=labels[src], target_label=labels[dst])
        for rel, src, dst in DEFAULT_RELATIONS
    )
    Topic.objects.bulk_create(Topic(project=project, name=t, order=i) for i, t in enumerate(DEFAULT_TOPICS))
    StanceValue.objects.bulk_create(
        StanceValue(project=project, name=v, order=i) for i, v in enumerate(DEFAULT_STANCE_VALUES)
    )
    StanceTarget.objects.bulk_create(
        StanceTarget(project=project, name=t, order=i) for i, t in enumerate(DEFAULT_STANCE_TARGETS)
    )
    if admin is not None:
        Membership.objects.create(project=project, user=admin, role=Membership.Role.ADMIN)
    return project


def membership_set(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership
