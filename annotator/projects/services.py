from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import License, Membership, Project, RelationType, SpanAttribute, SpanLabel, StanceTarget, StanceValue, Topic

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
# What the topic suggester looks for, per default topic (English, Arabic, Russian); the admin edits them.
DEFAULT_TOPIC_KEYWORDS = {
    "Armenia": "Armenia*, Yerevan, Karabakh, Pashinyan, Azerbaijan*, Baku, Aliyev, South Caucasus, أرمين*, أرمن*, "
    "يريفان, كاراباخ, أذربيجان*, باكو, علييف, Армени*, Ереван*, Карабах*, Азербайджан*",
    "Syria": "Syria*, Damascus, Assad, Hmeimim, Idlib, Aleppo, Latakia, Tartus, Sweida, Suwayda, Sharaa, سوريا, سورية, "
    "دمشق, الأسد, حميميم, إدلب, حلب, اللاذقية, طرطوس, السويداء, الشرع, Сири*, Дамаск*, Асад*",
    "Iran nuclear deal (JCPOA)": "JCPOA, nuclear deal, Iran nuclear, Iran's nuclear, nuclear weapon*, IAEA, Fordow, "
    "Natanz, uranium, enrichment, snapback, الاتفاق النووي, البرنامج النووي, الطاقة الذرية, فوردو, نطنز, اليورانيوم, "
    "تخصيب, СВПД, ядерн* сделк*, МАГАТЭ",
    "Ukraine": "Ukrain*, Kyiv, Kiev, Zelensky*, Donbas*, Donetsk, Luhansk, Kharkiv, Zaporizhzhia, Kherson, Crimea*, "
    "أوكراني*, كييف, زيلينسكي, دونيتسك, لوغانسك, خاركيف, زابوريجيا, خيرسون, القرم, Украин*, Киев*, Зеленск*, "
    "Донецк*, Харьков*",
    "Israel–Palestine": "Israel*, Palestin*, Gaza, West Bank, Hamas, إسرائيل, فلسطين*, غزة, حماس, Израил*, Палестин*, Газ*",
}
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
    Topic.objects.bulk_create(
        Topic(project=project, name=t, order=i, keywords=DEFAULT_TOPIC_KEYWORDS.get(t, ""))
        for i, t in enumerate(DEFAULT_TOPICS)
    )
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


def project_lock(*, project_id: int) -> Project:
    """Lock the project row until the transaction ends and return it as it is now.

    Changes that must see each other (claiming articles, removing the last admin) take this
    lock first, so they run one after another within a project and never both act on a count
    that the other is about to change. PostgreSQL takes a row lock that still lets rows pointing
    at the project be inserted (FOR NO KEY UPDATE). SQLite ignores FOR UPDATE; a write as the
    transaction's first statement takes its one database-wide write lock instead, and a second
    writer then waits (busy timeout) rather than failing when it upgrades a read lock.
    """
    if connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        return Project.objects.select_for_update(no_key=no_key).get(pk=project_id)
    Project.objects.filter(pk=project_id).update(overlap=F("overlap"))
    return Project.objects.get(pk=project_id)


def role_in(user: AbstractBaseUser, project: Project) -> str | None:
    """The user's role in the project, as the services decide with it (a superuser is an admin)."""
    if user.is_superuser:
        return Membership.Role.ADMIN
    return project.memberships.filter(user=user).values_list("role", flat=True).first()


@transaction.atomic
def project_update(*, project: Project, actor: AbstractBaseUser, overlap: int, license: str | None = None) -> Project:
    """Change the project's settings; only its admins may. A `license` of None is left as it is."""
    locked = project_lock(project_id=project.pk)
    if role_in(actor, project) != Membership.Role.ADMIN:
        raise PermissionDenied("Only a project admin can change the project's settings.")
    if overlap < 1:
        raise ValidationError("Each article needs at least one analyst.", code="overlap_too_small")
    if license is not None and license not in License.values:
        raise ValidationError(f"“{license}” is not a licence this app knows.", code="license_unknown")
    locked.overlap = overlap
    project.overlap = overlap
    if license is not None:
        locked.license = project.license = license
    locked.save(update_fields=["overlap", "license"])
    return locked


