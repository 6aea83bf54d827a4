"""API tokens: creating and switching them (services, recorded in the ledger) and authenticating with them;
only the SHA-256 of each token is stored."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from custody.ledger import custody_event_record
from custody.models import Action

from ..models import ApiToken, Membership, Organisation
from ..tenancy import membership_resolve

TOKEN_PREFIX = "em_"


@transaction.atomic
def api_token_create(*, user, name: str, organisation: Organisation | None = None) -> tuple[ApiToken, str]:
    """Create a token bound to `organisation` (by default where the user acts now: the organisation they joined
    first) and return it with its secret, which is never stored and cannot be shown again. The creation is
    recorded in that organisation's ledger; a token of someone in no organisation acts nowhere until switched."""
    if organisation is None:
        membership = membership_resolve(user, None)
        organisation = membership.organisation if membership else None
    elif not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValueError(f"{user.get_username()} is not a member of {organisation}; a token there would act nowhere.")
    if organisation is not None:
        Organisation.objects.lock(organisation.pk)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], key_hash=_token_hash(secret), organisation=organisation
    )
    if organisation is not None:
        custody_event_record(
            organisation=organisation,
            action=Action.API_TOKEN_CREATED,
            actor=user,
            details={"token": token.prefix, "name": token.name},
        )
    return token, secret


@transaction.atomic
def api_token_activate(*, token: ApiToken, membership: Membership) -> ApiToken:
    """Make later requests with this token act in the organisation of `membership` (one of the token user's);
    recorded in that organisation's ledger with where the token acted before."""
    if membership.user_id != token.user_id:
        raise ValueError("A token can only be switched to an organisation its own user belongs to.")
    organisation = Organisation.objects.lock(membership.organisation_id)
    token = ApiToken.objects.select_related("organisation").get(pk=token.pk)
    if token.organisation_id == organisation.pk:
        return token
    previous = token.organisation.slug if token.organisation else None
    token.organisation = organisation
    token.save(update_fields=["organisation"])
    custody_event_record(
        organisation=organisation,
        action=Action.API_TOKEN_ACTIVATED,
        actor=token.user,
        details={"token": token.prefix, "name": token.name, "from": previous},
    )
    return token


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
