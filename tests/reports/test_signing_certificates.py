"""Report signatures a reader trusts: an administrator imports the organisation's PKCS#12 (a CA and leaf made here
with `cryptography`) through the page or the API; reports are then signed with that chain, time-stamped by the
TSA (PAdES B-T), and verification states the signer, chain, time-stamp and whether a configured root trusts it.
Rotation keeps earlier reports verifiable; other roles and other organisations change nothing."""

import asyncio
import base64
import datetime
import hashlib
import io
import re
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from custody.models import Action, CheckpointTimestamp, CustodyEvent
from reports.certificates import (
    ACTIVE_FILENAME,
    IMPORTED_DIRECTORY,
    KEY_FILENAME,
    signing_certificate_describe,
)
from reports.models import Report
from reports.verification import Outcome, report_verify
from tests.conftest import PASSWORD
from tests.local_ocsp import LocalOcsp
from tests.local_tsa import LocalFiles, certificate_issue, crl_der, key_new, pem
from tests.loopback_http import HangingResponder
from tests.reports.conftest import pdf_text

P12_PASSWORD = "correct battery"


class ReportPki:
    """A report-signing CA and leaves issued by it, as an organisation's CA would hand them over."""

    def __init__(self, directory: Path, label: str):
        self.directory = directory
        self.root_key = key_new()
        self.root = certificate_issue(subject=f"{label} Report Root CA", key=self.root_key, ca=True, days=3650)
        directory.mkdir(parents=True, exist_ok=True)
        self.roots_file = directory / f"{label.lower()}-roots.pem"
        self.roots_file.write_bytes(pem(self.root))

    def leaf(
        self, name: str, *, days: int = 365, crl_url: str | None = None, ocsp_url: str | None = None
    ) -> tuple[object, x509.Certificate]:
        key = key_new()
        return key, certificate_issue(
            subject=name,
            key=key,
            issuer=self.root,
            issuer_key=self.root_key,
            days=days,
            crl_url=crl_url,
            ocsp_url=ocsp_url,
        )

    def pkcs12(self, name: str, *, password: str = P12_PASSWORD, **kwargs) -> tuple[bytes, x509.Certificate]:
        key, leaf = self.leaf(name, **kwargs)
        data = pkcs12.serialize_key_and_certificates(
            b"reports", key, leaf, [self.root], serialization.BestAvailableEncryption(password.encode())
        )
        return data, leaf


@pytest.fixture
def report_pki(tmp_path) -> ReportPki:
    return ReportPki(tmp_path / "report-pki", "Alpha")


def _import_page(client, data: bytes, password: str = P12_PASSWORD):
    return client.post(
        reverse("reports:signing-certificate"),
        {"file": SimpleUploadedFile("alpha.p12", data), "password": password},
    )


def _import_api(client, data: bytes, password: str = P12_PASSWORD):
    return client.post(
        "/api/v1/organisation/report-certificate/",
        {"file": SimpleUploadedFile("alpha.p12", data), "password": password},
    )


