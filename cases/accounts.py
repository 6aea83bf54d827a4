"""Writers for people's accounts: sign-ins and refused passwords, passwords, deactivation, and two-factor devices.

An account is not an organisation's, so what happens to it is recorded in the custody ledger of every organisation
it belongs to (in the order of their ids, the order every writer takes organisation locks in). An account in no
organisation has no ledger; django-axes' access log still has its sign-ins and failures.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from custody.ledger import custody_event_record
from custody.models import Action

from .exceptions import AccountRefused, Refused
from .models import Membership, Organisation
from .roles import Role
from .two_factor import TOTP_DIGITS, TOTP_STEP, totp_key_matches


def _record_for_account(user, action: Action, *, actor=None, system: str = "", details: dict) -> None:
    """One ledger entry in each organisation `user` belongs to."""
    organisation_ids = Membership.objects.filter(user=user).order_by("organisation_id").values_list("organisation_id")
    for (organisation_id,) in organisation_ids:
        custody_event_record(
            organisation=Organisation.objects.lock(organisation_id),
            action=action,
            actor=actor,
            system=system,
            details={"account": user.get_username(), **details},
        )


@transaction.atomic
def account_sign_in_record(*, user, address: str | None, method: str) -> None:
    """A session was opened: `method` says with what ("password", "password and authenticator app", ...)."""
    _record_for_account(user, Action.ACCOUNT_SIGNED_IN, actor=user, details={"address": address, "method": method})


@transaction.atomic
def account_sign_in_failure_record(*, username: str, address: str | None) -> None:
    """A wrong password for an existing account (page, admin or token endpoint). Nobody is known to have acted, so
    the actor is the sign-in system; the account's organisations see who was guessed at and from where. A
    username without an account records nothing here (there is nobody to tell)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        _record_for_account(user, Action.ACCOUNT_SIGN_IN_FAILED, system="sign-in", details={"address": address})


@transaction.atomic
def account_password_set(*, user, password: str, how: str) -> None:
    """Set a new password (`how`: "changed by its holder" or "reset by e-mail link"); open sessions elsewhere end
    because the session hash changes."""
    user.set_password(password)
    user.save(update_fields=["password"])
    _record_for_account(user, Action.PASSWORD_CHANGED, actor=user, details={"how": how})


def _only_here(membership: Membership) -> None:
    """An administrator decides only over accounts that belong to nowhere else: deactivating an account locks its
    holder out of every organisation, which one organisation's administrator has no say over."""
    if Membership.objects.filter(user_id=membership.user_id).exclude(pk=membership.pk).exists():
        raise AccountRefused(
            _(
                "%(name)s also belongs to other organisations, so only they decide over the account; remove them "
                "from this organisation instead."
            )
            % {"name": membership.user.get_username()}
        )


@transaction.atomic
def account_deactivate(*, membership: Membership, actor) -> None:
    """The member can no longer sign in, and their sessions and API tokens stop working from the next request;
    everything they did stays, and `account_reactivate` undoes it. Not oneself, nor the last administrator."""
    Organisation.objects.lock(membership.organisation_id)
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    if user.pk == actor.pk:
        raise AccountRefused(_("You cannot deactivate your own account."))
    _only_here(membership)
    if membership.role == Role.ADMIN:
        raise AccountRefused(_("Make this administrator another role before deactivating the account."))
    if not user.is_active:
        return
    user.is_active = False
    user.save(update_fields=["is_active"])
    _record_for_account(user, Action.ACCOUNT_DEACTIVATED, actor=actor, details={})


@transaction.atomic
def account_reactivate(*, membership: Membership, actor) -> None:
    Organisation.objects.lock(membership.organisation_id)
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    _only_here(membership)
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])
    _record_for_account(user, Action.ACCOUNT_REACTIVATED, actor=actor, details={})


