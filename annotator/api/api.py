"""The API, version 1: `/api/v1/`, its OpenAPI schema at `/api/v1/openapi.json`, docs at `/api/v1/docs`.

Built with django-ninja: routes are plain functions with type hints, from which it checks input
and generates the OpenAPI 3 schema (DRF needs serializers, viewsets and a separate schema
generator for the same). Each route calls the same permission function, QuerySets and services
as the pages; none writes to the ORM itself. Every error is RFC 9457 problem-details JSON.
"""

import threading
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as InputError
from ninja.throttling import AuthRateThrottle, BaseThrottle

from . import annotations, articles, assist, projects, snapshots, suggestions, training
from .auth import AUTH
from .models import ApiToken


class _RequestThrottle(AuthRateThrottle):
    """ninja's sliding window over the cache, for one request."""

    def get_cache_key(self, request) -> str:
        # Keyed by the token's row (or the session's user), not by a SHA-256 of its name as ninja
        # does: neither is a secret, so hashing it on every request buys nothing.
        auth = request.auth
        ident = str(auth) if isinstance(auth, ApiToken) else f"user-{auth.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenRateThrottle(BaseThrottle):
    """Requests per token (or per session user) per period: `ANNOTATOR_API_RATE`, read on each request.

    ninja's throttles keep the request being checked (its key, history, time) on the throttle
    object, and one object serves every thread of a gunicorn worker: two requests at once would
    mix their histories. Each request here gets its own, kept per thread for `wait()`.
    """

    def __init__(self):
        self._current = threading.local()

    def allow_request(self, request) -> bool:
        self._current.throttle = _RequestThrottle(settings.ANNOTATOR_API_RATE)
        return self._current.throttle.allow_request(request)

    def wait(self):
        return self._current.throttle.wait()


class Api(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        """The generated schema, with every error answer typed as what it is: problem details (RFC 9457)."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if int(status) >= 400 and "application/json" in response.get("content", {}):
                        response["content"] = {"application/problem+json": response["content"]["application/json"]}
        return schema


api = Api(
    title="annotator API",
    version="1",
    description="Projects, articles, annotations, suggestions, review state, dataset snapshots and trained models. "
    "Authenticate with a personal "
    "token (`Authorization: Bearer ann_…`, made on your API tokens page) or the app's session.",
    urls_namespace="api-v1",
    auth=AUTH,
    throttle=[TokenRateThrottle()],
    docs=Swagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
for module in (projects, articles, annotations, suggestions, snapshots, training, assist):
    api.add_router("/projects", module.router)


def problem(request, status: int, detail: str, errors: list | None = None, **headers):
    response = api.create_response(
        request,
        {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
         "errors": errors or []},
        status=status,
    )
    response["Content-Type"] = "application/problem+json"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(DjangoValidationError)
def refused(request, error: DjangoValidationError):
    """A service refused the change: 412 for a write made from an older version than `If-Match` named,
    409 for one made from a state changed meanwhile or on an article that k analysts already hold,
    422 for input the rules refuse."""
    code = getattr(error, "code", None)
    if code == "stale":
        status = 412 if "If-Match" in request.headers else 409
        return problem(request, status, " ".join(error.messages))
    if code == "full":
        return problem(request, 409, " ".join(error.messages),
                       [{"field": None, "code": code, "message": message} for message in error.messages])
    if hasattr(error, "error_dict"):
        errors = [{"field": field, "message": message} for field, messages in error.message_dict.items()
                  for message in messages]
    else:
        errors = [{"field": None, "message": message} for message in error.messages]
    return problem(request, 422, " ".join(e["message"] for e in errors), errors)


@api.exception_handler(articles.BatchRefused)
def batch_refused(request, error: articles.BatchRefused):
    return problem(request, 422, str(error), error.errors)


@api.exception_handler(InputError)
def bad_input(request, error: InputError):
    errors = [
        {"field": ".".join(str(part) for part in e.get("loc", ()) if part not in ("body", "query", "path")) or None,
         "message": e.get("msg", "")}
        for e in error.errors
    ]
    return problem(request, 422, "The request does not match the schema.", errors)


@api.exception_handler(HttpError)
def http_error(request, error: HttpError):
    return problem(request, error.status_code, str(error))


@api.exception_handler(Http404)
def not_found(request, error: Http404):
    return problem(request, 404, str(error) or "Not found.")


@api.exception_handler(PermissionDenied)
def forbidden(request, error: PermissionDenied):
    return problem(request, 403, str(error) or "Your role in this project does not allow this.")


@api.exception_handler(AuthenticationError)
def unauthenticated(request, error: AuthenticationError):
    return problem(request, 401, "Authenticate with a personal API token (Authorization: Bearer …) or log in.",
                   WWW_Authenticate="Bearer")


@api.exception_handler(RequestDataTooBig)
def too_big(request, error: RequestDataTooBig):
    return problem(request, 413, "This request is larger than the upload limit: send the articles in several requests.")


@api.exception_handler(Throttled)
def throttled(request, error: Throttled):
    return problem(request, 429, "Too many requests with this token: wait, then try again.")
