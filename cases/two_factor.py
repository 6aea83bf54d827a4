"""Two-factor authentication: who must have a second factor, the gate that holds a signed-in session until it has
given one, and the enrolment's secret and QR code. Devices are django-otp's (a TOTP app, plus single-use recovery
codes); every change to them goes through the writers of cases/accounts.py.

A person must sign in with a second factor once they have enrolled one, and must enrol before anything else when
an organisation they belong to requires it or they are staff (the Django admin). The session is not trusted until
then: every page answers with a redirect to the verification or enrolment page, every API call with a 403.
"""

import functools
import secrets
from base64 import b32encode
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .api.errors import API_PREFIX
from .models import Membership
from .tenancy import authenticator_confirmed

# The TOTP parameters every authenticator app understands (RFC 6238's defaults).
TOTP_DIGITS, TOTP_STEP = 6, 30


def two_factor_state(user, memberships: list[Membership] | None = None) -> tuple[bool, bool]:
    """(enrolled, required) for `user`: whether they have a confirmed authenticator, and whether an organisation
    they belong to (or being staff) requires one. One query; none with `memberships`, all of the user's as a page
    request has them already (cases.tenancy.memberships_of: with their organisations, and each saying whether its
    user has a confirmed authenticator), except for someone who belongs to no organisation."""
    confirmed = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True)
    if memberships is not None:
        required = any(membership.organisation.two_factor_required for membership in memberships)
        enrolled = memberships[0].user_enrolled if memberships else confirmed.exists()
        return enrolled, required or user.is_staff
    requiring = Membership.objects.filter(user_id=user.pk, organisation__two_factor_required=True)
    enrolled, required = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(enrolled=authenticator_confirmed(user.pk), required=Exists(requiring))
        .values_list("enrolled", "required")
        .get()
    )
    return enrolled, required or user.is_staff


def new_totp_key() -> str:
    """A fresh 160-bit TOTP secret, hex-encoded as django-otp stores it."""
    return secrets.token_hex(20)


def totp_key_matches(key_hex: str, code: str) -> bool:
    """Whether `code` is the current code (or the one before or after) of the secret `key_hex`."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        return False
    return TOTP(bytes.fromhex(key_hex), step=TOTP_STEP, digits=TOTP_DIGITS).verify(int(code), tolerance=1)


def totp_secret_text(key_hex: str) -> str:
    """The secret as people type it into an app: base32 in groups of four."""
    encoded = b32encode(bytes.fromhex(key_hex)).decode()
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def totp_provisioning_uri(key_hex: str, username: str) -> str:
    issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
    label = quote(f"{issuer}:{username}")
    secret = b32encode(bytes.fromhex(key_hex)).decode()
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={TOTP_DIGITS}&period={TOTP_STEP}"


def totp_qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code (no script, no style: it passes the Content-Security-Policy).
    Its natural size, and a viewBox so that a narrower screen scales the whole code down rather than cutting it
    (segno writes one or the other)."""
    code = segno.make(uri, error="m")
    width, height = code.symbol_size(scale=5)
    svg = code.svg_inline(
        scale=5, dark="#111", light="#fff", omitsize=True, title=_("QR code to scan with your authenticator app")
    )
    return svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)


@functools.cache
def _open_pages() -> frozenset[str]:
    """Where a session that still owes its second factor may go: the two pages that settle it, and out. Exact
    paths: the pages below them (new recovery codes, turning it off) need the second factor given."""
    return frozenset(
        (
            reverse("account-two-factor-verify"),
            reverse("account-two-factor-setup"),
            reverse("logout"),
            reverse("favicon"),
        )
    )


def _open(path: str) -> bool:
    return path in _open_pages() or path.startswith("/" + settings.STATIC_URL.lstrip("/"))


class TwoFactorMiddleware:
    """Holds a signed-in session that owes a second factor (enrolled but not yet verified, or required but not
    enrolled) away from everything else. Requests authenticated by an API token are not sessions; the token
    authentication applies the same rule (cases/api/authentication.py). Runs after
    cases.middleware.ActiveOrganisationMiddleware, whose `request.memberships` say whether a second factor is
    required."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not _open(request.path):
            enrolled, required = two_factor_state(user, request.memberships)
            if enrolled or required:
                return _second_factor_owed(request, enrolled)
        return self.get_response(request)


def _second_factor_owed(request, enrolled: bool):
    if request.path.startswith(API_PREFIX):
        detail = (
            _("Enter the code from your authenticator app on the sign-in page first.")
            if enrolled
            else _("Your organisation requires two-factor authentication: set it up in the web interface first.")
        )
        return JsonResponse({"detail": detail, "code": "two_factor_required"}, status=403)
    target = reverse("account-two-factor-verify" if enrolled else "account-two-factor-setup")
    return redirect(f"{target}?next={quote(request.get_full_path())}")
