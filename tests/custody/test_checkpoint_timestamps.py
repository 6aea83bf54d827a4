"""RFC 3161 time-stamps of checkpoints against a real TSA (OpenSSL's `ts -reply`, started by the test): stamped
after commit, carried in the custody bundle and the sealed export and verified offline, a tampered or foreign
token rejected, an outage that blocks nothing and is stamped late, the alarm, and `verify_custody`."""

import base64
import copy
import io
import json
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases import services
from custody.bundles import custody_bundle_build
from custody.checkpoints import checkpoint_make
from custody.models import Checkpoint, CheckpointTimestamp
from custody.timestamp_tokens import certificates_from_pem, checkpoint_timestamp_digest, token_request
from custody.timestamps import checkpoints_timestamp_late, timestamp_status
from custody.verification import custody_verify
from custody.verify import bundle_verify
from custody.verify_export import export_verify
from tests.conftest import PASSWORD
from tests.local_tsa import LocalTsa, pem, tsa_pki_make
from tests.loopback_http import HangingResponder

REPOSITORY = Path(__file__).resolve().parents[2]


def _checkpoint(tenant, captured) -> Checkpoint:
    """A new checkpoint of the tenant, its after-commit work (the time-stamp task) run as on commit."""
    services.case_note_add(case=tenant.case, text="something to checkpoint", actor=tenant.investigator)
    with captured(execute=True):
        checkpoint = checkpoint_make(organisation=tenant.organisation, reason="test")
    assert checkpoint is not None
    return checkpoint