def _report_pdf(tenant, analysed, edited_jpeg, generate) -> bytes:
    item = analysed(tenant.case, edited_jpeg, tenant.investigator)
    report = generate(tenant.investigator, tenant.case, item)
    assert report.status == "done", report.error
    with storages["reports"].open(report.storage_key, "rb") as stored:
        return stored.read()


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def test_report_signed_with_an_imported_chain_is_trusted_only_with_its_root_configured(
    alpha, client, settings, report_pki, local_tsa, analysed, edited_jpeg, generate, tmp_path
):
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing")
    client.login(username=alpha.admin.username, password=PASSWORD)

    response = _import_page(client, data)

    assert response.status_code == 302
    event = CustodyEvent.objects.get(organisation=alpha.organisation, action=Action.REPORT_CERTIFICATE_IMPORTED)
    assert event.details["sha256"] == _fingerprint(leaf) and event.actor == alpha.admin
    assert event.details["chain"] == [report_pki.root.subject.rfc4514_string()]
    directory = Path(settings.KEYS_DIR, "reports", str(alpha.organisation.public_id))
    version = (directory / ACTIVE_FILENAME).read_text().strip()
    key_file = directory / IMPORTED_DIRECTORY / version / KEY_FILENAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and b"PRIVATE KEY" in key_file.read_bytes()
    assert "PRIVATE KEY" not in str(event.details)

    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    trusted = report_verify(pdf)
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = None
    unconfigured = report_verify(pdf)
    other_root = ReportPki(tmp_path / "other-pki", "Other")
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = other_root.roots_file
    other = report_verify(pdf)

    assert trusted.outcome is Outcome.GENUINE and trusted.signature.trusted
    facts = trusted.signature
    assert "Unit Alpha Report Signing" in facts.signer and not facts.self_signed
    assert len(facts.chain) == 1  # the root came with the PKCS#12 and is embedded in the signature
    assert "Alpha Report Root CA" in facts.chain[0] and "Alpha Report Root CA" in facts.trusted_root
    assert facts.level == "B-T" and facts.timestamp is not None and facts.timestamp_trusted
    assert "Test Time-Stamping Unit" in facts.timestamp_authority
    assert unconfigured.outcome is Outcome.GENUINE and not unconfigured.signature.trusted
    assert "No trusted roots are configured" in unconfigured.signature.trust_sentence
    assert other.outcome is Outcome.GENUINE and not other.signature.trusted
    assert "does not chain to any configured root" in other.signature.trust_sentence
    text, _ = pdf_text(pdf)
    assert "Unit Alpha Report Signing" in text and "self-signed certificate made by this installation" not in text
    # The anchor checkpoint's own RFC 3161 token is printed, the one stored for it.
    stamp = CheckpointTimestamp.objects.get(checkpoint=Report.objects.get(sha256=trusted.sha256).checkpoint)
    printed = "".join(text.split())
    assert "Time-stampedat" in printed and base64.b64encode(bytes(stamp.token)).decode()[:200] in printed

    # The command and the public page state the same.
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = io.StringIO()
    call_command("verify_report", str(path), stdout=out)
    assert "signer     " in out.getvalue() and "Alpha Report Root CA" in out.getvalue()
    assert "The signer is trusted" in out.getvalue() and "PAdES B-T" in out.getvalue()
    page = client.post(reverse("reports:verify"), {"file": SimpleUploadedFile("r.pdf", pdf)}).content.decode()
    assert 'data-signature-trusted="yes"' in page and "Alpha Report Root CA" in page
    answer = client.post("/api/v1/reports/verify", {"file": SimpleUploadedFile("r.pdf", pdf)}).json()
    assert answer["signature"]["trusted"] is True and answer["signature"]["level"] == "B-T"


def test_signer_whose_ca_publishes_a_crl_gets_a_long_term_signature(
    alpha, client, settings, report_pki, local_tsa, analysed, edited_jpeg, generate
):
    crl_server = LocalFiles({})
    crl_server.files["/alpha.crl"] = (crl_der(report_pki.root, report_pki.root_key), "application/pkix-crl")
    crl_server.start()
    try:
        data, _ = report_pki.pkcs12("Unit Alpha Report Signing", crl_url=crl_server.url("/alpha.crl"))
        client.login(username=alpha.admin.username, password=PASSWORD)
        assert _import_api(client, data).status_code == 201

        pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    finally:
        crl_server.stop()
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    verification = report_verify(pdf)

    assert crl_server.requests == ["/alpha.crl"]
    assert verification.outcome is Outcome.GENUINE and verification.signature.trusted
    assert verification.signature.level == "B-LT" and verification.signature.timestamp_trusted
    assert b"/DSS" in pdf and b"/CRLs" in pdf


