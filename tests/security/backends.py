"""Authentication backends for the test settings only."""

from axes.backends import AxesStandaloneBackend


class RequestlessTestLoginBackend(AxesStandaloneBackend):
    """django-axes, except that a login without a request is let through to the next backend.

    Django's test client logs in with `authenticate(**credentials)`, which passes no request, and
    django-axes refuses those outright. A login without a request cannot come from the web: the
    login page and the admin always pass theirs, and are throttled exactly as in production.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
