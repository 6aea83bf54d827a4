"""Failed log-ins lock the username out (django-axes) on the log-in page, the admin and the token endpoint alike:
counted per username, never per the one address a TLS proxy gives everybody, and counted atomically, so parallel
guesses cannot have more passwords checked than the limit allows."""

import itertools
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection, connections
from django.test import Client

from tests.conftest import PASSWORD

PROXY = "10.0.0.2"  # the TLS proxy every request arrives from


def _log_in(client, username: str, password: str, url: str = "/login/", **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=PROXY, **extra)


def test_login_page_refuses_the_right_password_once_the_limit_is_reached(client, alpha, settings):
    settings.AXES_FAILURE_LIMIT = 3

    below_the_limit = [_log_in(client, "alpha-admin", "wrong").status_code for _ in range(2)]
    reaching_it = _log_in(client, "alpha-admin", "wrong")
    right_password = _log_in(client, "alpha-admin", PASSWORD)

    assert below_the_limit == [200, 200]
    assert reaching_it.status_code == 429
    assert right_password.status_code == 429
    assert b"Wait 15 minutes" in right_password.content
    assert "_auth_user_id" not in client.session


def test_a_correct_login_below_the_limit_succeeds_and_clears_the_count(client, alpha, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _log_in(client, "alpha-admin", "wrong")

    assert _log_in(client, "alpha-admin", PASSWORD).status_code == 302
    client.logout()
    # The count started again: two more failures still leave the right password usable
    for _ in range(2):
        _log_in(client, "alpha-admin", "wrong")
    assert _log_in(client, "alpha-admin", PASSWORD).status_code == 302


def test_admin_login_refuses_the_right_password_once_the_limit_is_reached(client, db, settings):
    # Given a staff account whose password was guessed at on the admin's own log-in form
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    url = "/admin/login/?next=/admin/"
    for _ in range(5):
        _log_in(client, "root", "wrong", url=url)

    # When the right password follows
    response = _log_in(client, "root", PASSWORD, url=url)

    # Then it is refused, and the admin stays closed
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_guesses_from_the_shared_proxy_address_lock_out_only_the_usernames_guessed(client, alpha, settings):
    # Given an anonymous client behind the proxy exhausting the limit on several usernames
    settings.AXES_FAILURE_LIMIT = 3
    for username in ("alpha-admin", "nobody-1", "nobody-2"):
        for _ in range(3):
            _log_in(Client(), username, "wrong")

    # When other people log in through the same proxy
    others = [_log_in(Client(), user.username, PASSWORD).status_code for user in (alpha.investigator, alpha.auditor)]

    # Then they get in; only the guessed account is paused
    assert others == [302, 302]
    assert _log_in(client, "alpha-admin", PASSWORD).status_code == 429


def test_lockout_records_the_client_address_the_trusted_proxy_forwarded(client, alpha, settings):
    from axes.models import AccessAttempt

    settings.EVIDENCEMEDIA_TRUSTED_PROXY_COUNT = 1
    _log_in(client, "alpha-admin", "wrong", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23")

    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [("alpha-admin", "198.51.100.23")]


class CountedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A real, deliberately slow hasher (it releases the GIL, so threads really overlap) that counts checks."""

    iterations = 150_000
    checks = itertools.count()

    def verify(self, password, encoded):
        next(self.checks)
        return super().verify(password, encoded)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the in-memory SQLite test database cannot be opened by other connections; run with "
    "DATABASE_URL=postgres://… to race the lock-out counter",
)
def test_parallel_wrong_guesses_have_at_most_the_limit_of_passwords_checked(committed_db, alpha, settings):
    # Given an account whose password takes real time to check, and 48 guesses released at once
    settings.AXES_FAILURE_LIMIT = 10
    settings.PASSWORD_HASHERS = [f"{__name__}.CountedPBKDF2PasswordHasher"]
    alpha.admin.set_password(PASSWORD)
    alpha.admin.save()
    checked_before = next(CountedPBKDF2PasswordHasher.checks)
    guesses = 48
    start = threading.Barrier(guesses)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def guess(number: int) -> None:
        try:
            start.wait()
            statuses.append(_log_in(Client(), "alpha-admin", f"wrong-{number}").status_code)
        except BaseException as error:  # reported to the main thread, which asserts there were none
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then exactly the limit of guesses had the password checked; every other one was refused unchecked
    checked = next(CountedPBKDF2PasswordHasher.checks) - checked_before - 1
    assert not errors, errors
    assert len(statuses) == guesses
    assert checked == 10
    assert statuses.count(200) + statuses.count(429) == guesses
