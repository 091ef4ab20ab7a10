"""Forgotten password, in Chromium: from the login page's link to a new password, by the mailed link."""

import re

import pytest
from django.core import mail

from tests.factories import UserFactory

from .helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_resets_their_password_from_the_login_page(page):
    user = UserFactory(username="marta")
    user.email = "marta@example.org"
    user.save()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill("marta@example.org")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your mail").wait_for()
    page.screenshot(path="/tmp/edges-reset-done.png")

    [message] = mail.outbox
    [link] = re.findall(r"https?://\S+/accounts/reset/\S+/", message.body)
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a long new passphrase")
    page.get_by_label("New password confirmation").fill("a long new passphrase")
    page.screenshot(path="/tmp/edges-reset-confirm.png")
    page.get_by_role("button", name="Set the password").click()
    page.get_by_role("heading", name="Password set").wait_for()

    log_in(page, "marta", "a long new passphrase")
    assert "/accounts/login/" not in page.url
    assert errors == [] and page.csp_errors == []
