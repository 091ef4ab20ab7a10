"""Deny-by-default access to a project's pages.

Every project URL carries `project_id`; `project_view` turns it into the `project` the user
may open, or answers 404 (a non-member cannot tell the project exists) or 403 (a member whose
role is not enough). Anonymous users are sent to log in; an htmx request gets 401 instead, so
the page can say the session expired rather than swap a login form into itself.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from .models import Membership, Project

ALL_ROLES = (Membership.Role.ADMIN, Membership.Role.REVIEWER, Membership.Role.ANALYST)
STAFF_ROLES = (Membership.Role.ADMIN, Membership.Role.REVIEWER)


def project_and_role(user, project_id) -> tuple[Project, str]:
    """The project and the user's role in it, in one query; 404 for a non-member."""
    if user.is_superuser:
        return get_object_or_404(Project, pk=project_id), Membership.Role.ADMIN
    membership = Membership.objects.select_related("project").filter(project_id=project_id, user=user).first()
    if membership is None:
        raise Http404("No such project.")
    return membership.project, membership.role


def login_required_htmx(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                return HttpResponse("Your session has expired. Log in again to save.", status=401)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def project_view(roles=ALL_ROLES):
    def decorator(view):
        @login_required_htmx
        @wraps(view)
        def wrapper(request, project_id, *args, **kwargs):
            project, role = project_and_role(request.user, project_id)
            if role not in roles:
                raise PermissionDenied
            request.role = role
            return view(request, project, *args, **kwargs)

        return wrapper

    return decorator
