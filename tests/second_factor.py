"""Test helpers for two-factor sign-in: enrol an authenticator through the real service, compute the codes an app
would show (RFC 6238, as django-otp checks them), and sign a test client in through the real code page."""

from django.test import Client
from django_otp.oath import totp

from cases import accounts
from cases.two_factor import TOTP_DIGITS, TOTP_STEP, new_totp_key
from tests.conftest import PASSWORD


def totp_code(key_hex: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app holding `key_hex` shows now (or `steps_ahead` periods later, which the
    server still accepts once: a code already used is refused, as it would be from a real app)."""
    value = totp(bytes.fromhex(key_hex), step=TOTP_STEP, digits=TOTP_DIGITS, drift=steps_ahead)
    return f"{value:0{TOTP_DIGITS}d}"


def enrol(user) -> tuple[str, list[str]]:
    """Give `user` an authenticator the way the set-up page does; returns its key and the recovery codes."""
    key = new_totp_key()
    enrolment = accounts.two_factor_enable(user=user, key_hex=key, code=totp_code(key))
    return key, enrolment.recovery_codes


def sign_in_with_code(client: Client, user, key: str, steps_ahead: int = 1) -> None:
    """Password through the log-in page, then the authenticator's code through the code page."""
    response = client.post("/login/", {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    response = client.post("/login/code/", {"code": totp_code(key, steps_ahead)})
    assert response.status_code == 302, response.content[:500]
