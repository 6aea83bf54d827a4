"""The key hierarchy across organisations: per-organisation names and keys, organisation-key rotation that re-wraps
data keys without touching media, master-key rotation that re-wraps organisation keys and retires the old one."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from encryption import hierarchy, master
from encryption.models import DataKey, OrganisationKey


def _read(name: str) -> bytes:
    with storages["evidence"].open(name, "rb") as stored:
        return stored.read()


def _forget_cached_keys() -> None:
    """Unwrapped keys are cached per process; clear them so the next read unwraps through the stored hierarchy."""
    hierarchy._organisation_aead.cache_clear()
    hierarchy._name_secret.cache_clear()
    master._primitive.cache_clear()


def test_identical_bytes_in_two_organisations_get_different_names_and_keys(alpha, beta, analysed):
    a = analysed(alpha.case, alpha.investigator)
    b = analysed(beta.case, beta.investigator)
    assert a.sha256 == b.sha256

    assert a.storage_key != b.storage_key
    assert a.sha256 not in a.storage_key and b.sha256 not in b.storage_key
    key_a = DataKey.objects.get(store="evidence", name=a.storage_key)
    key_b = DataKey.objects.get(store="evidence", name=b.storage_key)
    assert key_a.organisation_id == alpha.organisation.pk and key_b.organisation_id == beta.organisation.pk
    assert key_a.wrapped_by.organisation_id != key_b.wrapped_by.organisation_id
    # beta's data key does not open alpha's ciphertext
    alpha_file = Path(storages["evidence"].path(a.storage_key))
    with pytest.raises(Exception):  # noqa: B017, PT011 Tink's own error: no key matches the ciphertext
        hierarchy.data_key_unwrap(key_b).decrypting_stream(alpha_file.open("rb")).read()


def test_rotating_one_organisation_s_key_rewraps_its_data_keys_only_and_media_stay_readable(alpha, beta, analysed):
    # Given media in both organisations
    a = analysed(alpha.case, alpha.investigator)
    b = analysed(beta.case, beta.investigator, colour=(10, 200, 10))
    ciphertext = Path(storages["evidence"].path(a.storage_key)).read_bytes()
    old_alpha_key = OrganisationKey.objects.get(organisation=alpha.organisation, active=True)
    beta_before = DataKey.objects.get(store="evidence", name=b.storage_key)
    alpha_before = DataKey.objects.get(store="evidence", name=a.storage_key)

    # When alpha's key is rotated
    out = StringIO()
    call_command("keys", "rotate", "--org", "alpha", stdout=out)
    _forget_cached_keys()

    # Then alpha's data key is wrapped by a new key, the old key is gone, the media file is untouched and readable
    assert "1 data keys re-wrapped" in out.getvalue()
    alpha_after = DataKey.objects.get(pk=alpha_before.pk)
    assert alpha_after.wrapped_by_id != old_alpha_key.pk
    assert bytes(alpha_after.wrapped_key) != bytes(alpha_before.wrapped_key)
    assert not OrganisationKey.objects.filter(pk=old_alpha_key.pk).exists()
    assert Path(storages["evidence"].path(a.storage_key)).read_bytes() == ciphertext
    assert len(_read(a.storage_key)) == a.size
    # The names do not change (the name secret survives rotation): de-duplication still meets the stored file
    assert hierarchy.storage_name(organisation=alpha.organisation, sha256=a.sha256) == a.storage_key
    # And beta is untouched
    beta_after = DataKey.objects.get(pk=beta_before.pk)
    assert beta_after.wrapped_by_id == beta_before.wrapped_by_id
    assert bytes(beta_after.wrapped_key) == bytes(beta_before.wrapped_key)


def test_rotating_an_organisation_that_stored_nothing_is_refused(alpha):
    with pytest.raises(CommandError, match="has stored nothing yet"):
        call_command("keys", "rotate", "--org", "alpha", stdout=StringIO())


def test_master_key_rotation_rewraps_every_organisation_key_and_retires_the_old(
    alpha, beta, analysed, settings, keys_dir, tmp_path
):
    # Given a keys directory of this test's own (the session's is shared), with media in two organisations
    settings.KEYS_DIR = tmp_path / "keys"
    shutil.copytree(keys_dir / "custody", settings.KEYS_DIR / "custody")
    call_command("keys", "init", stdout=StringIO())
    old_master = master.master_keyring().active_key_id()
    a = analysed(alpha.case, alpha.investigator)
    b = analysed(beta.case, beta.investigator)

    # When the master key is rotated
    call_command("keys", "rotate-master", stdout=StringIO())
    _forget_cached_keys()

    # Then every organisation key is wrapped by the new master, the old master file is gone, media still read
    keyring = master.master_keyring()
    assert keyring.active_key_id() != old_master
    assert keyring.key_ids() == [keyring.active_key_id()]
    assert set(OrganisationKey.objects.values_list("master_key_id", flat=True)) == {keyring.active_key_id()}
    assert len(_read(a.storage_key)) == a.size and len(_read(b.storage_key)) == b.size
    assert hierarchy.storage_name(organisation=alpha.organisation, sha256=a.sha256) == a.storage_key


def test_a_lost_master_key_is_an_error_not_a_new_key(alpha, analysed, settings, keys_dir, tmp_path):
    settings.KEYS_DIR = tmp_path / "keys"
    shutil.copytree(keys_dir / "custody", settings.KEYS_DIR / "custody")
    call_command("keys", "init", stdout=StringIO())
    item = analysed(alpha.case, alpha.investigator)
    shutil.rmtree(settings.KEYS_DIR / "storage")
    _forget_cached_keys()

    with pytest.raises(master.MasterKeyMissing):
        _read(item.storage_key)
    with pytest.raises(master.MasterKeyMissing):
        call_command("keys", "init", stdout=StringIO())
