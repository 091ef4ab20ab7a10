import pytest

from annotator.projects.models import Membership
from tests.factories import UserFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="reviewer")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def analysts(project):
    """Four more analysts in the project, besides the `analyst` fixture."""
    users = [UserFactory(username=f"analyst-{n}") for n in range(1, 5)]
    Membership.objects.bulk_create(Membership(project=project, user=u, role=Membership.Role.ANALYST) for u in users)
    return users


@pytest.fixture
def newcomer(db):
    """Someone with an account who is not in the project yet."""
    return UserFactory(username="newcomer")
