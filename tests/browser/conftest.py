"""The labelling page's browser tests log in as "analyst1" (the project fixture makes them its analyst)."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def analyst(db):
    return UserFactory(username="analyst1")
