"""Ingest: what the system proves it received. Digests, the size limit, true types, duplicates, hostile names."""

import hashlib
import os

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import EvidenceDigest, EvidenceItem
from cases.upload import receive_stream
from tests.conftest import PASSWORD, jpeg_bytes, png_bytes, received

MIB = 1024 * 1024


def _upload(client, case, *files, **fields):
    return client.post(f"/api/v1/cases/{case.public_id}/evidence/", {"files": list(files), **fields})


def _file(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def _expected_digests(data: bytes) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in ("sha256", "sha1", "md5")}


@pytest.fixture
def investigator_client(client, alpha):
    client.login(username=alpha.investigator.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, MIB + 1, 3 * MIB + 7])
def test_receiving_computes_the_three_digests_of_every_size_in_one_pass(size):
    data = os.urandom(size)
    spooled = receive_stream([data[i : i + 65536] for i in range(0, size, 65536)], original_name="x.bin")
    assert spooled.digests == _expected_digests(data)
    assert spooled.size == size
    # The spool holds ciphertext only, which its in-memory data key opens
    sealed = spooled.sealed_spool
    with open(sealed.path, "rb") as spool:
        ciphertext = spool.read()
    # (Checked from 16 bytes on: a shorter plaintext turns up in random ciphertext by chance, one byte about one
    # time in five.)
    assert data[:64] not in ciphertext or len(data) < 16
    with sealed.material.decrypting_stream(open(sealed.path, "rb")) as plaintext:
        assert plaintext.read() == data
    spooled.close()