@transaction.atomic
def account_password_reset_send(*, membership: Membership, actor, domain: str, use_https: bool) -> None:
    """E-mail the member a one-time link to choose a new password (Django's reset link, valid
    PASSWORD_RESET_TIMEOUT); their current password keeps working until they use it. `domain` is the host the link
    points at. Refused for an account without an e-mail address."""
    Organisation.objects.lock(membership.organisation_id)
    user = membership.user
    if not user.email:
        raise AccountRefused(
            _("%(name)s has no e-mail address on record, so no reset link can be sent.") % {"name": user.get_username()}
        )
    if not user.is_active:
        raise AccountRefused(_("Reactivate the account before resetting its password."))
    password_reset_mail_send(user=user, domain=domain, use_https=use_https)
    _record_for_account(user, Action.PASSWORD_RESET_SENT, actor=actor, details={"to": user.email})


def password_reset_mail_send(*, user, domain: str, use_https: bool) -> None:
    """The same e-mail as Django's own "forgot my password" page sends (same templates, same token)."""
    context = {
        "email": user.email,
        "domain": domain,
        "protocol": "https" if use_https else "http",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
    }
    subject = "".join(render_to_string("registration/password_reset_subject.txt", context).splitlines())
    body = render_to_string("registration/password_reset_email.html", context)
    EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]).send()


@dataclass
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


@transaction.atomic
def two_factor_enable(*, user, key_hex: str, code: str) -> Enrolment:
    """Confirm the authenticator holding `key_hex` by one of its codes and give the person recovery codes (shown
    once). Replaces any earlier authenticator and codes. Refused when the code does not match."""
    if not totp_key_matches(key_hex, code):
        raise Refused(_("That code does not match. Check the time on your phone and enter the newest code."))
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name=_("Authenticator app"), key=key_hex, digits=TOTP_DIGITS, step=TOTP_STEP, confirmed=True
    )
    codes = _recovery_codes_replace(user)
    _record_for_account(user, Action.TWO_FACTOR_ENABLED, actor=user, details={"recovery_codes": len(codes)})
    return Enrolment(device=device, recovery_codes=codes)


@transaction.atomic
def two_factor_recovery_codes_renew(*, user) -> list[str]:
    """New recovery codes; every earlier one stops working."""
    codes = _recovery_codes_replace(user)
    _record_for_account(user, Action.TWO_FACTOR_CODES_RENEWED, actor=user, details={"recovery_codes": len(codes)})
    return codes


def _recovery_codes_replace(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
    codes = [StaticToken.random_token() for _code in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user, required: bool) -> None:
    """Remove the authenticator and recovery codes; refused while an organisation of theirs (or staff) requires it."""
    if required:
        raise AccountRefused(
            _("Two-factor authentication is required for your account; you can set up a new phone, not turn it off.")
        )
    deleted, _rows = TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    if deleted:
        _record_for_account(user, Action.TWO_FACTOR_DISABLED, actor=user, details={})


@dataclass
class Verification:
    device: TOTPDevice | StaticDevice | None
    throttled: bool = False
    recovery_codes_left: int | None = None


@transaction.atomic
def two_factor_verify(*, user, code: str, address: str | None) -> Verification:
    """Check a code from the person's authenticator, or one of their recovery codes (used up by this). A wrong code
    is recorded and makes the next try wait longer (django-otp doubles the wait each time); a try during that wait
    is refused unchecked and unrecorded."""
    code = code.strip().replace(" ", "").lower()
    # Six digits are an authenticator's code; anything else can only be a recovery code.
    device_type = TOTPDevice if code.isdigit() and len(code) == TOTP_DIGITS else StaticDevice
    devices = list(device_type.objects.select_for_update().filter(user=user, confirmed=True))
    if not devices:
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return Verification(device=None)
        # A malformed code for someone with an authenticator: a wrong code like any other.
        devices = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True))
    if not all(device.verify_is_allowed()[0] for device in devices):
        return Verification(device=None, throttled=True)
    for device in devices:
        if device.verify_token(code):
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                _record_for_account(
                    user, Action.TWO_FACTOR_RECOVERY_USED, actor=user, details={"recovery_codes_left": left}
                )
                return Verification(device=device, recovery_codes_left=left)
            return Verification(device=device)
    _record_for_account(user, Action.TWO_FACTOR_FAILED, system="sign-in", details={"address": address})
    return Verification(device=None)
