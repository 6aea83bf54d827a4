"""Every action that touches evidence really produces its ledger event: the views, API and services are driven
as a user would, then the ledger is read back."""

import hashlib
import io
import os

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from cases import services
from cases.models import Case, EvidenceItem
from custody.access import IntegrityAlarm
from custody.checkpoints import checkpoints_make_all
from custody.models import Checkpoint, CustodyEvent, ReviewSignOff
from custody.verification import custody_verify
from tests.conftest import PASSWORD, jpeg_bytes


def _events(organisation, action: str):
    return list(CustodyEvent.objects.filter(organisation=organisation, action=action).order_by("sequence"))


def _last(organisation, action: str) -> CustodyEvent:
    events = _events(organisation, action)
    assert events, f"no {action} event"
    return events[-1]


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)


def test_case_lifecycle_through_the_pages_records_each_step(client, alpha):
    # Given an investigator and a supervisor using the pages
    _login(client, alpha.investigator)
    client.post("/cases/new/", {"title": "Threats on platform X"})
    case = Case.objects.get(title="Threats on platform X")
    client.post(f"/cases/{case.public_id}/notes/", {"text": "seen at 10:02"})
    upload = SimpleUploadedFile("shot.jpg", jpeg_bytes(colour=(5, 6, 7)), content_type="image/jpeg")
    client.post(f"/cases/{case.public_id}/evidence/", {"files": [upload], "found_at": "https://example.org/p/1"})
    services.case_update(case=case, title="Threats on platform Y", description="", actor=alpha.investigator)
    _login(client, alpha.supervisor)
    client.post(f"/cases/{case.public_id}/assignees/", {"investigators": [alpha.investigator.pk]})
    client.post(f"/cases/{case.public_id}/status/", {"status": "under_review"})
    client.post(f"/cases/{case.public_id}/status/", {"status": "closed"})

    # Then the ledger holds each step, about that case, by who did it
    organisation = alpha.organisation
    created = _last(organisation, "case.created")
    assert created.case == case and created.actor_label == alpha.investigator.username
    assert _last(organisation, "note.added").details["note_sha256"] == hashlib.sha256(b"seen at 10:02").hexdigest()
    received = _last(organisation, "evidence.received")
    item = EvidenceItem.objects.get(case=case)
    assert received.evidence == item
    assert set(received.details["digests"]) == {"sha256", "sha1", "md5"}
    assert received.details["digests"]["sha256"] == hashlib.sha256(jpeg_bytes(colour=(5, 6, 7))).hexdigest()
    assert received.details["size"] == item.size and received.details["detected_mime_type"] == "image/jpeg"
    assert received.details["acquisition"]["found_at"] == "https://example.org/p/1"
    assert _last(organisation, "case.updated").details["title"] == {
        "from": "Threats on platform X",
        "to": "Threats on platform Y",
    }
    assigned = _last(organisation, "case.assigned")
    assert assigned.details["assignees"] == [alpha.investigator.username]
    assert assigned.actor_label == alpha.supervisor.username
    assert _last(organisation, "case.status_changed").details == {"from": "open", "to": "under_review"}
    assert _last(organisation, "case.closed").details == {"from": "under_review", "to": "closed"}
    assert custody_verify(organisation).ok


def test_viewing_evidence_on_the_page_and_through_the_api_is_recorded(client, alpha, alpha_item):
    _login(client, alpha.auditor)

    assert client.get(f"/evidence/{alpha_item.public_id}/").status_code == 200
    assert client.get(f"/api/v1/evidence/{alpha_item.public_id}/").status_code == 200

    views = _events(alpha.organisation, "evidence.viewed")
    assert [(v.details["via"], v.actor_label, v.evidence) for v in views] == [
        ("page", alpha.auditor.username, alpha_item),
        ("api", alpha.auditor.username, alpha_item),
    ]


def test_download_is_recorded_before_the_first_byte_is_sent(client, alpha, alpha_item):
    _login(client, alpha.investigator)

    response = client.get(f"/evidence/{alpha_item.public_id}/download/")

    # Then the event exists before the content is read, and the bytes served are the ones received
    downloaded = _last(alpha.organisation, "media.downloaded")
    assert downloaded.evidence == alpha_item and downloaded.details["sha256"] == alpha_item.sha256
    assert response["Content-Length"] == str(alpha_item.size)
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == alpha_item.sha256
    assert not _events(alpha.organisation, "integrity.alarm")


def _stored_path(item) -> str:
    path = storages["evidence"].path(item.storage_key)
    os.chmod(path, 0o640)  # stored read-only; the test plays the disk fault or the intruder
    return path


