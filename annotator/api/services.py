"""API tokens: `token_create` (the only time the token itself is seen), `token_revoke`, `token_user`."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from annotator.corpus.text import refuse_control_characters

from .models import ApiToken

PREFIX = "ann_"
# `last_used_at` is written at most this often per token: not a database write per request.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: AbstractBaseUser, name: str, read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token for `user`: the row, and the token itself, which is stored nowhere."""
    name = name.strip()
    refuse_control_characters(name, what="The name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=secret[: len(PREFIX) + 4], key_hash=_hash(secret), read_only=read_only
    )
    return token, secret


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Delete one of the user's own tokens; False if they have no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def token_find(secret: str) -> ApiToken | None:
    """The live token whose secret this is (its user active), its last use stamped now and then."""
    if not secret.startswith(PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(secret), user__is_active=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