def _offline(bundle: dict, tmp_path: Path, *options: str | Path) -> subprocess.CompletedProcess:
    """`python -m custody.verify` in another process in which Django cannot be imported at all."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    runner = (
        f"import sys; sys.modules['django'] = None; sys.path.insert(0, {str(REPOSITORY)!r}); "
        "import runpy; runpy.run_module('custody.verify', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", runner, str(path), *map(str, options)], capture_output=True, text=True, timeout=120
    )


def test_checkpoint_time_stamped_by_the_tsa_verifies_offline_from_a_bundle(
    alpha, alpha_item, local_tsa, tsa_pki, django_capture_on_commit_callbacks, tmp_path
):
    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    stamp = CheckpointTimestamp.objects.get(checkpoint=checkpoint)
    assert local_tsa.requests == 1
    assert stamp.tsa_url == local_tsa.url
    assert abs(stamp.gen_time - timezone.now()) < timedelta(minutes=1)
    assert stamp.chain_pem.count("BEGIN CERTIFICATE") == 3  # TSA, intermediate, root
    bundle = custody_bundle_build(item=alpha_item)
    assert bundle["checkpoint"]["tree_size"] == checkpoint.tree_size
    assert base64.b64decode(bundle["checkpoint_timestamp"]["token_base64"]) == bytes(stamp.token)

    pinned = _offline(bundle, tmp_path, "--tsa-root", tsa_pki.roots_file)
    unpinned = _offline(bundle, tmp_path)

    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    assert "checkpoint time-stamped" in pinned.stdout and "Test Time-Stamping Unit" in pinned.stdout
    assert "pinned with --tsa-root" in pinned.stdout
    assert unpinned.returncode == 0, unpinned.stdout + unpinned.stderr
    assert "the TSA root was taken from the bundle" in unpinned.stdout
    assert tsa_pki.root.fingerprint(hashes.SHA256()).hex() in unpinned.stdout


def test_sealed_export_carries_the_time_stamp_and_verify_export_checks_it(
    alpha, alpha_item, local_tsa, tsa_pki, tmp_path
):
    out = tmp_path / "case.zip"
    call_command("export_case", "--org", "alpha", "--case", alpha.case.reference, str(out), stdout=io.StringIO())

    with zipfile.ZipFile(out) as archive:
        pinned = export_verify(archive, tsa_roots=[tsa_pki.roots_file.read_bytes()])
        bundle = json.loads(archive.read(f"evidence/{alpha_item.public_id}/custody-bundle.json"))
    offline = subprocess.run(
        [sys.executable, "-m", "custody.verify_export", str(out), "--tsa-root", str(tsa_pki.roots_file)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
    )

    assert bundle["checkpoint_timestamp"] is not None
    assert pinned.ok, pinned.failures
    assert any("checkpoint time-stamped" in line for line in pinned.verified)
    assert offline.returncode == 0, offline.stdout
    assert f"item {alpha_item.public_id}: checkpoint time-stamped" in offline.stdout


def test_tampered_or_foreign_time_stamp_is_rejected(
    alpha, alpha_item, local_tsa, tsa_pki, django_capture_on_commit_callbacks, tmp_path
):
    _checkpoint(alpha, django_capture_on_commit_callbacks)
    bundle = custody_bundle_build(item=alpha_item)
    roots = [tsa_pki.roots_file.read_bytes()]
    token = bytearray(base64.b64decode(bundle["checkpoint_timestamp"]["token_base64"]))
    flipped = copy.deepcopy(bundle)
    token[-10] ^= 0x01  # inside the TSA's signature value, the last field of the token
    flipped["checkpoint_timestamp"]["token_base64"] = base64.b64encode(bytes(token)).decode()
    other_checkpoint = copy.deepcopy(bundle)
    other_checkpoint["checkpoint"]["made_at"] = "2020-01-01T00:00:00.000000Z"  # the token covers the original
    # An attacker's own TSA, stamping the genuine checkpoint: valid, but not under the root the reader trusts.
    forger = LocalTsa(tsa_pki_make(tmp_path / "forger", label="Forger"))
    forger.start()
    try:
        forged_token, check = token_request(
            forger.url,
            checkpoint_timestamp_digest(bundle["checkpoint"]),
            trusted_roots=certificates_from_pem(pem(forger.pki.root)),
            timeout=10,
        )
    finally:
        forger.stop()
    forged = copy.deepcopy(bundle)
    forged["checkpoint_timestamp"]["token_base64"] = base64.b64encode(forged_token).decode()
    forged["checkpoint_timestamp"]["tsa_chain_pem"] = check.chain_pem

    assert bundle_verify(bundle, tsa_roots=roots).ok
    flipped_report = bundle_verify(flipped, tsa_roots=roots)
    assert not flipped_report.ok and "time-stamp" in " ".join(flipped_report.failures)
    other_report = bundle_verify(other_checkpoint, tsa_roots=roots)
    assert "covers other data than this checkpoint" in " ".join(other_report.failures)
    forged_report = bundle_verify(forged, tsa_roots=roots)
    assert "does not chain to a trusted TSA root" in " ".join(forged_report.failures)
    # Unpinned, the forger's chain is taken from the bundle: it verifies, and the reader is told whose root it is.
    unpinned = bundle_verify(forged)
    assert unpinned.ok and any("Forger TSA Root CA" in line for line in unpinned.verified)
    offline = _offline(flipped, tmp_path, "--tsa-root", tsa_pki.roots_file)
    assert offline.returncode == 1 and "FAILED" in offline.stdout and "time-stamp" in offline.stdout


def test_pinned_tsa_root_requires_a_time_stamp(alpha, alpha_item, tsa_pki, tmp_path):
    bundle = custody_bundle_build(item=alpha_item)  # no TSA configured: no time-stamp

    unpinned = _offline(bundle, tmp_path)
    pinned = _offline(bundle, tmp_path, "--tsa-root", tsa_pki.roots_file)

    assert bundle["checkpoint_timestamp"] is None
    assert unpinned.returncode == 0 and "carries no RFC 3161 time-stamp" in unpinned.stdout
    assert pinned.returncode == 1 and "--tsa-root asks for one" in pinned.stdout


def test_tsa_outage_blocks_no_checkpoint_raises_the_alarm_and_is_stamped_late(
    alpha, local_tsa, settings, django_capture_on_commit_callbacks
):
    settings.EVIDENCEMEDIA_TSA_ALARM_AFTER = timedelta(minutes=30)
    local_tsa.stop()

    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)
    assert not CheckpointTimestamp.objects.filter(checkpoint=checkpoint).exists()
    assert not timestamp_status(alpha.organisation).alarm  # not yet overdue
    settings.EVIDENCEMEDIA_TSA_ALARM_AFTER = timedelta(0)
    assert checkpoints_timestamp_late() == "0 checkpoints time-stamped late"  # still down
    status = timestamp_status(alpha.organisation)
    assert status.alarm and status.overdue == 1

    local_tsa.start()
    outcome = checkpoints_timestamp_late()

    assert outcome == "1 checkpoints time-stamped late"
    stamp = CheckpointTimestamp.objects.get(checkpoint=checkpoint)
    assert stamp.gen_time >= checkpoint.made_at.replace(microsecond=0)  # the TSA's time is to the second
    assert stamp.stored_at > checkpoint.made_at
    assert not timestamp_status(alpha.organisation).alarm
    assert checkpoints_timestamp_late() == "0 checkpoints time-stamped late"  # safe to run twice


def test_tsas_are_tried_in_order(alpha, local_tsa, settings, django_capture_on_commit_callbacks):
    down = LocalTsa(local_tsa.pki)
    down.start()
    down.stop()  # a port where nothing answers any more
    settings.EVIDENCEMEDIA_TSA_URLS = [down.url, local_tsa.url]

    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    assert CheckpointTimestamp.objects.get(checkpoint=checkpoint).tsa_url == local_tsa.url


def test_a_tsa_that_takes_the_request_and_never_answers_is_given_up_on_its_timeout(
    alpha, local_tsa, settings, django_capture_on_commit_callbacks
):
    # Given a first TSA that accepts the connection and the request but never answers, then a working one
    hung = HangingResponder()
    hung.start()
    settings.EVIDENCEMEDIA_TSA_URLS = [hung.url, local_tsa.url]
    settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS = 1
    try:
        started = time.monotonic()
        checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)
        waited = time.monotonic() - started
    finally:
        hung.stop()

    # Then the hung one was asked and given up on (after its timeout, not its minute), and the next one stamped
    assert hung.requests == 1
    assert CheckpointTimestamp.objects.get(checkpoint=checkpoint).tsa_url == local_tsa.url
    assert waited < 30


def test_audit_page_shows_the_alarm_or_says_there_are_no_time_stamps(
    alpha, beta, local_tsa, settings, client, django_capture_on_commit_callbacks
):
    client.login(username=alpha.admin.username, password=PASSWORD)
    local_tsa.stop()
    _checkpoint(alpha, django_capture_on_commit_callbacks)
    settings.EVIDENCEMEDIA_TSA_ALARM_AFTER = timedelta(0)

    alarmed = client.get(reverse("custody:audit")).content.decode()
    settings.EVIDENCEMEDIA_TSA_URLS = []
    unconfigured = client.get(reverse("custody:audit")).content.decode()

    assert 'data-timestamps="alarm"' in alarmed and "1 checkpoint still without a time-stamp" in alarmed
    assert 'data-timestamps="off"' in unconfigured and "No time-stamping authority is configured" in unconfigured
    # beta's page knows nothing of alpha's overdue checkpoint
    client.login(username=beta.admin.username, password=PASSWORD)
    settings.EVIDENCEMEDIA_TSA_URLS = [local_tsa.url]
    assert 'data-timestamps="alarm"' not in client.get(reverse("custody:audit")).content.decode()


def test_verify_custody_checks_each_stored_token(
    alpha, local_tsa, django_capture_on_commit_callbacks, triggers_dropped
):
    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)
    out = io.StringIO()
    call_command("verify_custody", "--org", "alpha", stdout=out)
    assert "intact" in out.getvalue() and "1 of 1 checkpoints carry an RFC 3161 time-stamp" in out.getvalue()

    stamp = CheckpointTimestamp.objects.get(checkpoint=checkpoint)
    token = bytearray(stamp.token)
    token[-10] ^= 0x01
    with connection.cursor() as cursor:
        cursor.execute("UPDATE custody_checkpointtimestamp SET token = %s WHERE id = %s", [bytes(token), stamp.pk])

    verification = custody_verify(alpha.organisation)

    assert not verification.ok
    assert any("time-stamp of checkpoint" in p.detail for p in verification.report.problems)
