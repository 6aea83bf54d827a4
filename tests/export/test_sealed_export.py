"""Sealed export: a case or an item exported and verified offline (in process and by `python -m
custody.verify_export`), each kind of tampering rejected with its reason, and who may export."""

import hashlib
import io
import json
import stat
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.management import call_command

from cases import services
from custody.canonical import entry_hash
from custody.keys import signing_key
from custody.models import CustodyEvent
from custody.verify_export import MANIFEST_PATH, export_manifest_signing_payload, export_verify
from tests.conftest import PASSWORD

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def exported_case(alpha, analysed, generate, tmp_path):
    """alpha's case with two analysed items, one with a report and one whose media was deleted, exported."""
    kept = analysed(alpha.case, alpha.investigator, colour=(10, 200, 30))
    deleted = analysed(alpha.case, alpha.investigator, colour=(200, 10, 30))
    report = generate(alpha.investigator, alpha.case, kept)
    services.evidence_media_delete(item=deleted, reason="deleted by hand: victim asked", actor=alpha.admin)
    out = tmp_path / "case.zip"
    call_command("export_case", "--org", "alpha", "--case", alpha.case.reference, str(out), stdout=io.StringIO())
    return {"zip": out, "kept": kept, "deleted": deleted, "report": report, "tenant": alpha}


def _verify(path: Path):
    with zipfile.ZipFile(path) as archive:
        return export_verify(archive)


def _offline(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "custody.verify_export", str(path)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
    )


