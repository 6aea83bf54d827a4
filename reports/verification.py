"""Is this PDF a report this installation issued, unaltered? Answers for anyone holding the file, disclosing only
the report's own ids and date: the file's SHA-256 must be that of a generated Report and of the `report.generated`
event in the custody ledger (whose seal must hold), and its PAdES signature must be intact and made with one of the
issuing organisation's certificates (in force or superseded).

It also states what a PDF reader would conclude about the signature: the signer and its chain, the signature's
RFC 3161 time-stamp and its TSA, the PAdES level, and whether the signer chains to a root this installation is
configured to trust (EVIDENCEMEDIA_TRUSTED_ROOTS), judged at the time-stamp's time when there is one."""

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from custody.canonical import entry_hash
from custody.chain import entry_signing_payload
from custody.keys import public_keys
from custody.ledger import ledger_entries
from custody.models import Action, CustodyEvent
from custody.signing import verify
from custody.timestamps import tsa_trusted_roots

from .certificates import KnownCertificate, known_certificates
from .models import Report, ReportStatus
from .signing import asn1_certificate, asn1_certificates

logger = logging.getLogger(__name__)

# Far above any report this system writes; keeps a hostile upload from being parsed at length.
MAX_REPORT_BYTES = 64 * 1024 * 1024


class Outcome(StrEnum):
    GENUINE = "genuine"
    NOT_PDF = "not_pdf"
    TOO_LARGE = "too_large"
    UNSIGNED = "unsigned"
    FOREIGN = "foreign"
    ALTERED = "altered"
    UNKNOWN = "unknown"
    LEDGER_MISMATCH = "ledger_mismatch"


