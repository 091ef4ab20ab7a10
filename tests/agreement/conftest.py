import pytest

from annotator.projects.models import Membership
from tests.factories import UserFactory


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="reviewer")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def analysts(project):
    """Three analysts besides the project's own `analyst`, who does nothing in these tests."""
    users = [UserFactory(username=name) for name in ("ann", "ben", "cat")]
    for user in users:
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return users
