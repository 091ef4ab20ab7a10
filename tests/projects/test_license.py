"""The dataset licence an admin sets on a project: in the admin, on the members and settings page,
through the service, and guarded by the database."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from annotator.projects import services
from annotator.projects.models import Membership, Project
from tests.factories import UserFactory
from tests.security.admin_forms import admin_form

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def saved_license(project) -> str:
    return Project.objects.get(pk=project.pk).license


class TestService:
    def test_a_new_project_has_no_licence_chosen(self, project):
        assert project.license == "unknown"

    def test_admin_sets_it_and_none_leaves_it(self, project, admin_user):
        services.project_update(project=project, actor=admin_user, overlap=2, license="cc-by-4.0")
        assert saved_license(project) == "cc-by-4.0" and project.license == "cc-by-4.0"
        services.project_update(project=project, actor=admin_user, overlap=3)
        assert saved_license(project) == "cc-by-4.0"

    def test_unknown_licence_is_refused(self, project, admin_user):
        with pytest.raises(ValidationError, match="not a licence"):
            services.project_update(project=project, actor=admin_user, overlap=1, license="gpl-or-whatever")
        assert saved_license(project) == "unknown"

    def test_only_an_admin_may(self, project, analyst):
        with pytest.raises(PermissionDenied):
            services.project_update(project=project, actor=analyst, overlap=1, license="mit")
        assert saved_license(project) == "unknown"

    def test_the_database_refuses_a_value_outside_the_list(self, project):
        with pytest.raises(IntegrityError), transaction.atomic():
            Project.objects.filter(pk=project.pk).update(license="wtfpl")


class TestSettingsPage:
    def url(self, project):
        return reverse("project_settings", args=[project.id])

    def test_admin_sees_the_choice_with_the_current_licence_selected(self, project, admin_user):
        Project.objects.filter(pk=project.pk).update(license="odbl")
        content = logged_in(admin_user).get(reverse("project_members", args=[project.id])).text
        assert '<label for="id_license">Dataset licence</label>' in content
        assert '<option value="odbl" selected>' in content
        choice = content[content.index('<select name="license"') :]
        choice = choice[: choice.index("</select>")]
        assert choice.count("<option") == 14 and choice.count(" selected>") == 1

    def test_plain_post_saves_it_and_redirects(self, project, admin_user):
        client = logged_in(admin_user)
        response = client.post(self.url(project), {"overlap": "1", "license": "cc-by-sa-4.0"})
        assert response.status_code == 302
        assert saved_license(project) == "cc-by-sa-4.0"
        page = client.get(response["Location"]).text
        assert "Dataset licence: CC BY-SA 4.0 (Creative Commons Attribution-ShareAlike)." in page

    def test_htmx_post_answers_with_the_fragment(self, project, admin_user):
        response = logged_in(admin_user).post(self.url(project), {"overlap": "2", "license": "cc0-1.0"}, headers=HTMX)
        assert response.status_code == 200 and "<html" not in response.text
        assert response.text.lstrip().startswith('<section id="project-settings"')
        assert '<option value="cc0-1.0" selected>' in response.text
        assert saved_license(project) == "cc0-1.0"

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_a_licence_not_in_the_list_is_shown_and_not_saved(self, project, admin_user, headers):
        response = logged_in(admin_user).post(self.url(project), {"overlap": "2", "license": "beerware"}, headers=headers)
        assert response.status_code == 200
        assert '<p class="error" id="license-errors">' in response.text and "beerware" in response.text
        assert saved_license(project) == "unknown" and Project.objects.get(pk=project.pk).overlap == 1

    def test_a_reviewer_sees_the_licence_and_cannot_change_it(self, project):
        reviewer = UserFactory(username="rev")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        Project.objects.filter(pk=project.pk).update(license="mit")
        client = logged_in(reviewer)
        content = client.get(reverse("project_members", args=[project.id])).text
        assert "Dataset licence: <strong>MIT</strong>." in content and 'name="license"' not in content
        assert client.post(self.url(project), {"overlap": "1", "license": "cc-by-4.0"}).status_code == 403
        assert saved_license(project) == "mit"


def test_the_admin_edits_it(client, project):
    root = UserFactory(username="root")
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    url = reverse("admin:projects_project_change", args=[project.id])
    data = admin_form(client, url, "project")
    assert data["license"] == ["unknown"]
    data["license"] = ["cc-by-nc-4.0"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert saved_license(project) == "cc-by-nc-4.0"