# Who may give which role: admins manage everyone; reviewers bring analysts in and take them
# out, and touch no one else. Deny by default: any other actor role may do nothing.
def membership_roles_allowed(*, actor_role: str | None, current: str | None) -> list[str]:
    """The roles an actor may give a member whose role is `current` (None: not a member yet)."""
    if actor_role == Membership.Role.ADMIN:
        return list(Membership.Role)
    if actor_role == Membership.Role.REVIEWER and current in (None, Membership.Role.ANALYST):
        return [Membership.Role.ANALYST]
    return []


def membership_removable(*, actor_role: str | None, current: str) -> bool:
    if actor_role == Membership.Role.ADMIN:
        return True
    return actor_role == Membership.Role.REVIEWER and current == Membership.Role.ANALYST


def _check_role_allowed(actor: AbstractBaseUser, project: Project, *, current: str | None, role: str) -> None:
    if role not in Membership.Role.values:
        raise ValidationError(f"“{role}” is not a role.", code="bad_role")
    if role not in membership_roles_allowed(actor_role=role_in(actor, project), current=current):
        raise PermissionDenied("You may not give that role.")


def _check_admin_remains(project: Project, membership: Membership) -> None:
    """Refuse to leave the project without an admin (counted under the project lock)."""
    if membership.role != Membership.Role.ADMIN:
        return
    others = project.memberships.filter(role=Membership.Role.ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            f"{membership.user.get_username()} is the project's only admin. Make someone else admin first.",
            code="last_admin",
        )


def _current(membership: Membership) -> Membership:
    """The membership as it is now, under the project lock."""
    current = Membership.objects.select_related("user").filter(pk=membership.pk).first()
    if current is None:
        raise ValidationError("That person is no longer a member.", code="gone")
    return current


@transaction.atomic
def membership_add(*, project: Project, actor: AbstractBaseUser, user: AbstractBaseUser, role: str) -> Membership:
    project_lock(project_id=project.pk)
    _check_role_allowed(actor, project, current=None, role=role)
    if project.memberships.filter(user=user).exists():
        raise ValidationError(
            f"{user.get_username()} is already a member; change their role in the list instead.",
            code="already_member",
        )
    return Membership.objects.create(project=project, user=user, role=role)


@transaction.atomic
def member_invite(*, project: Project, actor: AbstractBaseUser, email: str, role: str, site_url: str) -> Membership:
    """A new account for `email`, with no password, made a member; it is mailed a link to choose one.

    Only a project admin may invite. The link is Django's password reset link (`site_url` is
    where the site is, e.g. `https://annotator.example.org/`): it works once, since choosing a
    password changes what its token signs, and for PASSWORD_RESET_TIMEOUT. The mail is sent
    before the transaction commits, so a mail server that refuses it leaves no account behind.
    """
    project_lock(project_id=project.pk)
    if role_in(actor, project) != Membership.Role.ADMIN:
        raise PermissionDenied("Only a project admin can invite someone new.")
    _check_role_allowed(actor, project, current=None, role=role)
    users = get_user_model()
    if users.objects.filter(email__iexact=email).exists() or users.objects.filter(username=email).exists():
        raise ValidationError(f"{email} already has an account: add it by its username.", code="has_account")
    user = users(username=email, email=email)
    user.set_unusable_password()
    try:
        user.full_clean()  # the address becomes the username: its length and characters must do
    except ValidationError as error:
        raise ValidationError(
            f"{email} cannot be used as a username ({' '.join(error.messages)}). Ask a site admin to make the account.",
            code="bad_username",
        ) from error
    user.save()
    membership = Membership.objects.create(project=project, user=user, role=role)
    link = site_url.rstrip("/") + reverse(
        "password_reset_confirm",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)},
    )
    context = {
        "project": project, "inviter": actor.get_username(), "role": membership.get_role_display().lower(),
        "username": user.get_username(), "link": link, "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = render_to_string("projects/invitation_subject.txt", context).strip()
    send_mail(subject, render_to_string("projects/invitation_email.txt", context), None, [email])
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, actor: AbstractBaseUser, role: str) -> Membership:
    project = project_lock(project_id=membership.project_id)
    membership = _current(membership)
    _check_role_allowed(actor, project, current=membership.role, role=role)
    if role != Membership.Role.ADMIN:
        _check_admin_remains(project, membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: AbstractBaseUser) -> None:
    project = project_lock(project_id=membership.project_id)
    membership = _current(membership)
    if not membership_removable(actor_role=role_in(actor, project), current=membership.role):
        raise PermissionDenied("You may not remove this member.")
    _check_admin_remains(project, membership)
    membership.delete()