def _embedded_ocsp_statuses(pdf: bytes) -> list[tuple[int, str]]:
    """(serial, status) of every certificate status in the OCSP responses of the PDF's Document Security Store."""
    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    statuses = []
    for stream in dss.get("/OCSPs", []):
        response = asn1_ocsp.OCSPResponse.load(stream.get_object().data)
        for single in response.basic_ocsp_response["tbs_response_data"]["responses"]:
            statuses.append((single["cert_id"]["serial_number"].native, single["cert_status"].name))
    return statuses


@pytest.fixture
def ocsp_responder(report_pki, tmp_path):
    responder = LocalOcsp(tmp_path / "ocsp", report_pki.root, report_pki.root_key)
    responder.start()
    yield responder
    responder.stop()


def test_signer_whose_ca_answers_ocsp_gets_a_long_term_signature_with_the_response_embedded(
    alpha, client, settings, report_pki, local_tsa, ocsp_responder, analysed, edited_jpeg, generate
):
    # Given an imported certificate whose CA answers for it over OCSP (its AIA names the responder)
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing", ocsp_url=ocsp_responder.url)
    ocsp_responder.issued(leaf)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201

    # When a report is signed
    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    verification = report_verify(pdf)

    # Then the responder's answer for the signer is embedded, and the signature is B-LT and trusted
    assert ocsp_responder.requests >= 1
    assert (leaf.serial_number, "good") in _embedded_ocsp_statuses(pdf)
    assert verification.outcome is Outcome.GENUINE and verification.signature.trusted
    assert verification.signature.level == "B-LT" and not verification.signature.revoked

    # And a revocation after the signature does not undo it: the embedded answer is from signing time
    asked = ocsp_responder.requests
    ocsp_responder.revoke(leaf, datetime.datetime.now(datetime.UTC))
    later = report_verify(pdf)
    assert later.signature.trusted and not later.signature.revoked and ocsp_responder.requests == asked


def test_default_self_signed_certificate_says_so_on_the_report_and_is_not_trusted(
    alpha, settings, report_pki, analysed, edited_jpeg, generate
):
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file

    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    verification = report_verify(pdf)

    assert verification.outcome is Outcome.GENUINE
    assert verification.signature.self_signed and not verification.signature.trusted
    assert verification.signature.level == "B-B" and verification.signature.timestamp is None
    assert "self-signed demonstration certificate" in verification.signature.trust_sentence
    text, _ = pdf_text(pdf)
    assert "self-signed certificate made by this installation" in " ".join(text.split())
    assert "no time-stamping authority configured" in " ".join(text.split())


def test_rotation_keeps_earlier_reports_verifiable_and_drops_the_old_key(
    alpha, client, settings, report_pki, analysed, edited_jpeg, generate
):
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    client.login(username=alpha.admin.username, password=PASSWORD)
    first_data, first = report_pki.pkcs12("Alpha Signing 2026")
    assert _import_api(client, first_data).status_code == 201
    earlier = _report_pdf(alpha, analysed, edited_jpeg, generate)
    directory = Path(settings.KEYS_DIR, "reports", str(alpha.organisation.public_id))
    first_version = (directory / ACTIVE_FILENAME).read_text().strip()

    second_data, second = report_pki.pkcs12("Alpha Signing 2027")
    answer = _import_api(client, second_data)
    later = _report_pdf(alpha, analysed, edited_jpeg, generate)

    assert answer.status_code == 201 and answer.json()["fingerprint"] == _fingerprint(second)
    assert client.get("/api/v1/organisation/report-certificate/").json()["fingerprint"] == _fingerprint(second)
    earlier_check, later_check = report_verify(earlier), report_verify(later)
    assert earlier_check.outcome is Outcome.GENUINE and "Alpha Signing 2026" in earlier_check.signature.signer
    assert earlier_check.signature.trusted
    assert later_check.outcome is Outcome.GENUINE and "Alpha Signing 2027" in later_check.signature.signer
    assert not (directory / IMPORTED_DIRECTORY / first_version / KEY_FILENAME).exists()
    events = CustodyEvent.objects.filter(organisation=alpha.organisation, action=Action.REPORT_CERTIFICATE_IMPORTED)
    assert [e.details["replaces_sha256"] for e in events.order_by("sequence")][1] == _fingerprint(first)