MESSAGES = {
    Outcome.GENUINE: gettext_lazy(
        "Genuine: this is a report issued by this system, unaltered. Its SHA-256 matches the custody ledger and its "
        "digital signature by the issuing organisation is valid."
    ),
    Outcome.NOT_PDF: gettext_lazy("Not a report: this file is not a readable PDF document."),
    Outcome.TOO_LARGE: lazy(
        lambda: (
            _("Not a report: the file is larger than %(megabytes)d MB, far larger than any report this system issues.")
            % {"megabytes": MAX_REPORT_BYTES // (1024 * 1024)}
        ),
        str,
    )(),
    Outcome.UNSIGNED: gettext_lazy("Not a report issued by this system: the PDF carries no digital signature."),
    Outcome.FOREIGN: gettext_lazy(
        "Not a report issued by this system: the PDF is signed with a certificate this installation does not know. "
        "It may come from another installation, or have been re-signed."
    ),
    Outcome.ALTERED: gettext_lazy(
        "Altered: this PDF was signed by this system, but its content has changed since it was signed."
    ),
    Outcome.UNKNOWN: gettext_lazy(
        "Not a report issued by this system as it stands: the signature is intact, but this exact file was never "
        "issued here (something was added or changed after signing)."
    ),
    Outcome.LEDGER_MISMATCH: gettext_lazy(
        "Cannot be confirmed: the file matches an issued report, but the custody ledger's record of it is missing "
        "or does not verify. Ask the issuing organisation to verify its custody ledger."
    ),
}


@dataclass(frozen=True)
class SignatureFacts:
    """What the report's signature says and whom it answers to, as a PDF reader would judge it."""

    signer: str
    chain: list[str]  # the signer's CA certificates embedded in the signature, issuer first
    self_signed: bool  # the installation's demo default, not a certificate from a CA
    level: str  # PAdES baseline level: B-B, B-T (time-stamped) or B-LT (revocation information embedded)
    timestamp: datetime | None
    timestamp_authority: str
    timestamp_trusted: bool  # the time-stamp's TSA chains to a configured TSA root
    trusted: bool  # the signer chains to a root in EVIDENCEMEDIA_TRUSTED_ROOTS
    trusted_root: str
    roots_configured: bool
    revoked: bool = False  # the signer's CA revoked its certificate before the signature's time

    @property
    def trust_sentence(self) -> str:
        if self.revoked:
            return _(
                "The signer is not trusted: its CA has revoked its certificate (revocation status published by the "
                "CA), before the time of this signature."
            )
        if self.trusted:
            return _("The signer is trusted: its certificate chains to %(root)s, a configured root.") % {
                "root": self.trusted_root
            }
        if self.self_signed:
            return _(
                "The signer is not trusted by any configured root: this report is signed with the installation's "
                "self-signed demonstration certificate, which no PDF reader trusts."
            )
        if not self.roots_configured:
            return _(
                "No trusted roots are configured here (EVIDENCEMEDIA_TRUSTED_ROOTS), so the signer is not trusted."
            )
        return _("The signer is not trusted: its certificate does not chain to any configured root.")


@dataclass(frozen=True)
class ReportVerification:
    outcome: Outcome
    sha256: str = ""
    report_id: str = ""
    kind: str = ""
    case_id: str = ""
    evidence_ids: list[str] = field(default_factory=list)
    generated_at: datetime | None = None
    signature: SignatureFacts | None = None

    @property
    def genuine(self) -> bool:
        return self.outcome is Outcome.GENUINE

    @property
    def message(self) -> str:
        return str(MESSAGES[self.outcome])


def report_verify_file(file) -> ReportVerification:
    """Check an open binary file (an upload or a local file), reading no more than a report can be."""
    return report_verify(file.read(MAX_REPORT_BYTES + 1))


def report_verify(data: bytes) -> ReportVerification:
    """Check an uploaded file; never raises for anything the file contains."""
    if len(data) > MAX_REPORT_BYTES:
        return ReportVerification(Outcome.TOO_LARGE)
    sha256 = hashlib.sha256(data).hexdigest()
    if b"%PDF-" not in data[:1024]:  # where readers look for the header
        return ReportVerification(Outcome.NOT_PDF, sha256)
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # whatever a damaged or hostile file makes the parser raise, it is not a readable PDF
        logger.info("Uploaded file is not a readable PDF", exc_info=True)
        return ReportVerification(Outcome.NOT_PDF, sha256)
    if not signatures:
        return ReportVerification(Outcome.UNSIGNED, sha256)
    signature = signatures[-1]
    try:
        fingerprint = bytes(signature.signer_cert.sha256)
    except Exception:  # a signature dictionary whose CMS blob does not parse names no signer we know
        logger.info("Uploaded PDF has an unreadable signature", exc_info=True)
        return ReportVerification(Outcome.ALTERED, sha256)
    signer = known_certificates().get(fingerprint)
    if signer is None:
        return ReportVerification(Outcome.FOREIGN, sha256)
    if not _signature_valid(signature, signer):
        return ReportVerification(Outcome.ALTERED, sha256)
    report = (
        Report.objects.filter(
            sha256=sha256, status=ReportStatus.DONE, case__organisation__public_id=signer.organisation_id
        )
        .select_related("case", "evidence")
        .first()
    )
    # Only a file issued here, byte for byte, has its signer's revocation status fetched: in any other, the
    # time-stamp token and certificates beside the signature (outside what it signs) are the uploader's, and
    # their URLs would be fetched by this server for an anonymous visitor.
    facts = signature_facts(signature, signer, data, fetch_revocation=report is not None)
    if report is None:
        return ReportVerification(Outcome.UNKNOWN, sha256, signature=facts)
    recorded = _ledger_record(report)
    if recorded is None:
        return ReportVerification(Outcome.LEDGER_MISMATCH, sha256, signature=facts)
    return ReportVerification(
        Outcome.GENUINE,
        sha256,
        report_id=str(report.public_id),
        kind=report.kind,
        case_id=str(report.case.public_id),
        evidence_ids=list(recorded.get("evidence", [])),
        generated_at=report.generated_at,
        signature=facts,
    )


def _signature_valid(signature, signer: KnownCertificate) -> bool:
    """Intact, cryptographically valid, made with this certificate, and covering the whole file.

    The certificate itself is the trust anchor here (this installation issued it), checked at the time the
    signature claims, so that a certificate expired or superseded since still verifies the reports it signed."""
    context = ValidationContext(
        trust_roots=[asn1_certificate(signer.certificate_pem), *tsa_trusted_roots()],
        other_certs=asn1_certificates(signer.chain_pem),  # issuers of embedded CRLs
        allow_fetching=False,
        moment=signature.self_reported_timestamp,
    )
    try:
        status = validate_pdf_signature(signature, context, skip_diff=False)
    except Exception:  # a signature that cannot even be evaluated is not a valid one
        logger.info("Report signature could not be validated", exc_info=True)
        return False
    # B-LT appends the revocation information in a revision of its own after the signature: allowed, and only that.
    covered = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level == ModificationLevel.LTA_UPDATES
    )
    return status.intact and status.valid and covered


