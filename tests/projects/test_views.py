import pytest
from django.urls import reverse

from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db


def test_home_lists_only_the_users_projects(client, project, analyst):
    make_project(name="Someone else's project")
    client.force_login(analyst)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert project.name in response.text
    assert "Someone else" not in response.text


def test_home_needs_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_project_page_shows_the_users_own_status(client, project, analyst, admin_user):
    project.overlap = 2  # the admin's work leaves room for the analyst (else the list says it is full)
    project.save()
    submitted, started, untouched = ArticleFactory.create_batch(3, project=project)
    Annotation.objects.create(article=submitted, annotator=analyst, status=Annotation.Status.SUBMITTED)
    Annotation.objects.create(article=started, annotator=analyst)
    Annotation.objects.create(article=untouched, annotator=admin_user, status=Annotation.Status.SUBMITTED)
    client.force_login(analyst)
    response = client.get(reverse("project_detail", args=[project.id]))
    assert response.status_code == 200
    assert "<strong>1 of 3</strong>" in response.text
    assert response.text.count("<td>Submitted</td>") == 1
    assert response.text.count("<td>In progress</td>") == 1
    assert response.text.count("<td>Not started</td>") == 1
    assert "Import articles" not in response.text  # analysts don't import


def test_project_page_is_404_for_non_members(client, project, other_user):
    client.force_login(other_user)
    assert client.get(reverse("project_detail", args=[project.id])).status_code == 404


def test_project_page_paginates(client, project, analyst):
    ArticleFactory.create_batch(101, project=project)
    client.force_login(analyst)
    first = client.get(reverse("project_detail", args=[project.id]))
    second = client.get(reverse("project_detail", args=[project.id]), {"page": 2})
    assert "Page 1 of 2" in first.text and first.text.count("/a/") == 100
    assert "Page 2 of 2" in second.text and second.text.count("/a/") == 1


def test_htmx_request_of_project_page_for_anonymous_is_401(client, project):
    response = client.get(reverse("project_detail", args=[project.id]), headers={"HX-Request": "true"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_project_page_links_staff_to_members_and_progress(client, project, role):
    staff = UserFactory()
    Membership.objects.create(project=project, user=staff, role=role)
    client.force_login(staff)
    content = client.get(reverse("project_detail", args=[project.id])).text
    assert f'<a class="button" href="{reverse("project_members", args=[project.id])}">Members</a>' in content
    assert f'<a class="button" href="{reverse("project_progress", args=[project.id])}">Progress</a>' in content


def test_project_page_has_no_members_or_progress_link_for_analysts(client, project, analyst):
    client.force_login(analyst)
    content = client.get(reverse("project_detail", args=[project.id])).text
    assert reverse("project_members", args=[project.id]) not in content
    assert reverse("project_progress", args=[project.id]) not in content


def test_staff_see_links_to_every_team_page(client, project, admin_user):
    client.force_login(admin_user)
    content = client.get(reverse("project_detail", args=[project.id])).text
    for name in ("review_queue", "project_agreement", "dataset_list", "project_members", "project_progress"):
        assert reverse(name, args=[project.id]) in content, name


def test_analysts_see_no_links_to_team_pages(client, project, analyst):
    client.force_login(analyst)
    content = client.get(reverse("project_detail", args=[project.id])).text
    for name in ("review_queue", "project_agreement", "dataset_list", "project_members", "project_progress"):
        assert reverse(name, args=[project.id]) not in content, name