@pytest.mark.parametrize("role", ["supervisor", "investigator", "auditor"])
def test_only_administrators_import_and_nothing_changes_otherwise(alpha, client, report_pki, role):
    data, _ = report_pki.pkcs12("Unit Alpha Report Signing")
    before = signing_certificate_describe(alpha.organisation)
    client.login(username=alpha.member(role).username, password=PASSWORD)

    page_get = client.get(reverse("reports:signing-certificate"))
    page_post = _import_page(client, data)
    api_get = client.get("/api/v1/organisation/report-certificate/")
    api_post = _import_api(client, data)

    assert (page_get.status_code, page_post.status_code, api_get.status_code, api_post.status_code) == (
        403,
        403,
        403,
        403,
    )
    assert signing_certificate_describe(alpha.organisation) == before
    assert not CustodyEvent.objects.filter(action=Action.REPORT_CERTIFICATE_IMPORTED).exists()


def test_another_organisations_administrator_changes_only_their_own(alpha, beta, client, report_pki, tmp_path):
    alpha_before = signing_certificate_describe(alpha.organisation)
    beta_pki = ReportPki(tmp_path / "beta-pki", "Beta")
    data, leaf = beta_pki.pkcs12("Unit Beta Report Signing")
    client.login(username=beta.admin.username, password=PASSWORD)

    assert _import_api(client, data).status_code == 201
    page = client.get(reverse("reports:signing-certificate")).content.decode()

    assert signing_certificate_describe(alpha.organisation) == alpha_before
    assert signing_certificate_describe(beta.organisation).fingerprint == _fingerprint(leaf)
    assert "Unit Beta Report Signing" in page and alpha_before.fingerprint not in page
    assert not CustodyEvent.objects.filter(
        organisation=alpha.organisation, action=Action.REPORT_CERTIFICATE_IMPORTED
    ).exists()


def test_unusable_files_are_refused_with_the_reason_and_change_nothing(alpha, client, report_pki):
    good, _ = report_pki.pkcs12("Unit Alpha Report Signing")
    expired_key, expired = report_pki.leaf("Expired", days=-1)
    expired_p12 = pkcs12.serialize_key_and_certificates(
        b"x", expired_key, expired, [], serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )
    _, stranger = report_pki.leaf("Somebody else")
    keyless = pkcs12.serialize_key_and_certificates(
        b"x", None, stranger, [], serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )
    before = signing_certificate_describe(alpha.organisation)
    client.login(username=alpha.admin.username, password=PASSWORD)

    wrong_password = _import_api(client, good, password="guess")
    not_pkcs12 = _import_page(client, b"%PDF-1.7 not a certificate")
    expired_answer = _import_api(client, expired_p12)
    keyless_answer = _import_api(client, keyless)

    assert wrong_password.status_code == 400 and "password is wrong" in wrong_password.json()["detail"]
    assert not_pkcs12.status_code == 400 and "not a PKCS#12" in not_pkcs12.content.decode()
    assert expired_answer.status_code == 400 and "not today" in expired_answer.json()["detail"]
    assert keyless_answer.status_code == 400 and "its private key" in keyless_answer.json()["detail"]
    assert signing_certificate_describe(alpha.organisation) == before
    assert not CustodyEvent.objects.filter(action=Action.REPORT_CERTIFICATE_IMPORTED).exists()


