import pytest

from .factories import ArticleFactory, UserFactory, make_project


@pytest.fixture
def analyst(db):
    return UserFactory(username="analyst")


@pytest.fixture
def other_user(db):
    return UserFactory(username="outsider")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="projectadmin")


@pytest.fixture
def project(analyst, admin_user):
    return make_project(analyst=analyst, admin=admin_user)


@pytest.fixture
def article(project):
    return ArticleFactory(project=project)
