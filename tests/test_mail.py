"""Mail: settings from the environment, the console in the quick start, and password reset mail
and invitations actually sent (to Django's outbox, and through a real SMTP server on 127.0.0.1)."""

import re
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from annotator.settings import mailer
from tests.factories import UserFactory, make_project

SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}


class TestSettings:
    def test_an_smtp_url_with_starttls(self):
        url = "smtp+tls://mailer%40example.org:p%2Fss@mail.example.org"
        assert mailer({"EMAIL_URL": url}, debug=False) == {"BACKEND": SMTP, "OPTIONS": {
            "host": "mail.example.org", "port": 587, "username": "mailer@example.org", "password": "p/ss",
            "use_tls": True, "use_ssl": False, "timeout": 10,
        }}

    def test_smtps_and_plain_smtp_urls(self):
        ssl = mailer({"EMAIL_URL": "smtps://u:p@mail.example.org", "EMAIL_TIMEOUT": "3"}, debug=False)["OPTIONS"]
        assert (ssl["port"], ssl["use_ssl"], ssl["use_tls"], ssl["timeout"]) == (465, True, False, 3)
        plain = mailer({"EMAIL_URL": "smtp://relay.internal:2525"}, debug=True)["OPTIONS"]
        assert (plain["host"], plain["port"], plain["username"], plain["use_ssl"], plain["use_tls"]) == (
            "relay.internal", 2525, "", False, False)

    def test_a_console_url(self):
        assert mailer({"EMAIL_URL": "console://"}, debug=False) == CONSOLE

    def test_a_url_that_is_not_mail_is_refused(self):
        with pytest.raises(ImproperlyConfigured):
            mailer({"EMAIL_URL": "http://mail.example.org"}, debug=False)

    def test_host_port_user_password_and_tls_variables(self):
        environ = {"EMAIL_HOST": "mail.example.org", "EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": "secret",
                   "EMAIL_USE_TLS": "1"}
        assert mailer(environ, debug=False) == {"BACKEND": SMTP, "OPTIONS": {
            "host": "mail.example.org", "port": 587, "username": "mailer", "password": "secret", "use_tls": True,
            "use_ssl": False, "timeout": 10,
        }}
        assert mailer({"EMAIL_HOST": "h", "EMAIL_PORT": "2525"}, debug=False)["OPTIONS"]["port"] == 2525

    def test_the_quick_start_prints_mail_and_production_uses_a_local_smtp_server(self):
        assert mailer({}, debug=True) == CONSOLE
        assert mailer({}, debug=False) == {"BACKEND": SMTP, "OPTIONS": {"host": "localhost", "port": 25, "timeout": 10}}


@pytest.fixture
def person(db):
    user = UserFactory(username="marta")
    user.email = "marta@example.org"
    user.save()
    return user


def reset_link(body: str) -> str:
    [link] = re.findall(r"https?://\S+/accounts/reset/\S+/", body)
    return link


def test_the_login_page_links_to_password_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page


def test_password_reset_sends_a_link_that_sets_a_new_password(client, person, settings):
    settings.DEFAULT_FROM_EMAIL = "annotator@example.org"

    response = client.post(reverse("password_reset"), {"email": "marta@example.org"})

    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["marta@example.org"]
    assert message.from_email == "annotator@example.org"
    link = reset_link(message.body)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    person.refresh_from_db()
    assert person.check_password("a long new passphrase")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, person, settings):

    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


class Inbox:
    """An SMTP server's handler that keeps what it is sent."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_password_reset_mail_goes_through_a_real_smtp_server(client, person, settings):
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings.MAILERS = {"default": mailer({"EMAIL_URL": f"smtp://127.0.0.1:{port}"}, debug=False)}
        settings.DEFAULT_FROM_EMAIL = "annotator@example.org"

        response = client.post(reverse("password_reset"), {"email": "marta@example.org"})
    finally:
        server.stop()

    assert response.status_code == 302
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "annotator@example.org"
    assert envelope.rcpt_tos == ["marta@example.org"]
    message = message_from_bytes(envelope.original_content)
    assert message["To"] == "marta@example.org"
    body = message.get_payload(decode=True).decode()
    assert reset_link(body).startswith("http://testserver/accounts/reset/")


def test_an_invitation_goes_through_a_real_smtp_server(client, db, settings):
    admin = UserFactory(username="lead")
    project = make_project(name="Caucasus desk", admin=admin)
    client.force_login(admin)
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings.MAILERS = {"default": mailer({"EMAIL_URL": f"smtp://127.0.0.1:{port}"}, debug=False)}
        settings.DEFAULT_FROM_EMAIL = "annotator@example.org"

        response = client.post(reverse("member_add", args=[project.id]), {"username": "new@example.org", "role": "analyst"})
    finally:
        server.stop()

    assert response.status_code == 302
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["new@example.org"]
    message = message_from_bytes(envelope.original_content)
    body = message.get_payload(decode=True).decode()
    assert "lead added you to the project “Caucasus desk”" in body
    assert reset_link(body).startswith("http://testserver/accounts/reset/")