@pytest.mark.parametrize("time_stamped", [True, False], ids=["with a TSA", "without a TSA"])
def test_no_report_is_signed_with_a_certificate_its_ca_has_revoked(
    alpha, client, settings, request, report_pki, ocsp_responder, analysed, edited_jpeg, generate, time_stamped
):
    # Given an imported certificate its CA has since revoked (its OCSP responder says so), with or without a TSA
    if time_stamped:
        request.getfixturevalue("local_tsa")
    else:
        settings.EVIDENCEMEDIA_TSA_URLS = []
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing", ocsp_url=ocsp_responder.url)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201
    ocsp_responder.revoke(leaf, datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1))

    # When a report is requested
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)

    # Then nothing is signed with it: the report fails, saying why and what to do, and holds no file
    assert ocsp_responder.requests >= 1
    assert report.status == "failed" and not report.storage_key
    assert report.error.startswith("SigningCertificateRevoked: The organisation's report-signing certificate is ")
    assert "import a new signing certificate" in report.error
    assert not CustodyEvent.objects.filter(action=Action.REPORT_GENERATED, case=alpha.case).exists()
    client.login(username=alpha.investigator.username, password=PASSWORD)
    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    assert "report-signing certificate is revoked" in page


def test_without_a_tsa_a_certificate_its_ca_answers_good_for_signs(
    alpha, client, settings, report_pki, ocsp_responder, analysed, edited_jpeg, generate
):
    # Given an imported certificate whose OCSP responder answers good, and no TSA
    settings.EVIDENCEMEDIA_TSA_URLS = []
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing", ocsp_url=ocsp_responder.url)
    ocsp_responder.issued(leaf)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201

    # When a report is signed
    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)

    # Then the CA was asked, and the report is signed (B-B: without a TSA there is no time to embed its answer at)
    assert ocsp_responder.requests >= 1
    assert report_verify(pdf).outcome is Outcome.GENUINE


def test_no_report_is_signed_once_the_certificate_has_expired(
    alpha, client, settings, report_pki, analysed, edited_jpeg, generate
):
    # Given an imported certificate valid for a few seconds more (its CA issued it so), and no TSA
    settings.EVIDENCEMEDIA_TSA_URLS = []
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing", days=4 / 86400)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201

    # When a report is requested after it expired
    while datetime.datetime.now(datetime.UTC) <= leaf.not_valid_after_utc:
        time.sleep(0.2)
    item = analysed(alpha.case, edited_jpeg, alpha.investigator)
    report = generate(alpha.investigator, alpha.case, item)

    # Then nothing is signed with it: the report fails, saying when it expired and what to do, and holds no file
    assert report.status == "failed" and not report.storage_key
    assert report.error == (
        "SigningCertificateExpired: The organisation's report-signing certificate (Common Name: Unit Alpha Report "
        "Signing, Organization: Evidence Media test PKI) expired on "
        f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC. No report is signed with it; an administrator must import "
        "a new signing certificate."
    )
    assert not CustodyEvent.objects.filter(action=Action.REPORT_GENERATED, case=alpha.case).exists()
    # and the certificate page and the API say so
    page = client.get(reverse("reports:signing-certificate")).content.decode()
    assert 'data-certificate="expired"' in page and "no report can be signed with it" in page
    described = client.get("/api/v1/organisation/report-certificate/").json()
    assert described["expired"] is True and described["expires_soon"] is False
    dashboard = client.get(reverse("cases:dashboard")).content.decode()
    assert "The report-signing certificate expired on " in dashboard and "every report requested fails" in dashboard


