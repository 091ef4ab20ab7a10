"""Personal API tokens: made on the tokens page and shown once, stored hashed, revoked by their owner,
optionally read-only, last use stamped, never written to the logs."""

import hashlib
import logging
import re

import pytest
from django.urls import reverse

from annotator.api.models import ApiToken
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db):
    user = UserFactory(username="scripter")
    make_project(name="Scripts", analyst=user)
    return user


def make_on_page(client, user, **fields):
    client.force_login(user)
    response = client.post(reverse("api_tokens"), {"name": "crawler", **fields})
    assert response.status_code == 200
    client.logout()
    return re.search(r'id="new-token"[^>]*value="(ann_[^"]+)"', response.content.decode()).group(1), response


def test_the_page_shows_a_new_token_once_and_keeps_only_its_hash(client, member):
    secret, response = make_on_page(client, member)
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=member)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values_list()))
    client.force_login(member)
    again = client.get(reverse("api_tokens")).content.decode()
    assert secret not in again and token.prefix in again and "crawler" in again


def test_a_token_authenticates_and_its_last_use_is_stamped(client, member):
    secret, _ = make_on_page(client, member)
    assert ApiToken.objects.get().last_used_at is None
    response = client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and [p["name"] for p in response.json()["results"]] == ["Scripts"]
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("header", ["Bearer ann_wrong", "Bearer ", "Basic abc", "Bearer not-ours"])
def test_a_wrong_token_is_401_problem_json(client, member, header):
    response = client.get("/api/v1/projects/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json" and response["WWW-Authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_revoked_tokens_stop_working_and_only_their_owner_revokes_them(client, member):
    secret, _ = make_on_page(client, member)
    token = ApiToken.objects.get()
    client.force_login(UserFactory(username="someone-else"))
    client.post(reverse("api_token_revoke", args=[token.id]))
    assert ApiToken.objects.filter(pk=token.pk).exists()  # not theirs
    client.force_login(member)
    client.post(reverse("api_token_revoke", args=[token.id]))
    client.logout()
    assert client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_read_only_token_reads_but_every_write_is_refused(client, member):
    secret, _ = make_on_page(client, member, read_only="on")
    project = member.memberships.get().project
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"/api/v1/projects/{project.id}/articles", headers=headers).status_code == 200
    response = client.put(f"/api/v1/projects/{project.id}/articles/1/labels", {"topics": []},
                          content_type="application/json", headers=headers)
    assert response.status_code == 403 and "read-only" in response.json()["detail"]


def test_an_inactive_users_tokens_stop_working(client, member):
    secret, _ = make_on_page(client, member)
    member.is_active = False
    member.save()
    assert client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_name_with_a_control_character_is_refused(client, member):
    client.force_login(member)
    response = client.post(reverse("api_tokens"), {"name": "bad\x07name"})
    assert response.status_code == 400 and "control character" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_never_reach_the_logs(client, member, caplog):
    secret, _ = make_on_page(client, member)
    caplog.set_level(logging.DEBUG)
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/projects/999999", headers=headers)  # 404, logged by django.request
    client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {secret}x"})  # 401, logged
    assert caplog.records and secret not in caplog.text


def test_sessions_work_too_and_need_the_csrf_token_to_write(member):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    project = member.memberships.get().project
    assert browser.get(f"/api/v1/projects/{project.id}").status_code == 200
    response = browser.post(f"/api/v1/projects/{project.id}/snapshots", {}, content_type="application/json")
    assert response.status_code == 403, response.content


def test_the_rate_limit_is_per_token(client, member, token_for, settings):
    settings.ANNOTATOR_API_RATE = "3/min"
    first, second = token_for(member), token_for(member)
    codes = [client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {first}"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/projects/", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_the_rate_limit_counts_a_session_users_requests_and_says_when_to_retry(client, member, settings):
    settings.ANNOTATOR_API_RATE = "2/min"
    client.force_login(member)
    codes = [client.get("/api/v1/projects/") for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[-1]["Content-Type"] == "application/problem+json" and 0 < int(codes[-1]["Retry-After"]) <= 60