def signature_facts(signature, signer: KnownCertificate, data: bytes, *, fetch_revocation: bool) -> SignatureFacts:
    """The signer, chain, time-stamp, PAdES level and trust of an intact signature by one of our certificates;
    without ``fetch_revocation``, nothing is fetched over the network (revocation unchecked, as with soft-fail)."""
    chain = asn1_certificates(signer.chain_pem)
    tsa_roots = tsa_trusted_roots()
    roots = trusted_roots()
    timestamp, tsa, tsa_trusted = _timestamp(signature, tsa_roots)
    dss = _document_security_store(data)
    trusted, root, revoked = False, "", False
    if roots:
        try:
            status = validate_pdf_signature(
                signature, _trust_context(chain, roots, dss, timestamp, tsa_trusted, fetch=fetch_revocation)
            )
        except Exception:  # an untrusted chain is reported as such, never as an error
            logger.info("Report signer's trust could not be established", exc_info=True)
        else:
            if status.trusted and status.validation_path is not None:
                trusted, root = True, status.validation_path.trust_anchor.authority.name.human_friendly
            revoked = status.trust_problem_indic in (
                AdESIndeterminate.REVOKED_NO_POE,
                AdESIndeterminate.REVOKED_CA_NO_POE,
            )
    return SignatureFacts(
        signer=signature.signer_cert.subject.human_friendly,
        chain=[certificate.subject.human_friendly for certificate in chain],
        self_signed=signer.self_signed,
        level="B-LT" if timestamp and _revocation_info_embedded(dss) else "B-T" if timestamp else "B-B",
        timestamp=timestamp,
        timestamp_authority=tsa,
        timestamp_trusted=tsa_trusted,
        trusted=trusted,
        trusted_root=root,
        roots_configured=bool(roots),
        revoked=revoked,
    )


def trusted_roots() -> list:
    """The roots whose report signers this installation calls trusted (EVIDENCEMEDIA_TRUSTED_ROOTS); [] if none."""
    path = settings.EVIDENCEMEDIA_TRUSTED_ROOTS
    return asn1_certificates(path.read_bytes()) if path else []


def _timestamp(signature, tsa_roots: list) -> tuple[datetime | None, str, bool]:
    """The signature time-stamp's time and TSA, and whether the TSA chains to a configured TSA root."""
    # With no TSA root configured the token is still checked for integrity; it just cannot be trusted.
    context = ValidationContext(trust_roots=tsa_roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context, ts_validation_context=context, skip_diff=True)
    except Exception:  # a time-stamp that cannot be evaluated is reported as untrusted
        logger.info("Report signature time-stamp could not be validated", exc_info=True)
        return None, "", False
    stamp = status.timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid):
        return None, "", False
    return stamp.timestamp, stamp.signing_cert.subject.human_friendly, bool(tsa_roots) and stamp.trusted


def _trust_context(chain: list, roots: list, dss, timestamp, tsa_trusted: bool, *, fetch: bool) -> ValidationContext:
    """Where the signer's trust is judged: at the time-stamp's time when a trusted TSA vouches for it, with the
    revocation information embedded at signing (B-LT) or, without any, the status its CA publishes now, fetched
    (a signer revoked before that time is not trusted; an unreachable responder leaves revocation unchecked, as a
    PDF reader's soft-fail does). ``fetch`` only for a file issued here byte for byte, whose certificates and
    time-stamp token are all this installation's, so that only their CAs' URLs are fetched."""
    kwargs = {
        "trust_roots": roots,
        "other_certs": chain,
        "moment": timestamp if tsa_trusted else None,
        "revocation_mode": "soft-fail",
        "allow_fetching": fetch and not _revocation_info_embedded(dss),
        "fetcher_backend": RequestsFetcherBackend(per_request_timeout=settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS),
    }
    return dss.as_validation_context(kwargs) if dss is not None else ValidationContext(**kwargs)


def _document_security_store(data: bytes) -> DocumentSecurityStore | None:
    """The PDF's Document Security Store (the revocation information a B-LT signature carries), if any."""
    try:
        return DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(data), strict=False))
    except Exception:  # no DSS, or a damaged one: no revocation information
        return None


def _revocation_info_embedded(dss: DocumentSecurityStore | None) -> bool:
    """Does the Document Security Store hold revocation information (OCSP responses or CRLs)?"""
    return dss is not None and bool(dss.ocsps or dss.crls)


def _ledger_record(report: Report) -> dict | None:
    """The details of the sealed `report.generated` event of this report naming exactly its SHA-256, if any."""
    events = CustodyEvent.objects.filter(
        organisation=report.case.organisation_id, case=report.case, action=Action.REPORT_GENERATED
    ).filter(details__report=str(report.public_id))
    keys = public_keys()
    for entry in ledger_entries(events):
        sealed = entry_hash(entry) == entry["entry_hash"] and verify(
            keys, entry["key_id"], entry_signing_payload(entry["entry_hash"]), entry["signature"]
        )
        if sealed and entry["details"].get("sha256") == report.sha256:
            return entry["details"]
    return None
