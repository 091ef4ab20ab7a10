import pytest

from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory

QUOTE_TEXT = "Lavrov said “the West is trying to pull Armenia away”.\nThe ministry repeated the claim."


@pytest.fixture
def labels(project):
    return {label.name: label for label in project.span_labels.all()}


@pytest.fixture
def second_analyst(project):
    user = UserFactory(username="analyst2")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return user


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="reviewer1")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def second_reviewer(project):
    user = UserFactory(username="reviewer2")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def quote_article(project):
    return ArticleFactory(project=project, title="Quote article", text=QUOTE_TEXT)