def test_flipped_stored_byte_raises_an_integrity_alarm_and_cuts_the_download_short(client, alpha, alpha_item):
    # Given one flipped byte in the stored copy
    path = _stored_path(alpha_item)
    with open(path, "r+b") as stored:
        stored.seek(100)
        byte = stored.read(1)
        stored.seek(100)
        stored.write(bytes([byte[0] ^ 0x01]))
    _login(client, alpha.investigator)

    # When it is downloaded
    response = client.get(f"/evidence/{alpha_item.public_id}/download/")
    delivered = []
    with pytest.raises(IntegrityAlarm):
        for chunk in response.streaming_content:
            delivered.append(chunk)

    # Then fewer bytes than announced were delivered, the alarm is in the ledger, and the item page shows it
    assert sum(map(len, delivered)) < alpha_item.size
    alarm = _last(alpha.organisation, "integrity.alarm")
    assert alarm.evidence == alpha_item and alarm.actor_label == alpha.investigator.username
    assert alarm.details["expected_sha256"] == alpha_item.sha256
    assert alarm.details["failed"] == "ciphertext"  # the stored copy is encrypted: its AEAD tag caught the flip
    assert _last(alpha.organisation, "media.downloaded").sequence < alarm.sequence
    page = client.get(f"/evidence/{alpha_item.public_id}/").content.decode()
    assert "Integrity alarm." in page and f"entry {alarm.sequence}" in page


def test_truncated_stored_file_is_refused_with_an_alarm_before_any_byte(client, alpha, alpha_item):
    path = _stored_path(alpha_item)
    with open(path, "r+b") as stored:
        stored.truncate(os.path.getsize(path) - 10)
    _login(client, alpha.supervisor)

    response = client.get(f"/evidence/{alpha_item.public_id}/download/")

    assert response.status_code == 409
    assert "Integrity alarm" in response.content.decode()
    alarm = _last(alpha.organisation, "integrity.alarm")
    assert alarm.details["failed"] == "ciphertext" and "cut short" in alarm.details["finding"]


def test_untouched_item_page_shows_no_alarm(client, alpha, alpha_item):
    _login(client, alpha.supervisor)
    assert "Integrity alarm" not in client.get(f"/evidence/{alpha_item.public_id}/").content.decode()


def test_scheduled_checkpoint_is_recorded_and_only_made_when_there_is_something_new(alpha):
    assert checkpoints_make_all() == 1
    made = _last(alpha.organisation, "checkpoint.made")
    checkpoint = Checkpoint.objects.get(organisation=alpha.organisation)
    assert made.details == {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash, "reason": "schedule"}
    assert made.actor_label == "system:checkpoint"

    # Its own event alone does not call for another checkpoint (the schedule would otherwise sign one per run)
    assert checkpoints_make_all() == 0
    services.case_note_add(case=alpha.case, text="new", actor=alpha.investigator)
    assert checkpoints_make_all() == 1
    assert Checkpoint.objects.filter(organisation=alpha.organisation).latest().tree_size == checkpoint.tree_size + 2


def test_verification_by_command_api_and_page_is_recorded(client, alpha):
    call_command("verify_custody", "--org", alpha.organisation.slug, stdout=io.StringIO())
    _login(client, alpha.auditor)
    assert client.post("/api/v1/custody/verify/").status_code == 200
    assert client.post("/custody/verify/").status_code == 302

    verified = _events(alpha.organisation, "custody.verified")
    assert [(v.details["via"], v.actor_label) for v in verified] == [
        ("command", "system:verify_custody"),
        ("api", alpha.auditor.username),
        ("page", alpha.auditor.username),
    ]
    assert all(v.details["ok"] for v in verified)


def test_review_sign_off_is_recorded_with_its_comment_hash(client, alpha):
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)
    _login(client, alpha.supervisor)

    response = client.post(f"/custody/cases/{alpha.case.public_id}/sign-off/", {"comment": "All items checked."})

    assert response.status_code == 302
    sign_off = ReviewSignOff.objects.get(case=alpha.case)
    event = _last(alpha.organisation, "review.signed_off")
    assert sign_off.event == event and event.case == alpha.case and sign_off.signed_by == alpha.supervisor
    assert event.details["comment_sha256"] == hashlib.sha256(b"All items checked.").hexdigest()


def test_sign_off_of_a_case_not_under_review_is_refused_and_records_nothing(client, alpha):
    _login(client, alpha.supervisor)

    response = client.post(f"/custody/cases/{alpha.case.public_id}/sign-off/", {"comment": "early"}, follow=True)

    assert "not under review" in response.content.decode()
    assert not ReviewSignOff.objects.exists()
    assert not _events(alpha.organisation, "review.signed_off")
