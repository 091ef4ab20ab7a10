"""Admins add people in the app: an existing account by username or email, or someone new by
email, who gets an account without a password and a mail with a one-time link to choose one."""

import re
import socket

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from annotator.projects.models import Membership
from annotator.settings import mailer
from tests.factories import UserFactory, make_project

from .conftest import HTMX

pytestmark = pytest.mark.django_db

URL = "member_add"
NEW = "marta.k@example.org"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def invite(client, project, email=NEW, role="analyst", headers=None):
    return client.post(reverse(URL, args=[project.id]), {"username": email, "role": role}, headers=headers or {})


def link_in(body: str) -> str:
    [link] = re.findall(r"http://testserver/accounts/reset/\S+/", body)
    return link


def roles(project) -> dict[str, str]:
    return dict(project.memberships.values_list("user__username", "role"))


class TestInvitingSomeoneNew:
    def test_plain_post_makes_the_account_and_membership_mails_the_link_and_says_so(self, project, admin_user, settings):
        settings.DEFAULT_FROM_EMAIL = "annotator@example.org"
        client = logged_in(admin_user)

        response = invite(client, project, role="reviewer")

        assert response.status_code == 302 and response["Location"] == reverse("project_members", args=[project.id])
        user = get_user_model().objects.get(username=NEW)
        assert user.email == NEW
        assert not user.has_usable_password()
        assert roles(project)[NEW] == "reviewer"
        [message] = mail.outbox
        assert message.to == [NEW] and message.from_email == "annotator@example.org"
        assert message.subject == f"You are invited to “{project.name}” on annotator"
        assert "projectadmin added you to the project" in message.body and "as reviewer" in message.body
        assert f"Your username is {NEW}." in message.body
        assert link_in(message.body)
        page = client.get(reverse("project_members", args=[project.id])).content.decode()
        assert f"Invited <bdi>{NEW}</bdi> as reviewer: they were sent a mail with a link to choose a password" in page

    def test_htmx_post_answers_with_the_members_fragment(self, project, admin_user):
        response = invite(logged_in(admin_user), project, headers=HTMX)

        assert response.status_code == 200
        text = response.content.decode()
        assert "<html" not in text and text.lstrip().startswith('<section id="members"')
        assert f"Invited <bdi>{NEW}</bdi> as analyst" in text
        membership = project.memberships.get(user__username=NEW)
        assert f'<tr id="member-{membership.id}">' in text
        assert len(mail.outbox) == 1

    def test_the_link_sets_a_password_once(self, project, admin_user):
        invite(logged_in(admin_user), project)
        link = link_in(mail.outbox[0].body)
        newcomer = Client()

        form = newcomer.get(link, follow=True)
        assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
        done = newcomer.post(
            form.redirect_chain[-1][0], {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"}
        )
        assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
        assert Client().login(username=NEW, password="a long new passphrase")

        again = Client().get(link, follow=True).content.decode()
        assert "This link has been used or is too old." in again
        assert 'name="new_password1"' not in again

    def test_an_address_that_is_not_an_email_is_refused(self, project, admin_user):
        response = invite(logged_in(admin_user), project, email="marta@", headers=HTMX)
        assert "Enter a valid email address." in response.content.decode()
        assert not get_user_model().objects.filter(username="marta@").exists()
        assert mail.outbox == []

    def test_a_mail_server_that_refuses_leaves_no_account(self, project, admin_user, settings):
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        settings.MAILERS = {"default": mailer({"EMAIL_URL": f"smtp://127.0.0.1:{port}"}, debug=False)}

        response = invite(logged_in(admin_user), project, headers=HTMX)

        assert response.status_code == 200
        assert "The invitation could not be sent" in response.content.decode()
        assert not get_user_model().objects.filter(email=NEW).exists()
        assert NEW not in roles(project)


class TestAddingByEmail:
    def test_an_existing_account_is_added_by_its_email_without_mail(self, project, admin_user, newcomer):
        newcomer.email = "Newcomer@Example.org"
        newcomer.save()

        response = invite(logged_in(admin_user), project, email="newcomer@example.org", role="reviewer", headers=HTMX)

        assert "Added <bdi>newcomer</bdi> as reviewer." in response.content.decode()
        assert roles(project)["newcomer"] == "reviewer"
        assert get_user_model().objects.filter(email__iexact="newcomer@example.org").count() == 1
        assert mail.outbox == []

    def test_two_accounts_with_the_address_ask_for_the_username(self, project, admin_user):
        for name in ("twin-a", "twin-b"):
            UserFactory(username=name, email="twins@example.org")
        response = invite(logged_in(admin_user), project, email="twins@example.org", headers=HTMX)
        assert "Several accounts use twins@example.org" in response.content.decode()
        assert "twin-a" not in roles(project) and "twin-b" not in roles(project)


class TestWhoMayInvite:
    def test_a_reviewer_may_add_an_account_by_email_but_not_invite(self, project):
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        UserFactory(username="known", email="known@example.org")
        client = logged_in(reviewer)

        refused = invite(client, project, headers=HTMX).content.decode()
        assert f"No account uses {NEW}. Only a project admin can invite someone new" in refused
        assert not get_user_model().objects.filter(email=NEW).exists()
        assert mail.outbox == []

        added = invite(client, project, email="known@example.org", headers=HTMX).content.decode()
        assert "Added <bdi>known</bdi> as analyst." in added

    @pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
    def test_an_analyst_gets_403_and_another_projects_admin_404(self, project, analyst, headers):
        elsewhere_admin = UserFactory(username="elsewhere")
        make_project(name="Elsewhere", admin=elsewhere_admin)

        assert invite(logged_in(analyst), project, headers=headers).status_code == 403
        assert invite(logged_in(elsewhere_admin), project, headers=headers).status_code == 404
        assert not get_user_model().objects.filter(email=NEW).exists()
        assert mail.outbox == []

    def test_the_form_tells_admins_and_reviewers_what_they_can_do(self, project, admin_user):
        page = logged_in(admin_user).get(reverse("project_members", args=[project.id])).content.decode()
        assert "An email address with no account yet gets one" in page
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        page = logged_in(reviewer).get(reverse("project_members", args=[project.id])).content.decode()
        assert "Only a project admin can invite someone new." in page