def _rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """Copy the zip, replacing (bytes) or dropping (None) the named members."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for name in original.namelist():
            data = changes.get(name, original.read(name))
            if data is not None:
                copy.writestr(name, data)
    return target


def _rebuild(source: Path, target: Path, edit) -> Path:
    """Copy the zip entry by entry through `edit`, which gets the (ZipInfo, bytes) list and returns the one to
    write: reordered, extended or altered as a hostile archive would be."""
    with zipfile.ZipFile(source) as original:
        entries = [(info, original.read(info)) for info in original.infolist()]
    with warnings.catch_warnings(), zipfile.ZipFile(target, "w") as copy:
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a duplicate name: here it is the point
        for info, data in edit(entries):
            copy.writestr(info, data)
    return target


def _inserted_before(name: str, new_name: str, data: bytes):
    """An edit that puts a new entry `new_name` holding `data` just before the entry `name`."""

    def edit(entries):
        at = next(index for index, (info, _) in enumerate(entries) if info.filename == name)
        return [*entries[:at], (zipfile.ZipInfo(new_name), data), *entries[at:]]

    return edit


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_case_export_round_trip_verifies_offline_and_is_a_custody_event(exported_case):
    members = _members(exported_case["zip"])
    kept, deleted, report = exported_case["kept"], exported_case["deleted"], exported_case["report"]

    report_in_process = _verify(exported_case["zip"])
    offline = _offline(exported_case["zip"])

    assert report_in_process.ok, report_in_process.failures
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline.stdout.startswith("intact: sealed export of case")
    assert f"item {deleted.public_id}: media not included; its deletion is recorded in custody" in offline.stdout
    assert f"evidence/{kept.public_id}/media.jpg" in members
    assert not any(name.startswith(f"evidence/{deleted.public_id}/media") for name in members)
    with storages["reports"].open(report.storage_key, "rb") as stored:
        assert members[f"reports/{report.filename}"] == stored.read()
    analysis = json.loads(members[f"evidence/{kept.public_id}/analysis.json"])
    assert analysis["status"] == "done" and analysis["verdict"] == kept.verdict
    event = CustodyEvent.objects.get(case=kept.case, action="export.created")
    assert event.details["manifest_sha256"] == hashlib.sha256(members[MANIFEST_PATH]).hexdigest()
    assert event.actor_label == "system:export_case command"


def test_a_changed_byte_in_any_file_is_rejected_naming_the_file(exported_case, tmp_path):
    members = _members(exported_case["zip"])
    for name in sorted(set(members) - {MANIFEST_PATH}):
        changed = bytearray(members[name])
        changed[len(changed) // 2] ^= 0x01
        tampered = _rewrite(exported_case["zip"], tmp_path / "tampered.zip", {name: bytes(changed)})

        result = _verify(tampered)

        assert not result.ok
        assert any(failure.startswith(f"{name}: SHA-256") and "was changed" in failure for failure in result.failures)


def test_a_removed_file_is_rejected(exported_case, tmp_path):
    media = f"evidence/{exported_case['kept'].public_id}/media.jpg"
    tampered = _rewrite(exported_case["zip"], tmp_path / "removed.zip", {media: None})

    offline = _offline(tampered)

    assert offline.returncode == 1
    assert f"{media}: listed in the manifest but missing from the zip (removed)" in offline.stdout


def test_an_entry_that_inflates_past_its_listed_size_is_refused_without_reading_it_all(exported_case, tmp_path):
    # 256 MiB of zeros deflate to a few hundred KiB: a zip bomb in place of the media.
    media = f"evidence/{exported_case['kept'].public_id}/media.jpg"
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(exported_case["zip"]) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in original.namelist():
            if name == media:
                with copy.open(name, "w") as stream:
                    for _ in range(256):
                        stream.write(bytes(1024 * 1024))
            else:
                copy.writestr(name, original.read(name))
    listed_size = len(_members(exported_case["zip"])[media])

    tracemalloc.start()
    result = _verify(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert not result.ok
    assert any(
        failure.startswith(f"{media}: SHA-256") and f"({listed_size + 1} or more bytes)" in failure
        for failure in result.failures
    ), result.failures
    assert peak < 16 * 1024 * 1024


def test_a_tampered_media_copy_before_the_genuine_one_is_refused(exported_case, tmp_path):
    # Given an export with a second media.jpg, the tampered one first: `unzip -n` extracts it, zipfile reads the
    # genuine one after it
    media = f"evidence/{exported_case['kept'].public_id}/media.jpg"
    tampered = bytearray(_members(exported_case["zip"])[media])
    tampered[len(tampered) // 2] ^= 0x01
    hostile = _rebuild(exported_case["zip"], tmp_path / "duplicate.zip", _inserted_before(media, media, tampered))

    result = _verify(hostile)
    offline = _offline(hostile)

    assert not result.ok
    assert result.failures == [
        f"{media}: 2 entries of the zip have this name (ignoring case): which one is extracted depends on the tool"
    ]
    assert offline.returncode == 1
    assert "intact" not in offline.stdout


@pytest.mark.parametrize("twin", ["{media}", "{media_upper}", "manifest.json"])
def test_two_entries_that_extract_to_one_file_are_refused(exported_case, tmp_path, twin):
    members = _members(exported_case["zip"])
    media = f"evidence/{exported_case['kept'].public_id}/media.jpg"
    twin = twin.format(media=media, media_upper=media.replace("media.jpg", "MEDIA.JPG"))
    copied = MANIFEST_PATH if twin == MANIFEST_PATH else media
    hostile = _rebuild(exported_case["zip"], tmp_path / "twin.zip", _inserted_before(copied, twin, members[copied]))

    result = _verify(hostile)

    assert not result.ok
    assert any(failure.startswith(f"{twin}: 2 entries of the zip have this name") for failure in result.failures)


def test_an_entry_not_listed_in_the_manifest_is_refused(exported_case, tmp_path):
    media = f"evidence/{exported_case['kept'].public_id}/media.jpg"
    extra = f"evidence/{exported_case['kept'].public_id}/notes.txt"
    hostile = _rebuild(exported_case["zip"], tmp_path / "extra.zip", _inserted_before(media, extra, b"planted"))

    offline = _offline(hostile)

    assert offline.returncode == 1
    assert f"{extra}: in the zip but not listed in the manifest (added after sealing)" in offline.stdout


@pytest.mark.parametrize(
    "path",
    [
        "/etc/cron.d/evidence",
        "../media.jpg",
        "evidence/../../media.jpg",
        "evidence/./media.jpg",
        "evidence//media.jpg",
        "C:/media.jpg",
        "evidence\\..\\..\\media.jpg",
    ],
)
def test_an_absolute_or_escaping_path_is_refused(exported_case, tmp_path, path):
    hostile = _rebuild(exported_case["zip"], tmp_path / "path.zip", _inserted_before(MANIFEST_PATH, path, b"x"))

    result = _verify(hostile)

    assert not result.ok
    assert f"{path!r}: not a plain relative path (absolute, '..', '.' or empty parts)" in result.failures


def test_a_symbolic_link_is_refused_even_when_its_bytes_match(exported_case, tmp_path):
    # Given the export's public keys entry turned into a symbolic link whose target text is the listed bytes
    def as_symlink(entries):
        for info, data in entries:
            if info.filename == "keys/public-keys.json":
                info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            yield info, data

    hostile = _rebuild(exported_case["zip"], tmp_path / "link.zip", as_symlink)

    result = _verify(hostile)

    assert result.failures == ["keys/public-keys.json: a symbolic link, not a plain file"]


def test_a_manifest_listing_a_path_twice_is_refused_even_when_re_signed(exported_case, tmp_path):
    members = _members(exported_case["zip"])
    manifest = json.loads(members[MANIFEST_PATH])
    manifest["files"].append({**manifest["files"][0], "sha256": "0" * 64})
    manifest["signature"] = signing_key().sign(export_manifest_signing_payload(manifest))[1]
    resealed = _rewrite(exported_case["zip"], tmp_path / "twice.zip", {MANIFEST_PATH: json.dumps(manifest).encode()})

    result = _verify(resealed)

    assert "the manifest lists a path more than once" in result.failures


def test_a_changed_manifest_is_rejected_by_its_signature(exported_case, tmp_path):
    manifest = json.loads(_members(exported_case["zip"])[MANIFEST_PATH])
    manifest["exported_by"] = "someone else"
    tampered = _rewrite(exported_case["zip"], tmp_path / "manifest.zip", {MANIFEST_PATH: json.dumps(manifest).encode()})

    result = _verify(tampered)

    assert result.failures == [f"the manifest: the signature is not valid under key {manifest['key_id']}"]


def test_a_forged_custody_event_is_rejected_even_when_the_manifest_is_re_signed(exported_case, tmp_path):
    # Given an insider who edits the evidence.received event of an item's bundle, re-hashes the event, and
    # re-seals the manifest with the organisation's own key
    members = _members(exported_case["zip"])
    path = f"evidence/{exported_case['kept'].public_id}/custody-bundle.json"
    bundle = json.loads(members[path])
    forged = bundle["events"][0]["entry"]
    forged["details"]["original_filename"] = "innocent.jpg"
    forged["entry_hash"] = entry_hash(forged)
    bundle_bytes = json.dumps(bundle).encode()
    manifest = json.loads(members[MANIFEST_PATH])
    for entry in manifest["files"]:
        if entry["path"] == path:
            entry["sha256"], entry["size"] = hashlib.sha256(bundle_bytes).hexdigest(), len(bundle_bytes)
    _, manifest["signature"] = signing_key().sign(export_manifest_signing_payload(manifest))
    tampered = _rewrite(
        exported_case["zip"],
        tmp_path / "forged.zip",
        {path: bundle_bytes, MANIFEST_PATH: json.dumps(manifest).encode()},
    )

    # When it is verified
    result = _verify(tampered)

    # Then the files and manifest check out, but the forged event is named: its signature and proof fail
    sequence = forged["sequence"]
    assert not result.ok
    assert f"{path}: event {sequence}: the signature is not valid under key {forged['key_id']}" in result.failures
    assert any(
        f"event {sequence}: its inclusion proof does not lead to the checkpoint root" in f for f in result.failures
    )


def test_item_export_holds_only_that_item(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator, colour=(1, 1, 1))
    other = analysed(alpha.case, alpha.investigator, colour=(2, 2, 2))
    client.login(username=alpha.investigator.username, password=PASSWORD)

    response = client.get(f"/api/v1/custody/evidence/{item.public_id}/export/")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert export_verify(archive).ok
    assert not any(str(other.public_id) in name for name in archive.namelist())
    assert json.loads(archive.read(MANIFEST_PATH))["evidence"] == str(item.public_id)
    assert CustodyEvent.objects.get(action="export.created").evidence_id == item.pk


@pytest.mark.parametrize("role,status", [("admin", 200), ("supervisor", 200), ("investigator", 200), ("auditor", 403)])
def test_who_may_export_a_case(client, alpha, role, status):
    client.login(username=alpha.member(role).username, password=PASSWORD)

    page = client.get(f"/custody/cases/{alpha.case.public_id}/export/")
    api = client.get(f"/api/v1/custody/cases/{alpha.case.public_id}/export/")

    assert (page.status_code, api.status_code) == (status, status)
    assert CustodyEvent.objects.filter(action="export.created").count() == (2 if status == 200 else 0)


def test_an_investigator_not_on_the_case_cannot_export_it(client, alpha):
    other = services.case_create(organisation=alpha.organisation, title="not theirs", actor=alpha.supervisor)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    assert client.get(f"/custody/cases/{other.public_id}/export/").status_code == 404
    assert not CustodyEvent.objects.filter(action="export.created").exists()


def test_export_of_damaged_media_is_refused_and_raises_an_alarm(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    Path(storages["evidence"].path(item.storage_key)).unlink()
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    response = client.get(f"/api/v1/custody/cases/{alpha.case.public_id}/export/")

    assert response.status_code == 409 and "No export was made" in response.json()["detail"]
    assert CustodyEvent.objects.get(evidence=item, action="integrity.alarm").details["during"] == "fixity check"
    assert not CustodyEvent.objects.filter(action="export.created").exists()


def test_export_verifier_imports_nothing_from_django():
    code = "import sys, custody.verify_export; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
