import pytest

from annotator.projects.models import Membership, RelationType
from tests.factories import ArticleFactory, UserFactory


@pytest.fixture
def labels(project):
    return {label.name: label for label in project.span_labels.all()}


@pytest.fixture
def relation_types(project):
    return {t.name: t for t in RelationType.objects.filter(project=project)}


@pytest.fixture
def second_analyst(project):
    """Another analyst of the project, which now has room for two on each article."""
    project.overlap = 2
    project.save(update_fields=["overlap"])
    user = UserFactory(username="analyst2")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return user


@pytest.fixture
def quote_article(project):
    return ArticleFactory(
        project=project,
        text="Lavrov said “the West is trying to pull Armenia away”.\nThe ministry repeated the claim.",
    )
