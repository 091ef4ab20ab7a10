import pytest

from annotator.api.services import token_create


@pytest.fixture
def token_for(db):
    """A token for a user (made as its owner would, on the tokens page): the secret to send."""

    def make(user, read_only=False):
        return token_create(user=user, name="tests", read_only=read_only)[1]

    return make


@pytest.fixture
def bearer(token_for):
    """Headers that authenticate as `user` with a new personal token."""

    def headers(user, read_only=False):
        return {"Authorization": f"Bearer {token_for(user, read_only)}"}

    return headers
