"""Who calls the API: a personal token (`Authorization: Bearer ann_…`) or the app's own session.

A session needs the CSRF token for writes, as the pages do (ninja's `SessionAuth`); a token does
not, since a browser never sends it by itself. A read-only token is refused every write.
"""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from .services import token_find

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = token_find(token)
        if found is None:
            return None
        if found.read_only and request.method not in SAFE_METHODS:
            raise HttpError(403, "This token is read-only: make a token that may write on your API tokens page.")
        request.user = found.user
        return found


AUTH = [TokenAuth(), SessionAuth()]
