"""Token authentication with only the SHA-256 of each token stored."""

import hashlib
import secrets

from django.utils import timezone
from rest_framework import authentication, exceptions

from ..models import ApiToken, Organisation

TOKEN_PREFIX = "em_"


def api_token_create(*, user, name: str, organisation: Organisation | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], key_hash=_token_hash(secret), organisation=organisation
    )
    return token, secret


def api_token_activate(*, token: ApiToken, organisation: Organisation) -> None:
    """Make later requests with this token act in `organisation` (the caller's membership was checked)."""
    token.organisation = organisation
    token.save(update_fields=["organisation"])


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=_token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token