def test_the_certificate_page_warns_a_month_before_the_certificate_or_its_ca_expires(
    alpha, client, report_pki, tmp_path
):
    client.login(username=alpha.admin.username, password=PASSWORD)
    page = client.get(reverse("reports:signing-certificate")).content.decode()
    assert 'data-certificate="expires-soon"' not in page and 'data-certificate="expired"' not in page
    assert 'id="certificate-expiry"' not in client.get(reverse("cases:dashboard")).content.decode()

    # a leaf valid for a year under a CA that ends in ten days
    short_root_key = key_new()
    short_root = certificate_issue(subject="Short Root CA", key=short_root_key, ca=True, days=10)
    leaf_key = key_new()
    leaf = certificate_issue(
        subject="Unit Alpha Report Signing", key=leaf_key, issuer=short_root, issuer_key=short_root_key, days=365
    )
    data = pkcs12.serialize_key_and_certificates(
        b"reports", leaf_key, leaf, [short_root], serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )
    assert _import_api(client, data).status_code == 201

    page = client.get(reverse("reports:signing-certificate")).content.decode()
    assert 'data-certificate="expires-soon"' in page
    assert f"(its CA chain until {short_root.not_valid_after_utc:%Y-%m-%d})" in page
    assert f"expires on {short_root.not_valid_after_utc:%Y-%m-%d %H:%M} UTC" in page
    described = client.get("/api/v1/organisation/report-certificate/").json()
    assert described["expires_soon"] is True and described["expired"] is False
    assert described["usable_until"].startswith(f"{short_root.not_valid_after_utc:%Y-%m-%dT%H:%M}")
    # and the administrators' dashboard says so, with the way to the page; other roles' dashboards do not
    dashboard = client.get(reverse("cases:dashboard")).content.decode()
    assert 'id="certificate-expiry"' in dashboard
    assert f"The report-signing certificate expires on {short_root.not_valid_after_utc:%Y-%m-%d %H:%M} UTC" in dashboard
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    assert 'id="certificate-expiry"' not in client.get(reverse("cases:dashboard")).content.decode()


def test_a_chain_whose_ca_certificate_has_expired_is_refused(alpha, client):
    old_root_key = key_new()
    old_root = certificate_issue(subject="Old Root CA", key=old_root_key, ca=True, days=-1)
    leaf_key = key_new()
    leaf = certificate_issue(subject="Unit Alpha", key=leaf_key, issuer=old_root, issuer_key=old_root_key)
    data = pkcs12.serialize_key_and_certificates(
        b"reports", leaf_key, leaf, [old_root], serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )
    client.login(username=alpha.admin.username, password=PASSWORD)

    answer = _import_api(client, data)

    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(
        "The CA certificate CN=Old Root CA,O=Evidence Media test PKI is valid from "
    )
    assert answer.json()["detail"].endswith(", not today; nothing was imported.")


def test_a_hung_ocsp_responder_or_tsa_delays_signing_by_their_timeout_only(
    alpha, client, settings, report_pki, local_tsa, analysed, edited_jpeg, generate
):
    # Given an imported certificate whose OCSP responder takes requests and never answers, and a first TSA that
    # does the same before a working one
    hung_ocsp, hung_tsa = HangingResponder(), HangingResponder()
    hung_ocsp.start()
    hung_tsa.start()
    settings.EVIDENCEMEDIA_TSA_URLS = [hung_tsa.url, local_tsa.url]
    settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS = 1
    data, _ = report_pki.pkcs12("Unit Alpha Report Signing", ocsp_url=hung_ocsp.url)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201

    # When a report is signed
    try:
        started = time.monotonic()
        pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
        waited = time.monotonic() - started
    finally:
        hung_ocsp.stop()
        hung_tsa.stop()

    # Then both hung services were asked and given up on, and the report is signed and time-stamped by the next
    # TSA, without the revocation answers it could not get (B-T)
    assert hung_tsa.requests >= 1 and hung_ocsp.requests >= 1
    verification = report_verify(pdf)
    assert verification.outcome is Outcome.GENUINE
    assert verification.signature.level == "B-T" and verification.signature.timestamp is not None
    assert waited < 60


