"""Members and settings: the services decide who may do what; the page offers only that."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from annotator.projects import services
from annotator.projects.models import Membership, Project
from tests.factories import UserFactory, make_project

from .conftest import HTMX

pytestmark = pytest.mark.django_db


def roles(project) -> dict[str, str]:
    return dict(project.memberships.values_list("user__username", "role"))


def membership(project, user) -> Membership:
    return project.memberships.get(user=user)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_fragment(response) -> bool:
    return "<html" not in response.text and "<body" not in response.text


def members_url(project):
    return reverse("project_members", args=[project.id])


# Services ------------------------------------------------------------------------------------


class TestMembershipServices:
    def test_admin_adds_changes_and_removes(self, project, admin_user, newcomer, analyst):
        services.membership_add(project=project, actor=admin_user, user=newcomer, role="reviewer")
        services.membership_change_role(membership=membership(project, analyst), actor=admin_user, role="admin")
        services.membership_remove(membership=membership(project, newcomer), actor=admin_user)
        assert roles(project) == {"projectadmin": "admin", "analyst": "admin"}

    def test_reviewer_may_add_and_remove_analysts(self, project, reviewer, newcomer):
        services.membership_add(project=project, actor=reviewer, user=newcomer, role="analyst")
        assert roles(project)["newcomer"] == "analyst"
        services.membership_remove(membership=membership(project, newcomer), actor=reviewer)
        assert "newcomer" not in roles(project)

    @pytest.mark.parametrize("role", ["admin", "reviewer"])
    def test_reviewer_cannot_add_anyone_above_analyst(self, project, reviewer, newcomer, role):
        with pytest.raises(PermissionDenied):
            services.membership_add(project=project, actor=reviewer, user=newcomer, role=role)
        assert "newcomer" not in roles(project)

    @pytest.mark.parametrize("role", ["admin", "reviewer"])
    def test_reviewer_cannot_promote_an_analyst(self, project, reviewer, analyst, role):
        with pytest.raises(PermissionDenied):
            services.membership_change_role(membership=membership(project, analyst), actor=reviewer, role=role)
        assert roles(project)["analyst"] == "analyst"

    @pytest.mark.parametrize("role", ["reviewer", "analyst"])
    def test_reviewer_cannot_change_or_remove_an_admin(self, project, reviewer, admin_user, role):
        # A second admin, so that the last-admin rule is not what refuses it.
        services.membership_add(project=project, actor=admin_user, user=UserFactory(), role="admin")
        with pytest.raises(PermissionDenied):
            services.membership_change_role(membership=membership(project, admin_user), actor=reviewer, role=role)
        with pytest.raises(PermissionDenied):
            services.membership_remove(membership=membership(project, admin_user), actor=reviewer)
        assert roles(project)["projectadmin"] == "admin"

    def test_reviewer_cannot_touch_another_reviewer(self, project, reviewer, admin_user):
        other = UserFactory(username="reviewer2")
        services.membership_add(project=project, actor=admin_user, user=other, role="reviewer")
        with pytest.raises(PermissionDenied):
            services.membership_change_role(membership=membership(project, other), actor=reviewer, role="analyst")
        with pytest.raises(PermissionDenied):
            services.membership_remove(membership=membership(project, other), actor=reviewer)
        assert roles(project)["reviewer2"] == "reviewer"

    def test_analysts_and_outsiders_can_do_nothing(self, project, analyst, other_user, newcomer, admin_user):
        for actor in (analyst, other_user):
            with pytest.raises(PermissionDenied):
                services.membership_add(project=project, actor=actor, user=newcomer, role="analyst")
            with pytest.raises(PermissionDenied):
                services.membership_remove(membership=membership(project, analyst), actor=actor)
            with pytest.raises(PermissionDenied):
                services.membership_change_role(membership=membership(project, analyst), actor=actor, role="analyst")
        assert roles(project) == {"analyst": "analyst", "projectadmin": "admin"}

    def test_superuser_acts_as_admin(self, project, newcomer):
        root = UserFactory(username="root", is_superuser=True)
        services.membership_add(project=project, actor=root, user=newcomer, role="admin")
        assert roles(project)["newcomer"] == "admin"

    def test_the_last_admin_can_be_neither_removed_nor_demoted(self, project, admin_user):
        for attempt in (
            lambda: services.membership_remove(membership=membership(project, admin_user), actor=admin_user),
            lambda: services.membership_change_role(
                membership=membership(project, admin_user), actor=admin_user, role="reviewer"
            ),
        ):
            with pytest.raises(ValidationError, match="only admin"):
                attempt()
        assert roles(project)["projectadmin"] == "admin"

    def test_with_two_admins_one_may_step_down(self, project, admin_user, newcomer):
        services.membership_add(project=project, actor=admin_user, user=newcomer, role="admin")
        services.membership_change_role(membership=membership(project, admin_user), actor=admin_user, role="analyst")
        with pytest.raises(ValidationError, match="only admin"):
            services.membership_remove(membership=membership(project, newcomer), actor=newcomer)
        assert roles(project) == {"analyst": "analyst", "projectadmin": "analyst", "newcomer": "admin"}

    def test_adding_a_member_twice_is_refused(self, project, admin_user, analyst):
        with pytest.raises(ValidationError, match="already a member"):
            services.membership_add(project=project, actor=admin_user, user=analyst, role="reviewer")
        assert roles(project)["analyst"] == "analyst"

    def test_unknown_role_is_refused(self, project, admin_user, newcomer):
        with pytest.raises(ValidationError, match="not a role"):
            services.membership_add(project=project, actor=admin_user, user=newcomer, role="owner")

    def test_project_update(self, project, admin_user, reviewer):
        services.project_update(project=project, actor=admin_user, overlap=3)
        assert Project.objects.get(pk=project.pk).overlap == 3
        with pytest.raises(PermissionDenied):
            services.project_update(project=project, actor=reviewer, overlap=1)
        with pytest.raises(ValidationError):
            services.project_update(project=project, actor=admin_user, overlap=0)
        assert Project.objects.get(pk=project.pk).overlap == 3


# The page ------------------------------------------------------------------------------------


class TestMembersPage:
    def test_admin_full_page_lists_members_with_controls_and_settings(self, project, admin_user, analyst):
        response = logged_in(admin_user).get(members_url(project))
        assert response.status_code == 200
        content = response.text
        assert "<html" in content and "<h1>Members and settings</h1>" in content
        rows = re.findall(r'<tr id="member-(\d+)">\s*<td dir="auto">(\w+)', content)
        assert [name for _, name in rows] == ["projectadmin", "analyst"]  # admins first
        analyst_id = membership(project, analyst).id
        assert f'action="{reverse("member_change_role", args=[project.id, analyst_id])}"' in content
        assert f'action="{reverse("member_remove", args=[project.id, analyst_id])}"' in content
        assert '<select name="role" id="id_role">' in content
        assert '<option value="admin">Admin</option>' in content
        assert 'id="id_overlap" value="1"' in content
        assert response["Vary"] and "HX-Request" in response["Vary"]

    def test_htmx_get_gets_the_members_fragment(self, project, admin_user):
        response = logged_in(admin_user).get(members_url(project), headers=HTMX)
        assert response.status_code == 200
        assert is_fragment(response)
        assert response.text.lstrip().startswith('<section id="members"')
        assert "projectadmin" in response.text

    def test_reviewer_sees_only_what_they_may_do(self, project, reviewer, admin_user, analyst):
        content = logged_in(reviewer).get(members_url(project)).text
        admin_id, analyst_id = membership(project, admin_user).id, membership(project, analyst).id
        reviewer_id = membership(project, reviewer).id
        # May remove the analyst, may not touch the admin or themselves.
        assert reverse("member_remove", args=[project.id, analyst_id]) in content
        assert reverse("member_remove", args=[project.id, admin_id]) not in content
        assert reverse("member_remove", args=[project.id, reviewer_id]) not in content
        assert "member_change_role" not in content and "/role/" not in content  # one role: nothing to choose
        add_form = content[content.index('id="member-add"') :]
        assert re.findall(r'<option value="(\w+)"', add_form) == ["analyst"]
        # The settings are shown, not offered.
        assert 'name="overlap"' not in content
        assert "Each article goes to <strong>1</strong> analyst." in content

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_analyst_gets_403(self, project, analyst, headers):
        assert logged_in(analyst).get(members_url(project), headers=headers).status_code == 403

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_non_member_gets_404(self, project, other_user, headers):
        assert logged_in(other_user).get(members_url(project), headers=headers).status_code == 404

    def test_anonymous(self, client, project):
        response = client.get(members_url(project))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.get(members_url(project), headers=HTMX).status_code == 401


class TestMemberAdd:
    def url(self, project):
        return reverse("member_add", args=[project.id])

    def test_plain_post_adds_and_redirects_with_a_message(self, project, admin_user, newcomer):
        client = logged_in(admin_user)
        response = client.post(self.url(project), {"username": "newcomer", "role": "reviewer"})
        assert response.status_code == 302 and response["Location"] == members_url(project)
        assert roles(project)["newcomer"] == "reviewer"
        assert "Added <bdi>newcomer</bdi> as reviewer." in client.get(members_url(project)).text

    def test_htmx_post_answers_with_the_updated_members_fragment(self, project, admin_user, newcomer):
        data = {"username": "newcomer", "role": "analyst"}
        response = logged_in(admin_user).post(self.url(project), data, headers=HTMX)
        assert response.status_code == 200 and is_fragment(response)
        assert '<p class="message success" role="status">Added <bdi>newcomer</bdi> as analyst.</p>' in response.text
        assert f'<tr id="member-{membership(project, newcomer).id}">' in response.text
        assert 'value=""' in response.text  # a fresh, empty form for the next one

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_unknown_username_is_shown_on_the_form(self, project, admin_user, headers):
        data = {"username": "nobody", "role": "analyst"}
        response = logged_in(admin_user).post(self.url(project), data, headers=headers)
        assert response.status_code == 200
        assert is_fragment(response) == bool(headers)
        assert "There is no account named “nobody”." in response.text
        assert 'value="nobody"' in response.text and 'aria-invalid="true"' in response.text
        assert set(roles(project)) == {"analyst", "projectadmin"}

    def test_existing_member_is_shown_on_the_form(self, project, admin_user):
        response = logged_in(admin_user).post(self.url(project), {"username": "analyst", "role": "admin"}, headers=HTMX)
        assert "analyst is already a member" in response.text
        assert roles(project)["analyst"] == "analyst"

    def test_reviewer_adds_an_analyst(self, project, reviewer, newcomer):
        data = {"username": "newcomer", "role": "analyst"}
        response = logged_in(reviewer).post(self.url(project), data, headers=HTMX)
        assert response.status_code == 200
        assert roles(project)["newcomer"] == "analyst"

    @pytest.mark.parametrize("role", ["admin", "reviewer"])
    def test_reviewer_cannot_add_an_admin_or_reviewer(self, project, reviewer, newcomer, role):
        response = logged_in(reviewer).post(self.url(project), {"username": "newcomer", "role": role}, headers=HTMX)
        assert response.status_code == 200
        assert "Select a valid choice." in response.text
        assert "newcomer" not in roles(project)

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_analyst_403_and_non_member_404(self, project, analyst, other_user, newcomer, headers):
        data = {"username": "newcomer", "role": "analyst"}
        assert logged_in(analyst).post(self.url(project), data, headers=headers).status_code == 403
        assert logged_in(other_user).post(self.url(project), data, headers=headers).status_code == 404
        assert "newcomer" not in roles(project)

    def test_get_is_405(self, project, admin_user):
        assert logged_in(admin_user).get(self.url(project)).status_code == 405


class TestMemberChangeRole:
    def url(self, project, m):
        return reverse("member_change_role", args=[project.id, m.id])

    def test_plain_post_changes_and_redirects(self, project, admin_user, analyst):
        client = logged_in(admin_user)
        response = client.post(self.url(project, membership(project, analyst)), {"role": "reviewer"})
        assert response.status_code == 302 and response["Location"] == members_url(project)
        assert roles(project)["analyst"] == "reviewer"
        assert "<bdi>analyst</bdi> is now reviewer." in client.get(members_url(project)).text

    def test_htmx_post_answers_with_the_fragment(self, project, admin_user, analyst):
        response = logged_in(admin_user).post(
            self.url(project, membership(project, analyst)), {"role": "admin"}, headers=HTMX
        )
        assert response.status_code == 200 and is_fragment(response)
        assert "<bdi>analyst</bdi> is now admin." in response.text
        assert roles(project)["analyst"] == "admin"

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_demoting_the_last_admin_shows_why_and_changes_nothing(self, project, admin_user, headers):
        response = logged_in(admin_user).post(
            self.url(project, membership(project, admin_user)), {"role": "analyst"}, headers=headers
        )
        assert response.status_code == 200 and is_fragment(response) == bool(headers)
        assert "projectadmin is the project&#x27;s only admin. Make someone else admin first." in response.text
        assert roles(project)["projectadmin"] == "admin"

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_reviewer_changing_an_admin_or_promoting_is_403(self, project, reviewer, admin_user, analyst, headers):
        client = logged_in(reviewer)
        admin_row = self.url(project, membership(project, admin_user))
        assert client.post(admin_row, {"role": "analyst"}, headers=headers).status_code == 403
        response = client.post(self.url(project, membership(project, analyst)), {"role": "admin"}, headers=headers)
        assert response.status_code == 200 and "Choose one of the roles offered." in response.text
        assert roles(project) == {"projectadmin": "admin", "analyst": "analyst", "reviewer": "reviewer"}

    def test_stepping_down_reloads_what_the_user_may_still_see(self, project, admin_user, newcomer):
        services.membership_add(project=project, actor=admin_user, user=newcomer, role="admin")
        client = logged_in(admin_user)
        response = client.post(self.url(project, membership(project, admin_user)), {"role": "analyst"}, headers=HTMX)
        assert response["HX-Redirect"] == reverse("project_detail", args=[project.id])
        assert roles(project)["projectadmin"] == "analyst"
        assert client.get(members_url(project)).status_code == 403

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_analyst_403_non_member_404_other_projects_membership_404(
        self, project, analyst, other_user, admin_user, headers
    ):
        target = self.url(project, membership(project, analyst))
        assert logged_in(analyst).post(target, {"role": "admin"}, headers=headers).status_code == 403
        assert logged_in(other_user).post(target, {"role": "admin"}, headers=headers).status_code == 404
        elsewhere = make_project(name="Other", analyst=other_user)
        foreign = self.url(project, membership(elsewhere, other_user))
        assert logged_in(admin_user).post(foreign, {"role": "admin"}, headers=headers).status_code == 404
        assert roles(project)["analyst"] == "analyst" and roles(elsewhere) == {"outsider": "analyst"}


class TestMemberRemove:
    def url(self, project, m):
        return reverse("member_remove", args=[project.id, m.id])

    def test_plain_post_removes_and_redirects(self, project, admin_user, analyst):
        response = logged_in(admin_user).post(self.url(project, membership(project, analyst)))
        assert response.status_code == 302 and response["Location"] == members_url(project)
        assert roles(project) == {"projectadmin": "admin"}

    def test_htmx_post_answers_with_the_fragment(self, project, reviewer, analyst):
        response = logged_in(reviewer).post(self.url(project, membership(project, analyst)), headers=HTMX)
        assert response.status_code == 200 and is_fragment(response)
        assert "Removed <bdi>analyst</bdi> from the project." in response.text
        assert "analyst" not in roles(project)

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_removing_the_last_admin_is_refused(self, project, admin_user, headers):
        response = logged_in(admin_user).post(self.url(project, membership(project, admin_user)), headers=headers)
        assert response.status_code == 200
        assert "the project&#x27;s only admin" in response.text
        assert roles(project)["projectadmin"] == "admin"

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_reviewer_removing_an_admin_is_403(self, project, reviewer, admin_user, headers):
        services.membership_add(project=project, actor=admin_user, user=UserFactory(), role="admin")
        response = logged_in(reviewer).post(self.url(project, membership(project, admin_user)), headers=headers)
        assert response.status_code == 403
        assert roles(project)["projectadmin"] == "admin"

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_analyst_403_and_non_member_404(self, project, analyst, other_user, headers):
        target = self.url(project, membership(project, analyst))
        assert logged_in(analyst).post(target, headers=headers).status_code == 403
        assert logged_in(other_user).post(target, headers=headers).status_code == 404
        assert "analyst" in roles(project)

    def test_removing_yourself_leaves_the_project(self, project, admin_user, newcomer):
        services.membership_add(project=project, actor=admin_user, user=newcomer, role="admin")
        response = logged_in(newcomer).post(self.url(project, membership(project, newcomer)))
        assert response.status_code == 302 and response["Location"] == reverse("home")
        assert "newcomer" not in roles(project)


class TestProjectSettings:
    def url(self, project):
        return reverse("project_settings", args=[project.id])

    def test_plain_post_saves_and_redirects(self, project, admin_user):
        client = logged_in(admin_user)
        response = client.post(self.url(project), {"overlap": "2"})
        assert response.status_code == 302 and response["Location"] == members_url(project)
        assert Project.objects.get(pk=project.pk).overlap == 2
        page = client.get(members_url(project)).text
        assert "Each article now goes to 2 analysts." in page and 'id="id_overlap" value="2"' in page

    def test_htmx_post_answers_with_the_settings_fragment(self, project, admin_user):
        response = logged_in(admin_user).post(self.url(project), {"overlap": "3"}, headers=HTMX)
        assert response.status_code == 200 and is_fragment(response)
        assert response.text.lstrip().startswith('<section id="project-settings"')
        assert "Each article now goes to 3 analysts." in response.text
        assert Project.objects.get(pk=project.pk).overlap == 3

    @pytest.mark.parametrize("value", ["0", "-1", "two", ""])
    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_invalid_overlap_is_shown_and_not_saved(self, project, admin_user, value, headers):
        response = logged_in(admin_user).post(self.url(project), {"overlap": value}, headers=headers)
        assert response.status_code == 200 and is_fragment(response) == bool(headers)
        assert 'aria-invalid="true"' in response.text and '<p class="error" id="overlap-errors">' in response.text
        assert Project.objects.get(pk=project.pk).overlap == 1

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_reviewer_and_analyst_403_non_member_404(self, project, reviewer, analyst, other_user, headers):
        for user, status in ((reviewer, 403), (analyst, 403), (other_user, 404)):
            assert logged_in(user).post(self.url(project), {"overlap": "2"}, headers=headers).status_code == status
        assert Project.objects.get(pk=project.pk).overlap == 1
