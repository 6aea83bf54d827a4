"""Fixity: stored media and reports re-hashed, least recently checked first; a flipped byte or a removed file is
caught, recorded and raised as an integrity alarm on the pages, and nothing is ever deleted."""

import os
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from cases import services
from cases.models import EvidenceItem
from custody.fixity import fixity_run
from custody.models import CustodyEvent, FixityState
from custody.verification import custody_verify
from encryption.models import DataKey
from tests.conftest import PASSWORD


def _path(store: str, key: str) -> Path:
    return Path(storages[store].path(key))


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    os.chmod(path, 0o640)  # stored files are read-only
    path.write_bytes(bytes(data))


def _check_fixity() -> int:
    try:
        call_command("check_fixity")
    except CommandError as error:
        return error.returncode
    return 0


def test_intact_media_and_reports_pass_and_every_check_is_recorded(alpha, analysed, generate, capsys):
    item = analysed(alpha.case, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)

    assert _check_fixity() == 0

    assert "2 of 2 stored files checked, 0 failed" in capsys.readouterr().out
    checks = CustodyEvent.objects.filter(organisation=alpha.organisation, action="fixity.checked")
    assert sorted(event.details["store"] for event in checks) == ["evidence", "reports"]
    assert all(event.details["ok"] for event in checks)
    assert {state.key for state in FixityState.objects.filter(ok=True)} == {item.storage_key, report.storage_key}
    assert not CustodyEvent.objects.filter(action="integrity.alarm").exists()


def test_a_flipped_byte_in_stored_media_is_caught_raised_and_nothing_is_deleted(client, alpha, analysed):
    # Given stored (encrypted) media with one ciphertext byte flipped behind the application's back
    item = analysed(alpha.case, alpha.investigator)
    path = _path("evidence", item.storage_key)
    _flip_a_byte(path)
    damaged = path.read_bytes()

    # When check_fixity runs
    status = _check_fixity()

    # Then it exits 1, the alarm (ciphertext damage, not a plaintext mismatch) is in the ledger and on the pages,
    # and the file and item are untouched
    assert status == 1
    alarm = CustodyEvent.objects.get(evidence=item, action="integrity.alarm")
    assert alarm.details["during"] == "fixity check"
    assert alarm.details["failed"] == "ciphertext"
    assert "the stored ciphertext is damaged" in alarm.details["finding"]
    check = CustodyEvent.objects.get(evidence=item, action="fixity.checked")
    assert check.details["failed"] == "ciphertext" and not check.details["ok"]
    assert path.read_bytes() == damaged
    assert EvidenceItem.objects.get(pk=item.pk).media_held
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    assert "failed its latest fixity check" in client.get("/cases/").content.decode()
    audit = client.get("/custody/").content.decode()
    assert item.storage_key in audit and "during fixity check" in audit
    assert "Integrity alarm" in client.get(f"/evidence/{item.public_id}/").content.decode()
    assert custody_verify(alpha.organisation).ok


def test_plaintext_stored_before_encryption_that_no_longer_hashes_right_is_a_plaintext_failure(alpha, analysed):
    # Given media stored before encryption was turned on (a plaintext file, no data key), one byte flipped
    item = analysed(alpha.case, alpha.investigator)
    path = _path("evidence", item.storage_key)
    with storages["evidence"].open(item.storage_key, "rb") as stored:
        plaintext = stored.read()
    DataKey.objects.filter(store="evidence", name=item.storage_key).delete()
    os.chmod(path, 0o640)
    path.write_bytes(plaintext)
    _flip_a_byte(path)

    # When check_fixity runs
    assert _check_fixity() == 1

    # Then the ciphertext is not blamed: the plaintext's SHA-256 is what failed
    alarm = CustodyEvent.objects.get(evidence=item, action="integrity.alarm")
    assert alarm.details["failed"] == "plaintext"
    assert f"not {item.sha256} as recorded" in alarm.details["finding"]


