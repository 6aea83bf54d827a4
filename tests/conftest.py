"""Shared fixtures: two organisations with every role plus an outsider, isolated storage, generated media."""

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from PIL import Image

from cases import services
from cases.models import Case, Organisation
from cases.roles import Role
from cases.upload import receive_stream
from custody.signing import keyring_generate
from custody.triggers import TABLES, triggers_install, triggers_remove
from encryption.master import LocalMasterKeyring
from tests.local_tsa import local_tsa, tsa_pki  # noqa: F401 (fixtures: a TSA on the loopback interface)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    """One custody signing key and one storage master key for the test session (made as `custody_keygen` and
    `keys init` make them)."""
    directory = tmp_path_factory.mktemp("keys")
    keyring_generate(directory / "custody")
    LocalMasterKeyring(directory / "storage").create()
    return directory


@pytest.fixture
def committed_db(transactional_db) -> Iterator[None]:
    """The test database, committed as the test goes so that other threads and processes see its rows.

    Emptied afterwards like any transactional test's; the append-only ledger is emptied first, its triggers
    set aside for that moment only, since they refuse the DELETE that empties tables on SQLite."""
    yield
    triggers_remove(connection)
    try:
        with connection.cursor() as cursor:
            for table in reversed(TABLES):  # sign-offs and checkpoints point at events
                cursor.execute(f"DELETE FROM {table}")
    finally:
        triggers_install(connection)


@pytest.fixture
def warning_filter_calls(monkeypatch) -> list[str]:
    """The names of the warnings module's functions that change the filters (or warn) called during the test, in
    order; each still does what it did. The filters are the whole process's: code that runs beside other threads
    (analysers, a worker's requests) must leave them alone."""
    calls: list[str] = []

    def recorded(name: str):
        original = getattr(warnings, name)

        def recording(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        return recording

    for name in ("catch_warnings", "simplefilter", "filterwarnings", "resetwarnings", "warn"):
        monkeypatch.setattr(warnings, name, recorded(name))
    return calls


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path, keys_dir):
    """Each test gets its own stores (evidence, reports, derived), spool and plaintext directories, so leftovers can be
    counted: the test processes share one data directory, where another process's copies come and go."""
    evidence_root = tmp_path / "evidence"
    spool = tmp_path / "incoming"
    spool.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            **settings.STORAGES["evidence"],
            "OPTIONS": {**settings.STORAGES["evidence"]["OPTIONS"], "location": evidence_root},
        },
        "reports": {
            **settings.STORAGES["reports"],
            "OPTIONS": {**settings.STORAGES["reports"]["OPTIONS"], "location": tmp_path / "reports"},
        },
        "derived": {
            **settings.STORAGES["derived"],
            "OPTIONS": {**settings.STORAGES["derived"]["OPTIONS"], "location": tmp_path / "derived"},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = spool
    settings.PLAINTEXT_TEMP_DIR = tmp_path / "plaintext"
    settings.KEYS_DIR = keys_dir
    cache.clear()  # rate-limit counters must not leak from one test into the next
    return tmp_path


@dataclass
class Tenant:
    organisation: Organisation
    admin: object
    supervisor: object
    investigator: object
    auditor: object
    case: Case  # created by the investigator

    def member(self, role: str):
        return getattr(self, role)


def _tenant(slug: str) -> Tenant:
    # Law enforcement, without the two-factor requirement its kind starts with, so tests sign in with the test
    # client's shortcut; tests/cases/test_two_factor.py turns the requirement on.
    organisation = services.organisation_create(name=f"Unit {slug.title()}", slug=slug, two_factor_required=False)
    users = {}
    for role in Role:
        user = get_user_model().objects.create_user(f"{slug}-{role.value}", password=PASSWORD)
        services.membership_set(organisation=organisation, user=user, role=role)
        users[role.value] = user
    case = services.case_create(organisation=organisation, title=f"{slug} harassment", actor=users["investigator"])
    return Tenant(organisation=organisation, case=case, **users)


@pytest.fixture
def alpha(db) -> Tenant:
    return _tenant("alpha")


@pytest.fixture
def beta(db) -> Tenant:
    return _tenant("beta")


@pytest.fixture
def outsider(db):
    return get_user_model().objects.create_user("outsider", password=PASSWORD)


def jpeg_bytes(width: int = 64, height: int = 48, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(width: int = 32, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 120, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def received(data: bytes, name: str = "photo.jpg", declared_type: str = "image/jpeg"):
    """Bytes received exactly as an upload would be (spooled and hashed in one pass)."""
    return receive_stream([data], original_name=name, declared_type=declared_type)


@pytest.fixture
def alpha_item(alpha):
    return services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator).item
