"""Personal API tokens: made and revoked by their owner, shown once, kept only as a hash."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for: “crawler”, “nightly training”.")
    # The token's first characters, shown in the list so its owner can tell tokens apart.
    prefix = models.CharField(max_length=12)
    # SHA-256 of the whole token: a stolen database gives no usable token. A token is 256 random
    # bits, so a fast hash is enough (a password needs a slow one because people choose them).
    key_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(default=False, help_text="Reads only: every write is refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="api_token_hash_hex")]

    def __str__(self):
        # What rate limits key on (ninja's AuthRateThrottle): the token, not the person.
        return f"api-token-{self.pk}"