def test_a_removed_media_file_is_caught_and_raised(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    _path("evidence", item.storage_key).unlink()

    assert _check_fixity() == 1

    alarm = CustodyEvent.objects.get(evidence=item, action="integrity.alarm")
    assert alarm.details["finding"] == "the stored file is missing" and alarm.details["failed"] == "missing"
    assert EvidenceItem.objects.get(pk=item.pk).media_held  # recorded as missing, not as deleted


def test_a_removed_report_file_is_caught_and_raised_on_the_report_s_item(alpha, analysed, generate):
    item = analysed(alpha.case, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)
    _path("reports", report.storage_key).unlink()

    assert _check_fixity() == 1

    alarm = CustodyEvent.objects.get(action="integrity.alarm")
    assert alarm.evidence_id == item.pk and alarm.details["report"] == str(report.public_id)
    assert alarm.details["store"] == "reports" and alarm.details["finding"] == "the stored file is missing"


def test_the_investigator_does_not_see_the_organisation_wide_alarm_banner(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    _path("evidence", item.storage_key).unlink()
    _check_fixity()

    client.login(username=alpha.investigator.username, password=PASSWORD)

    assert "failed its latest fixity check" not in client.get("/cases/").content.decode()


def test_the_alarm_banner_counts_the_organisation_s_failed_files_and_names_the_latest(client, alpha, beta, analysed):
    # Given two of alpha's stored files and one of beta's removed behind the application's back
    items = [analysed(alpha.case, alpha.investigator, colour=(shade, 40, 40)) for shade in (10, 20)]
    items.append(analysed(beta.case, beta.investigator, colour=(30, 40, 40)))
    for item in items:
        _path("evidence", item.storage_key).unlink()
    _check_fixity()
    latest = FixityState.objects.filter(organisation=alpha.organisation, ok=False).latest("checked_at")

    # When alpha's administrator opens the case list
    client.login(username=alpha.admin.username, password=PASSWORD)
    page = client.get("/cases/").content.decode()

    # Then the banner counts alpha's two failed files, not beta's, and names the latest of them
    assert "2 stored files failed their latest fixity check" in page
    assert f"custody ledger entry {latest.event.sequence})" in page


def test_the_alarm_banner_clears_once_a_later_check_passes(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    path = _path("evidence", item.storage_key)
    original = path.read_bytes()
    _flip_a_byte(path)
    _check_fixity()

    path.write_bytes(original)  # restored from a backup
    assert _check_fixity() == 0

    client.login(username=alpha.admin.username, password=PASSWORD)
    assert "failed its latest fixity check" not in client.get("/cases/").content.decode()
    assert CustodyEvent.objects.filter(evidence=item, action="integrity.alarm").count() == 1  # history stays


def test_each_run_checks_its_share_least_recently_checked_first(alpha, analysed):
    items = [analysed(alpha.case, alpha.investigator, colour=(i, 80, 160)) for i in range(3)]
    keys = {item.storage_key for item in items}

    runs = [fixity_run(share=1 / 3, system="test") for _ in range(4)]

    checked = [[outcome.file.key for outcome in run.outcomes] for run in runs]
    assert all(len(keys_checked) == 1 for keys_checked in checked)
    assert {key for keys_checked in checked[:3] for key in keys_checked} == keys
    assert checked[3] == checked[0]  # the fourth run starts the next cycle with the oldest check


def test_media_deleted_under_retention_is_not_expected_in_storage(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    services.evidence_media_delete(item=item, reason="deleted by hand: done", actor=alpha.admin)

    assert _check_fixity() == 0
    assert not CustodyEvent.objects.filter(action="integrity.alarm").exists()


@pytest.mark.parametrize("share", [0, 1.5])
def test_a_share_outside_zero_to_one_is_refused(db, share):
    with pytest.raises(ValueError, match="share"):
        fixity_run(share=share, system="test")


def test_fixity_schedule_is_installed(db):
    assert Schedule.objects.filter(func="custody.fixity.fixity_run_scheduled", schedule_type="D").exists()
