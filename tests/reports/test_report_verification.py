"""Verification of a report PDF by anyone holding it: the API, the public page and `manage.py verify_report`
accept a genuine report and reject a changed byte, another installation's report and a non-PDF, each saying why."""

import io
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from reports.certificates import (
    CERTIFICATE_FILENAME,
    KEY_FILENAME,
    SigningCredentials,
    credentials_create,
    organisation_credentials,
)
from reports.signing import pdf_sign
from reports.verification import MESSAGES, Outcome


@pytest.fixture
def genuine_pdf(alpha, analysed, edited_jpeg, generate):
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)
    with storages["reports"].open(report.storage_key, "rb") as stored:
        return report, stored.read()


def _one_byte_changed(pdf: bytes) -> bytes:
    # A byte of the page content, well inside the signed range, as a careless or deliberate edit would change.
    position = pdf.index(b"stream", len(pdf) // 4) + 40
    altered = bytearray(pdf)
    altered[position] ^= 0x01
    return bytes(altered)


def _other_installation(pdf: bytes, tmp_path) -> bytes:
    """The same document signed by an organisation certificate made by another installation."""
    directory = tmp_path / "elsewhere" / "org"
    credentials_create(directory, organisation_name="Unit Alpha", organisation_id=str(uuid.uuid4()))
    credentials = SigningCredentials(
        key_pem=(directory / KEY_FILENAME).read_bytes(), certificate_pem=(directory / CERTIFICATE_FILENAME).read_bytes()
    )
    return pdf_sign(_unsigned_copy(pdf), credentials, reason="forged")


def _unsigned_copy(pdf: bytes) -> bytes:
    # Everything before the signature's incremental update is the document as rendered.
    return pdf[: pdf.rindex(b"%%EOF", 0, pdf.rindex(b"/Sig")) + len(b"%%EOF\n")]


def _api(client, data: bytes, name="report.pdf"):
    return client.post("/api/v1/reports/verify", {"file": SimpleUploadedFile(name, data)})


def _page(client, data: bytes, name="report.pdf"):
    return client.post("/reports/verify/", {"file": SimpleUploadedFile(name, data)})


def _command(path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_report", str(path), stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def test_genuine_report_is_confirmed_with_its_ids_by_api_page_and_command(client, genuine_pdf, tmp_path):
    report, pdf = genuine_pdf

    answer = _api(client, pdf).json()
    page = _page(client, pdf).content.decode()
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    status, output = _command(path)

    assert answer["genuine"] is True and answer["outcome"] == "genuine"
    assert answer["report"]["id"] == str(report.public_id)
    assert answer["report"]["case"] == str(report.case.public_id)
    assert answer["report"]["evidence"] == [str(report.evidence.public_id)]
    assert answer["sha256"] == report.sha256
    assert str(MESSAGES[Outcome.GENUINE]) in page and str(report.public_id) in page
    assert status == 0 and str(report.public_id) in output and "Genuine" in output


@pytest.mark.parametrize(
    ("make", "outcome"),
    [
        (lambda pdf, tmp: _one_byte_changed(pdf), Outcome.ALTERED),
        (lambda pdf, tmp: _other_installation(pdf, tmp), Outcome.FOREIGN),
        (lambda pdf, tmp: b"\xff\xd8\xff\xe0 not a pdf at all", Outcome.NOT_PDF),
        (lambda pdf, tmp: _unsigned_copy(pdf), Outcome.UNSIGNED),
    ],
    ids=["one-byte-changed", "another-installation", "not-a-pdf", "signature-stripped"],
)
def test_not_genuine_is_rejected_with_its_reason_by_api_page_and_command(client, genuine_pdf, tmp_path, make, outcome):
    report, pdf = genuine_pdf
    suspect = make(pdf, tmp_path)
    path = tmp_path / "suspect.pdf"
    path.write_bytes(suspect)

    answer = _api(client, suspect).json()
    page = _page(client, suspect).content.decode()
    status, output = _command(path)

    assert answer["genuine"] is False
    assert answer["outcome"] == outcome
    assert answer["message"] == str(MESSAGES[outcome])
    assert answer["report"] is None
    # Nothing about the genuine report is disclosed for a file that is not it
    assert str(report.public_id) not in page and str(report.case.public_id) not in str(answer)
    assert str(MESSAGES[outcome]) in page.replace("&#x27;", "'")
    assert status == 1 and str(MESSAGES[outcome]) in output


def test_report_signed_here_but_changed_after_signing_is_not_confirmed(client, genuine_pdf):
    # Given the genuine report with an incremental update appended (the signature still covers its own range)
    report, pdf = genuine_pdf
    appended = pdf + b"\n% annotation added later\n"

    answer = _api(client, appended).json()

    assert answer["genuine"] is False
    assert answer["outcome"] in {Outcome.ALTERED, Outcome.UNKNOWN}
    assert answer["report"] is None


def test_the_organisation_certificate_is_made_once_with_a_private_key_file(alpha, settings):
    first = organisation_credentials(alpha.organisation)
    second = organisation_credentials(alpha.organisation)

    assert first == second
    directory = Path(settings.KEYS_DIR, "reports", str(alpha.organisation.public_id))
    assert (directory / KEY_FILENAME).stat().st_mode & 0o777 == 0o600
    certificate = x509.load_pem_x509_certificate(first.certificate_pem)
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Unit Alpha"


def test_verification_needs_no_account(client, genuine_pdf):
    assert client.get("/reports/verify/").status_code == 200
    assert _api(client, genuine_pdf[1]).status_code == 200