def test_signer_revoked_before_its_signature_is_reported_revoked_not_trusted(
    alpha, client, settings, report_pki, local_tsa, ocsp_responder, analysed, edited_jpeg, generate, tmp_path
):
    # Given an imported certificate its OCSP responder does not know yet (so the report is signed B-T, without
    # revocation information), which the CA then revokes as of an hour before the signature (a key compromise)
    data, leaf = report_pki.pkcs12("Unit Alpha Report Signing", ocsp_url=ocsp_responder.url)
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201
    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    ocsp_responder.revoke(leaf, datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1))

    # When it is verified with its root trusted
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    verification = report_verify(pdf)

    # Then the report is intact and ours, but its signer is not trusted: the certificate was revoked
    assert verification.outcome is Outcome.GENUINE
    facts = verification.signature
    assert not facts.trusted and facts.revoked and facts.level == "B-T"
    assert "revoked its certificate" in facts.trust_sentence
    assert ocsp_responder.requests >= 2  # asked when signing (status unknown: B-LT refused) and when verifying
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = io.StringIO()
    call_command("verify_report", str(path), stdout=out)
    assert "revoked its certificate" in out.getvalue() and "The signer is trusted" not in out.getvalue()
    answer = client.post("/api/v1/reports/verify", {"file": SimpleUploadedFile("r.pdf", pdf)}).json()
    assert answer["signature"]["trusted"] is False and answer["signature"]["revoked"] is True


class _RecordingServer:
    """An HTTP server on the loopback that answers 404 to everything and records the paths asked for."""

    def __init__(self):
        paths = self.paths = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                paths.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _time_stamp_token_replaced(pdf: bytes, issuer_url: str) -> bytes:
    """The PDF with its signature's time-stamp token (an unsigned attribute, outside what the signature and the
    byte range cover) replaced by one of a TSA made here, whose certificate names ``issuer_url`` for its issuer."""
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA signs with RSA
    now = datetime.datetime.now(datetime.UTC)
    tsa_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Uploader's TSA")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Uploader's CA")]))
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(issuer_url)
                    )
                ]
            ),
            critical=False,
        )
        .sign(key_new(), hashes.SHA256())
    )
    stamper = DummyTimeStamper(
        asn1_x509.Certificate.load(tsa_certificate.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    contents = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf)
    signed = asn1_cms.ContentInfo.load(bytes.fromhex(contents.group(1).decode()), strict=False)["content"]
    signer_info = signed["signer_infos"][0]
    imprint = hashlib.sha256(signer_info["signature"].native).digest()
    token = asyncio.run(stamper.async_timestamp(imprint, "sha256"))
    signer_info["unsigned_attrs"] = asn1_cms.CMSAttributes(
        [asn1_cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
    )
    replaced = asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump(force=True).hex()
    assert len(replaced) <= len(contents.group(1))
    return pdf[: contents.start(1)] + replaced.encode().ljust(len(contents.group(1)), b"0") + pdf[contents.end(1) :]


def test_uploaded_file_not_issued_here_makes_the_server_fetch_nothing(
    alpha, client, settings, report_pki, local_tsa, analysed, edited_jpeg, generate
):
    # Given a report signed with a trusted imported certificate, whose time-stamp token an anonymous visitor
    # replaced with one whose TSA certificate points the server at an address of the visitor's choosing
    data, _ = report_pki.pkcs12("Unit Alpha Report Signing")
    client.login(username=alpha.admin.username, password=PASSWORD)
    assert _import_api(client, data).status_code == 201
    pdf = _report_pdf(alpha, analysed, edited_jpeg, generate)
    settings.EVIDENCEMEDIA_TRUSTED_ROOTS = report_pki.roots_file
    target = _RecordingServer()
    try:
        tampered = _time_stamp_token_replaced(pdf, f"{target.url}/issuer.crt")

        # When it is verified through the public page
        client.logout()
        answer = client.post(reverse("reports:verify"), {"file": SimpleUploadedFile("r.pdf", tampered)})
    finally:
        target.stop()

    # Then it is not the issued report, and the server asked nothing of the address the file named
    assert answer.status_code == 200 and answer.context["verification"].outcome is Outcome.UNKNOWN
    assert target.paths == []