@pytest.mark.slow
def test_upload_over_64_mib_is_stored_with_digests_equal_to_hashlib(investigator_client, alpha, isolated_storage):
    # Given a JPEG followed by 65 MiB of further bytes (still a JPEG to libmagic)
    data = jpeg_bytes() + os.urandom(65 * MIB)

    # When it is uploaded through the API
    response = _upload(investigator_client, alpha.case, _file(data, "big.jpg"))

    # Then every digest matches hashlib's, and the stored bytes are the received bytes
    assert response.status_code == 201, response.content
    digests = {d["algorithm"]: d["value"] for d in response.json()["items"][0]["digests"]}
    assert digests == _expected_digests(data)
    item = EvidenceItem.objects.get()
    assert item.size == len(data)
    with storages["evidence"].open(item.storage_key, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == digests["sha256"]


def test_stored_item_keeps_each_digest_with_its_algorithm(alpha):
    data = jpeg_bytes()
    item = services.evidence_receive(case=alpha.case, received=received(data), actor=alpha.investigator).item
    stored = dict(EvidenceDigest.objects.filter(item=item).values_list("algorithm", "value"))
    assert stored == _expected_digests(data)
    assert item.digest_list[0] == ("SHA-256", hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("over", [0, 1])
def test_size_limit_refuses_one_byte_over_with_413_and_leaves_nothing(
    investigator_client, alpha, settings, isolated_storage, over
):
    # Given a limit exactly the size of a JPEG, or one byte less
    data = jpeg_bytes()
    settings.EVIDENCE_MAX_UPLOAD_BYTES = len(data) - over

    # When it is uploaded through the API and through the page
    api = _upload(investigator_client, alpha.case, _file(data))
    page = investigator_client.post(f"/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data)]})

    if over:
        # Then both refuse with 413 and a message, and neither a row nor a file remains anywhere
        assert api.status_code == 413
        assert "larger than the limit" in api.json()["detail"]
        assert page.status_code == 413
        assert b"larger than the limit" in page.content
        assert EvidenceItem.objects.count() == 0
        assert _stored_files(isolated_storage) == []
    else:
        assert api.status_code == 201
        assert page.status_code == 302


def test_unsupported_type_is_refused_with_415_naming_what_was_seen(investigator_client, alpha, isolated_storage):
    response = _upload(investigator_client, alpha.case, _file(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "photo.jpg"))
    assert response.status_code == 415
    assert "application/pdf" in response.json()["detail"]
    assert "PDF document" in response.json()["detail"]
    assert EvidenceItem.objects.count() == 0
    assert _stored_files(isolated_storage) == []


def _with_comments(jpeg: bytes, count: int) -> bytes:
    """A JPEG with `count` COM segments after its SOI: at 64, libmagic's description gives up on the file."""
    return jpeg[:2] + b"".join(b"\xff\xfe\x00\x06no. " for _ in range(count)) + jpeg[2:]


def test_a_jpeg_libmagic_cannot_describe_is_received_as_the_jpeg_it_is(investigator_client, alpha, isolated_storage):
    response = _upload(investigator_client, alpha.case, _file(_with_comments(jpeg_bytes(), 200), "many-notes.jpg"))

    assert response.status_code == 201
    item = EvidenceItem.objects.get()
    assert item.detected_mime_type == "image/jpeg"
    assert len(_stored_files(isolated_storage)) == 1


def test_empty_file_is_refused_with_415_naming_empty(investigator_client, alpha):
    response = _upload(investigator_client, alpha.case, _file(b"", "empty.jpg"))
    assert response.status_code == 415
    assert "empty (inode/x-empty)" in response.json()["detail"]


def test_page_upload_of_an_unsupported_type_says_what_was_seen(investigator_client, alpha):
    page = investigator_client.post(
        f"/cases/{alpha.case.public_id}/evidence/", {"files": [_file(b"just some text\n", "clip.mp4", "video/mp4")]}
    )
    assert page.status_code == 415
    assert b"text/plain" in page.content


def test_extension_and_declared_type_mismatch_is_accepted_and_recorded(investigator_client, alpha):
    # Given PNG bytes named .jpg and declared as image/jpeg
    response = _upload(investigator_client, alpha.case, _file(png_bytes(), "holiday.jpg", "image/jpeg"))

    # Then the item is kept as evidence, typed by its bytes, with both disagreements recorded in words
    assert response.status_code == 201
    body = response.json()["items"][0]
    assert body["detected_mime_type"] == "image/png"
    assert body["declared_mime_type"] == "image/jpeg"
    assert any("'.jpg'" in problem and "PNG" in problem for problem in body["type_mismatches"])
    assert any("declared 'image/jpeg'" in problem for problem in body["type_mismatches"])


def test_matching_extension_and_type_records_no_mismatch(alpha):
    item = services.evidence_receive(
        case=alpha.case, received=received(png_bytes(), "scan.PNG", "image/png"), actor=alpha.investigator
    ).item
    assert item.type_mismatches == []


def test_same_bytes_twice_in_one_organisation_are_stored_once_and_named_duplicate(
    investigator_client, alpha, isolated_storage
):
    data = jpeg_bytes()
    first = _upload(investigator_client, alpha.case, _file(data, "a.jpg")).json()["items"][0]
    second = _upload(investigator_client, alpha.case, _file(data, "b.jpg")).json()["items"][0]
    assert second["duplicate_of"] == first["id"]
    assert first["duplicate_of"] is None
    assert len(_stored_files(isolated_storage / "evidence")) == 1
    page = investigator_client.post(f"/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data, "c.jpg")]})
    assert f"already received as “a.jpg” in case {alpha.case.reference}" in (
        investigator_client.get(page["Location"]).content.decode()
    )


def test_same_bytes_in_another_organisation_reveal_nothing_of_the_first(client, alpha, beta, isolated_storage):
    data = jpeg_bytes()
    services.evidence_receive(case=alpha.case, received=received(data), actor=alpha.investigator)
    client.login(username=beta.investigator.username, password=PASSWORD)

    response = _upload(client, beta.case, _file(data))

    body = response.json()["items"][0]
    assert response.status_code == 201
    assert body["duplicate_of"] is None
    alpha_item = EvidenceItem.objects.in_organisation(alpha.organisation).get()
    assert str(alpha_item.public_id) not in response.content.decode()
    assert EvidenceItem.objects.get(public_id=body["id"]).storage_key != alpha_item.storage_key
    assert len(_stored_files(isolated_storage / "evidence")) == 2


HOSTILE_NAMES = [
    "../../../etc/passwd.jpg",
    "a\x00b.jpg",
    "line\r\nbreak.jpg",
    "x" * 300 + ".jpg",
    "....",
    "фото 📷 証拠.jpg",
    "invoice\u202egpj.exe",
    "<script>alert(1)</script>.jpg",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_filenames_are_kept_as_data_and_never_reach_a_path(client, alpha, isolated_storage, name):
    # Given bytes received under a hostile name
    item = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes(), name), actor=alpha.investigator)
    item = item.item

    # Then the name is stored without control or format characters, and storage used only the hash
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e" for ch in item.original_filename)
    assert item.storage_key == services.evidence_storage_key(organisation=alpha.organisation, sha256=item.sha256)
    assert item.sha256 not in item.storage_key
    assert [p.name for p in _stored_files(isolated_storage / "evidence")] == [item.storage_key.rsplit("/", 1)[1]]

    # And the pages show it escaped
    client.login(username=alpha.investigator.username, password=PASSWORD)
    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    assert "<script>alert" not in page


def test_control_characters_are_made_visible_not_dropped(alpha):
    item = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(), "a\x00b\r\n.jpg"), actor=alpha.investigator
    ).item
    assert item.original_filename == "a\\u0000b\\u000d\\u000a.jpg"


def test_upload_through_http_keeps_unicode_name_and_escapes_markup(investigator_client, alpha):
    response = _upload(investigator_client, alpha.case, _file(jpeg_bytes(), "<img src=x onerror=alert(1)> фото.jpg"))
    assert response.json()["items"][0]["original_filename"] == "<img src=x onerror=alert(1)> фото.jpg"
    page = investigator_client.get(f"/cases/{alpha.case.public_id}/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt; фото.jpg" in page
    assert "<img src=x" not in page


def test_http_upload_name_is_kept_as_the_client_sent_it(investigator_client, alpha):
    # The test client itself sends only what follows the last "/"; the server keeps the rest, backslashes and
    # dots included (tests/cases/test_client_file_names.py sends whole paths).
    response = _upload(investigator_client, alpha.case, _file(jpeg_bytes(), "../../evil/..\\photo 1.jpg"))
    assert response.json()["items"][0]["original_filename"] == "..\\photo 1.jpg"


def test_several_files_in_one_upload_are_each_received_or_refused(investigator_client, alpha):
    response = _upload(investigator_client, alpha.case, _file(jpeg_bytes(), "a.jpg"), _file(b"plain words\n", "b.jpg"))
    body = response.json()
    assert response.status_code == 201
    assert [i["original_filename"] for i in body["items"]] == ["a.jpg"]
    assert body["refused"][0]["file"] == "b.jpg"
    assert "text/plain" in body["refused"][0]["detail"]


def test_acquisition_context_is_recorded(investigator_client, alpha):
    response = _upload(
        investigator_client,
        alpha.case,
        _file(jpeg_bytes()),
        found_at="https://social.example/post/123",
        collected_by="Caseworker R.",
        collected_at="2026-11-20T10:15:00Z",
    )
    item = response.json()["items"][0]
    assert item["found_at"] == "https://social.example/post/123"
    assert item["collected_by"] == "Caseworker R."
    assert item["collected_at"] == "2026-11-20T10:15:00Z"


def test_case_references_are_generated_unique_and_sequential(alpha):
    first = services.case_create(organisation=alpha.organisation, title="a", actor=alpha.admin)
    second = services.case_create(organisation=alpha.organisation, title="b", actor=alpha.admin)
    year = first.created_at.year
    number = int(first.reference.rsplit("-", 1)[1])
    assert first.reference == f"EM-{year}-{number:05d}"
    assert second.reference == f"EM-{year}-{number + 1:05d}"


def test_no_declared_type_is_stored_empty_and_is_no_mismatch(alpha):
    item = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(), "photo.jpg", declared_type=""), actor=alpha.investigator
    ).item
    assert item.declared_mime_type == ""
    assert item.type_mismatches == []
