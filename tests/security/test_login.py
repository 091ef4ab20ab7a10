"""Logging in: throttled per username and address, and never redirected off the site."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from annotator.settings import client_ip_address
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
HOME = "/"


@pytest.fixture
def user(db):
    return UserFactory(username="analyst")


def attempt(client, username="analyst", password="wrong", path=LOGIN, **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def fail(client, times, **extra):
    return [attempt(client, **extra).status_code for _ in range(times)]


class TestLockOut:
    def test_the_fifth_failure_locks_and_says_when_to_retry(self, client, user, settings):
        assert settings.AXES_FAILURE_LIMIT == 5
        assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)

        assert fail(client, 4) == [200] * 4
        response = attempt(client)

        assert response.status_code == 429
        page = response.content.decode()
        assert "<h1>Too many failed logins</h1>" in page
        assert "as <strong>analyst</strong> from this address is locked after\n    5 failed attempts" in page
        assert "Wait <strong>15 minutes</strong>, then" in page
        assert f'<a href="{LOGIN}">try again</a>' in page
        assert "Content-Security-Policy" in response.headers

    def test_while_locked_even_the_right_password_is_refused(self, client, user):
        fail(client, 5)

        response = attempt(client, password="pw")

        assert response.status_code == 429
        assert logged_in_as(client) is None

    def test_the_lock_is_for_that_username_from_that_address_only(self, client, user):
        other = UserFactory(username="colleague")
        fail(client, 5)

        assert attempt(client, password="pw", REMOTE_ADDR="198.51.100.20").status_code == 302
        client.logout()
        assert attempt(client, username="colleague", password="pw").status_code == 302
        assert logged_in_as(client) == str(other.pk)

    def test_the_lock_ends_after_the_cool_off(self, client, user):
        fail(client, 5)
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

        response = attempt(client, password="pw")

        assert response.status_code == 302
        assert logged_in_as(client) == str(user.pk)

    def test_the_lock_holds_until_the_cool_off_is_over(self, client, user):
        fail(client, 5)
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))

        assert attempt(client, password="pw").status_code == 429

    def test_an_attempt_while_locked_starts_the_wait_again(self, client, user):
        fail(client, 5)
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))

        assert attempt(client, password="pw").status_code == 429

        [locked] = AccessAttempt.objects.all()
        assert timezone.now() - locked.attempt_time < timedelta(minutes=1)

    def test_a_successful_login_forgets_earlier_failures(self, client, user):
        fail(client, 4)
        assert attempt(client, password="pw").status_code == 302
        client.post(reverse("logout"))

        assert fail(client, 4) == [200] * 4
        assert attempt(client, password="pw").status_code == 302

    def test_failures_for_an_unknown_username_lock_too(self, client, user):
        assert fail(client, 5, username="nobody")[-1] == 429

    def test_the_admin_login_is_throttled_too(self, client, user):
        user.is_staff = True
        user.save()

        statuses = fail(client, 5, path=ADMIN_LOGIN)

        assert statuses == [200] * 4 + [429]
        assert attempt(client, password="pw", path=ADMIN_LOGIN).status_code == 429
        assert logged_in_as(client) is None


class TestClientAddress:
    """Which address a login attempt is counted against."""

    def test_without_a_proxy_x_forwarded_for_is_ignored(self, client, user):
        statuses = [
            attempt(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(5)
        ]

        assert statuses == [200] * 4 + [429]
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}

    def test_behind_a_proxy_each_client_is_counted_apart(self, client, user, settings):
        settings.BEHIND_PROXY = True
        proxy = {"REMOTE_ADDR": "10.0.0.2"}

        assert fail(client, 5, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)[-1] == 429
        response = attempt(client, password="pw", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)

        assert response.status_code == 302
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}

    def test_behind_a_proxy_a_client_cannot_escape_by_forging_the_header(self, client, user, settings):
        settings.BEHIND_PROXY = True
        # The client makes up the left part; the proxy appends the address it really saw.
        statuses = [
            attempt(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7").status_code
            for n in range(6)
        ]

        assert statuses == [200] * 4 + [429, 429]

    @pytest.mark.parametrize(("behind_proxy", "meta", "expected"), [
        (False, {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, "192.0.2.1"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.1"}, "198.51.100.1"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": " 2001:db8::1 "}, "2001:db8::1"),
        (True, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
        (True, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}, "10.0.0.2"),
        (False, {}, None),
    ], ids=["direct", "proxy", "proxy-ipv6", "proxy-no-header", "proxy-garbage", "none"])
    def test_client_ip_address(self, rf, settings, behind_proxy, meta, expected):
        settings.BEHIND_PROXY = behind_proxy
        request = rf.get("/")
        request.META.pop("REMOTE_ADDR", None)
        request.META.update(meta)

        assert client_ip_address(request) == expected


class TestRedirectAfterLogin:
    @pytest.mark.parametrize("next_url", [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        " https://evil.example/",
        "http://testserver@evil.example/",
    ])
    def test_an_off_site_next_lands_on_the_app(self, client, user, next_url):
        page = client.get(LOGIN, {"next": next_url})
        assert page.status_code == 200

        response = client.post(f"{LOGIN}?next={next_url}", {"username": "analyst", "password": "pw", "next": next_url})

        assert response.status_code == 302
        assert response["Location"] == HOME
        assert logged_in_as(client) == str(user.pk)
        assert client.get(response["Location"]).status_code == 200

    def test_an_on_site_next_is_followed(self, client, user):
        response = client.post(LOGIN, {"username": "analyst", "password": "pw", "next": "/p/42/"})

        assert response.status_code == 302
        assert response["Location"] == "/p/42/"
