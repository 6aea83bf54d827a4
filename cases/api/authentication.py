"""Authenticating API requests with a token; only the SHA-256 of each token is stored. Tokens are created,
switched and revoked by the services (`api_token_create`, `api_token_activate`, `api_token_revoke`)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from ..models import ApiToken, api_token_hash


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        # Imported here: cases.two_factor imports the API's error module, which imports DRF, which imports this.
        from ..two_factor import two_factor_state

        enrolled, required = two_factor_state(token.user)
        if required and not enrolled:
            # The policy holds for tokens as for sessions: made before it was switched on, one waits for enrolment.
            raise exceptions.AuthenticationFailed(
                _(
                    "Your organisation requires two-factor authentication: set it up in the web interface (your "
                    "account page), then this token works again."
                )
            )
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token
