from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from annotator.labelling.models import Annotation
from annotator.labelling.queries import HOLDING, analysts_on_article
from annotator.labelling.queries import project_progress as project_progress_query

from . import services
from .access import STAFF_ROLES, login_required_htmx, project_view
from .forms import MemberAddForm, MemberRoleForm, ProjectSettingsForm
from .models import Membership, Project


@require_GET
@login_required_htmx
def home(request):
    projects = Project.objects.for_user(request.user).annotate(article_count=Count("articles", distinct=True))
    return render(request, "projects/home.html", {"projects": projects})


STATUS_LABELS = dict(Annotation.Status.choices)


@require_GET
@project_view()
def project_detail(request, project):
    articles = project.articles.annotate(
        my_status=Annotation.objects.filter(
            article=OuterRef("pk"), annotator=request.user, kind=Annotation.Kind.ANALYST
        ).values("status")[:1],
        taken=analysts_on_article(*HOLDING),
    ).defer("text", "metadata")
    page = Paginator(articles, 100).get_page(request.GET.get("page"))
    for article in page:
        article.status_label = STATUS_LABELS.get(article.my_status, "Not started")
        # Not theirs, and k analysts hold it: the page would refuse their first change (as
        # `annotation_claim` does), so the list says so instead of offering it.
        article.full = article.my_status is None and article.taken >= project.overlap
    done = project.articles.filter(
        annotations__annotator=request.user, annotations__status=Annotation.Status.SUBMITTED
    ).count()
    context = {
        "project": project,
        "page": page,
        "done": done,
        "total": project.articles.count(),
        "can_manage": request.role in STAFF_ROLES,
    }
    return render(request, "projects/project_detail.html", context)


# Members and settings ------------------------------------------------------------------------

ROLE_ORDER = {role: i for i, role in enumerate(Membership.Role)}
ADMIN_ONLY = (Membership.Role.ADMIN,)
MEMBERS = "projects/members.html"


def _members_context(request, project, *, add_form=None, settings_form=None, notice="", error=""):
    """The members page as `request.user` may use it: the controls offered follow their role."""
    memberships = sorted(
        project.memberships.select_related("user"), key=lambda m: (ROLE_ORDER[m.role], m.user.get_username().lower())
    )
    rows = [
        {
            "membership": m,
            "roles": services.membership_roles_allowed(actor_role=request.role, current=m.role),
            "removable": services.membership_removable(actor_role=request.role, current=m.role),
        }
        for m in memberships
    ]
    add_roles = services.membership_roles_allowed(actor_role=request.role, current=None)
    return {
        "project": project,
        "rows": rows,
        "add_form": add_form or MemberAddForm(roles=add_roles),
        "settings_form": settings_form or ProjectSettingsForm(initial={"overlap": project.overlap, "license": project.license}),
        "can_configure": request.role == Membership.Role.ADMIN,
        "notice": notice,
        "error": error,
    }


def _members_answer(request, project, partial="members", **context):
    """A members-page form's answer: htmx gets the fragment it swaps, a plain request the page."""
    context = _members_context(request, project, **context)
    return render(request, f"{MEMBERS}#{partial}" if request.htmx else MEMBERS, context)


def _members_changed(request, project, notice, partial="members"):
    if request.htmx:
        return _members_answer(request, project, partial, notice=notice)
    messages.success(request, notice)
    return redirect("project_members", project.id)


def _after_own_change(request, project, notice):
    """After changing their own membership the user may see less of the project: reload what they can see."""
    role = services.role_in(request.user, project)
    if role in STAFF_ROLES:
        target = reverse("project_members", args=[project.id])
    elif role is not None:
        target = reverse("project_detail", args=[project.id])
    else:
        target = reverse("home")
    messages.success(request, notice)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


@require_GET
@vary_on_headers("HX-Request")
@project_view(roles=STAFF_ROLES)
def project_members(request, project):
    return _members_answer(request, project)


@require_POST
@project_view(roles=STAFF_ROLES)
def member_add(request, project):
    """An existing account (by username or email) becomes a member; a new email address is invited."""
    form = MemberAddForm(
        request.POST, roles=services.membership_roles_allowed(actor_role=request.role, current=None)
    )
    if form.is_valid():
        role = form.cleaned_data["role"]
        label = Membership.Role(role).label.lower()
        try:
            if form.user is not None:
                services.membership_add(project=project, actor=request.user, user=form.user, role=role)
                notice = format_html("Added <bdi>{}</bdi> as {}.", form.user.get_username(), label)
            elif request.role != Membership.Role.ADMIN:
                raise ValidationError(
                    f"No account uses {form.email}. Only a project admin can invite someone new: ask one.",
                    code="not_admin",
                )
            else:
                services.member_invite(
                    project=project, actor=request.user, email=form.email, role=role,
                    site_url=request.build_absolute_uri("/"),
                )
                notice = format_html(
                    "Invited <bdi>{}</bdi> as {}: they were sent a mail with a link to choose a password "
                    "(it works once). Their username is their email address.", form.email, label,
                )
        except ValidationError as error:
            form.add_error(None, error)
        except OSError as error:  # the mail server refused or did not answer: nothing was made
            form.add_error(None, f"The invitation could not be sent ({error}); no account was made. Try again later.")
        else:
            return _members_changed(request, project, notice)
    return _members_answer(request, project, add_form=form)


