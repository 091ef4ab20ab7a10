"""What every API route shares: the project a caller may open, problem-details errors, cursor
pages and the `ETag` of a versioned annotation."""

import base64
import binascii

import orjson
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Schema
from ninja.errors import HttpError

from annotator.corpus.text import control_character
from annotator.labelling.models import Annotation
from annotator.projects.access import ALL_ROLES, project_and_role
from annotator.projects.models import Project


def project_for(request: HttpRequest, project_id: int, roles=ALL_ROLES) -> tuple[Project, str]:
    """The same rule as the pages' `project_view`: 404 for a non-member, 403 for a role not in `roles`."""
    project, role = project_and_role(request.user, project_id)
    if role not in roles:
        raise PermissionDenied
    return project, role


class Problem(Schema):
    """RFC 9457 problem details. `errors` names the field (and the row of a batch) of bad input."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[dict] = []


def problems(*codes: int) -> dict:
    """The error answers a route documents in the schema: its own, and those any route may give
    (400 a bad cursor or header, 401, 422 input that breaks the schema, 429)."""
    return dict.fromkeys(sorted({400, 401, 422, 429, *codes}), Problem)


class Page(Schema):
    """A page of a list: `next` is the URL of the following page, null on the last."""

    next: str | None


PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def cursor_page(request: HttpRequest, queryset: QuerySet, *, cursor: str | None, limit: int | None,
                key: str = "pk", descending: bool = False) -> tuple[list, str | None]:
    """Keyset pagination on a unique, ordered `key` (the primary key, a creation time): a page is as
    fast at the millionth row as at the first, and rows added meanwhile neither repeat nor go
    missing. The cursor is opaque to callers: the key of the last row given, encoded."""
    limit = min(max(limit or PAGE_SIZE, 1), MAX_PAGE_SIZE)
    if cursor:
        try:
            after = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))["after"]
            if not isinstance(after, (int, str)) or control_character(after) is not None:
                raise ValueError
            queryset = queryset.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
            queryset.exists()  # a value the key cannot take (text for a number) fails here, not later
        except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError, DjangoValidationError):
            raise HttpError(400, "This cursor is not one the API gave: start again without it.") from None
    rows = list(queryset.order_by(f"-{key}" if descending else key)[: limit + 1])
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = getattr(rows[-1], key)
        last = last.isoformat() if hasattr(last, "isoformat") else last
        query = request.GET.copy()
        query["cursor"] = base64.urlsafe_b64encode(orjson.dumps({"after": last})).decode()
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return rows, following


# An annotation not made yet is at the version it will be made with: a write sent with its ETag
# makes it and is not refused as stale.
FIRST_VERSION = Annotation._meta.get_field("version").default


def etag(annotation: Annotation | None) -> str:
    return f'"v{annotation.version if annotation is not None else FIRST_VERSION}"'


def expected_version(request: HttpRequest) -> int | None:
    """The version an `If-Match` header names (a stale one makes the service refuse: 412), or None."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.startswith("v") or not value[1:].isdigit():
        raise HttpError(412, "If-Match must be an ETag this API gave (like \"v12\").")
    return int(value[1:])


def not_found(what: str) -> Http404:
    return Http404(f"No such {what} in this project.")
