"""Authenticating API requests with a token; only the SHA-256 of each token is stored. Tokens are created,
switched and revoked by the services (`api_token_create`, `api_token_activate`, `api_token_revoke`)."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from ..models import ApiToken, api_token_hash


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token