def _membership(project, membership_id) -> Membership:
    return get_object_or_404(project.memberships.select_related("user"), pk=membership_id)


@require_POST
@project_view(roles=STAFF_ROLES)
def member_change_role(request, project, membership_id):
    membership = _membership(project, membership_id)
    roles = services.membership_roles_allowed(actor_role=request.role, current=membership.role)
    if not roles:
        raise PermissionDenied
    form = MemberRoleForm(request.POST, roles=roles)
    if not form.is_valid():
        return _members_answer(request, project, error="Choose one of the roles offered.")
    try:
        membership = services.membership_change_role(
            membership=membership, actor=request.user, role=form.cleaned_data["role"]
        )
    except ValidationError as error:
        return _members_answer(request, project, error=" ".join(error.messages))
    role = membership.get_role_display().lower()
    notice = format_html("<bdi>{}</bdi> is now {}.", membership.user.get_username(), role)
    if membership.user_id == request.user.pk:
        return _after_own_change(request, project, notice)
    return _members_changed(request, project, notice)


@require_POST
@project_view(roles=STAFF_ROLES)
def member_remove(request, project, membership_id):
    membership = _membership(project, membership_id)
    if not services.membership_removable(actor_role=request.role, current=membership.role):
        raise PermissionDenied
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        return _members_answer(request, project, error=" ".join(error.messages))
    notice = format_html("Removed <bdi>{}</bdi> from the project.", membership.user.get_username())
    if membership.user_id == request.user.pk:
        return _after_own_change(request, project, notice)
    return _members_changed(request, project, notice)


@require_POST
@project_view(roles=ADMIN_ONLY)
def project_settings(request, project):
    form = ProjectSettingsForm(request.POST)
    if not form.is_valid():
        return _members_answer(request, project, "settings", settings_form=form)
    services.project_update(
        project=project, actor=request.user, overlap=form.cleaned_data["overlap"], license=form.cleaned_data["license"] or None
    )
    notice = (
        f"Each article now goes to {project.overlap} analyst{pluralize(project.overlap)}. "
        f"Dataset licence: {project.get_license_display()}."
    )
    return _members_changed(request, project, notice, partial="settings")


# Progress ------------------------------------------------------------------------------------

CHART_BAR = 480  # width of a bar that stands for every article in the project
CHART_LABEL = 170  # room for the names left of the bars
CHART_ROW = 30
CHART_BAR_HEIGHT = 22
ANALYST_SERIES = [
    ("submitted", "Submitted", "#146c2e"),
    ("in_progress", "In progress", "#0b57d0"),
    ("skipped", "Skipped", "#b3261e"),
    ("available", "Still available", "#c7c7c7"),
]
OVERALL_SERIES = [
    ("complete", "Complete", "#146c2e"),
    ("partly", "Partly labelled", "#e8a33d"),
    ("untouched", "Untouched", "#c7c7c7"),
]


def _bar_chart(bars, series, total):
    """Stacked horizontal bars as SVG geometry; a full bar is `total` articles.

    Drawn on the server with SVG presentation attributes (x, width, fill), which the Content
    Security Policy allows, unlike style attributes and scripts.
    """
    scale = CHART_BAR / max(total, 1)
    rows = []
    for i, (name, values) in enumerate(bars):
        x = CHART_LABEL
        segments = []
        for key, label, colour in series:
            value = getattr(values, key)
            width = value * scale
            if value:
                segments.append(
                    {"x": f"{x:.1f}", "width": f"{width:.1f}", "fill": colour, "label": label, "value": value}
                )
            x += width
        y = i * CHART_ROW
        rows.append({"name": name, "y": y, "text_y": y + CHART_BAR_HEIGHT // 2, "segments": segments})
    return {
        "rows": rows,
        "width": CHART_LABEL + CHART_BAR + 10,
        "height": max(len(rows), 1) * CHART_ROW,
        "bar_height": CHART_BAR_HEIGHT,
        "legend": [{"label": label, "fill": colour} for _, label, colour in series],
    }


@require_GET
@vary_on_headers("HX-Request")
@project_view(roles=STAFF_ROLES)
def project_progress(request, project):
    progress = project_progress_query(project=project, now=timezone.now())
    context = {
        "project": project,
        "progress": progress,
        "overall_chart": _bar_chart([("All articles", progress)], OVERALL_SERIES, progress.total),
        "analyst_chart": _bar_chart(
            [(a.user.get_username(), a) for a in progress.analysts], ANALYST_SERIES, progress.total
        ),
    }
    template = "projects/progress.html#dashboard" if request.htmx else "projects/progress.html"
    return render(request, template, context)
