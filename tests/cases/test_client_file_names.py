"""The client's file name is evidence: kept exactly as sent (Django's parser would keep only what follows the last
slash), escaped wherever it is shown, and never part of a stored path."""

import re

import pytest

from cases.models import EvidenceItem
from tests.conftest import PASSWORD, jpeg_bytes

BOUNDARY = "----evidence-media-test-boundary"
SCRIPT_NAME = "<script>alert(1)</script>.jpg"


def _multipart(files: list[tuple[str, bytes]], **fields) -> bytes:
    """A multipart body written by hand: the test client's own encoder would cut the names the way Django's
    parser does, which is what is under test."""
    parts = []
    for name, data in files:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{quoted}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    for key, value in fields.items():
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _post(client, url: str, files, **fields):
    body = _multipart(files, **fields)
    return client.generic("POST", url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


@pytest.fixture
def investigator_client(client, alpha):
    client.login(username=alpha.investigator.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "sent",
    [
        SCRIPT_NAME,
        "../../etc/passwd.jpg",
        "C:\\Users\\victim\\Pictures\\photo 1.jpg",
        "tom &amp; jerry.jpg",  # an entity is part of the name, not something to decode
    ],
)
def test_api_upload_keeps_the_name_exactly_as_sent(investigator_client, alpha, sent):
    response = _post(investigator_client, f"/api/v1/cases/{alpha.case.public_id}/evidence/", [(sent, jpeg_bytes())])

    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["original_filename"] == sent
    item = EvidenceItem.objects.get(case=alpha.case)
    assert item.original_filename == sent
    # The stored path is content-addressed (organisation id / digest): nothing of the name reaches it
    assert re.fullmatch(r"[0-9a-f-]{36}/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", item.storage_key)


def test_page_upload_keeps_the_name_and_every_page_shows_it_escaped(investigator_client, alpha):
    response = _post(
        investigator_client,
        f"/cases/{alpha.case.public_id}/evidence/",
        [(SCRIPT_NAME, jpeg_bytes()), ("second/half.jpg", jpeg_bytes(colour=(1, 2, 3)))],
    )

    assert response.status_code in {200, 302}
    names = set(EvidenceItem.objects.filter(case=alpha.case).values_list("original_filename", flat=True))
    assert names == {SCRIPT_NAME, "second/half.jpg"}
    item = EvidenceItem.objects.get(original_filename=SCRIPT_NAME)
    for url in (f"/cases/{alpha.case.public_id}/", f"/evidence/{item.public_id}/"):
        page = investigator_client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in page, url
        assert "<script>alert(1)" not in page, url


def test_a_part_without_a_file_name_is_still_no_file(investigator_client, alpha):
    response = _post(investigator_client, f"/api/v1/cases/{alpha.case.public_id}/evidence/", [("", jpeg_bytes())])

    assert response.status_code == 400
    assert not EvidenceItem.objects.exists()


def test_foreign_case_upload_with_a_crafted_name_is_404_and_keeps_nothing(client, alpha, beta):
    client.login(username=beta.admin.username, password=PASSWORD)

    response = _post(client, f"/api/v1/cases/{alpha.case.public_id}/evidence/", [(SCRIPT_NAME, jpeg_bytes())])

    assert response.status_code == 404
    assert not EvidenceItem.objects.exists()
