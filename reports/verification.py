"""Is this PDF a report this installation issued, unaltered? Answers for anyone holding the file, disclosing only
the report's own ids and date: the file's SHA-256 must be that of a generated Report and of the `report.generated`
event in the custody ledger (whose seal must hold), and its PAdES signature must be intact and made with the
issuing organisation's certificate."""

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from custody.canonical import entry_hash
from custody.chain import entry_signing_payload
from custody.keys import public_keys
from custody.ledger import ledger_entries
from custody.models import Action, CustodyEvent
from custody.signing import verify

from .certificates import known_certificates
from .models import Report, ReportStatus
from .signing import asn1_certificate

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
    Outcome.GENUINE: "Genuine: this is a report issued by this system, unaltered. Its SHA-256 matches the custody "
    "ledger and its digital signature by the issuing organisation is valid.",
    Outcome.NOT_PDF: "Not a report: this file is not a readable PDF document.",
    Outcome.TOO_LARGE: f"Not a report: the file is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB, far larger "
    "than any report this system issues.",
    Outcome.UNSIGNED: "Not a report issued by this system: the PDF carries no digital signature.",
    Outcome.FOREIGN: "Not a report issued by this system: the PDF is signed with a certificate this installation "
    "does not know. It may come from another installation, or have been re-signed.",
    Outcome.ALTERED: "Altered: this PDF was signed by this system, but its content has changed since it was signed.",
    Outcome.UNKNOWN: "Not a report issued by this system as it stands: the signature is intact, but this exact file "
    "was never issued here (something was added or changed after signing).",
    Outcome.LEDGER_MISMATCH: "Cannot be confirmed: the file matches an issued report, but the custody ledger's record "
    "of it is missing or does not verify. Ask the issuing organisation to verify its custody ledger.",
}


@dataclass(frozen=True)
class ReportVerification:
    outcome: Outcome
    sha256: str = ""
    report_id: str = ""
    kind: str = ""
    case_id: str = ""
    evidence_ids: list[str] = field(default_factory=list)
    generated_at: datetime | None = None

    @property
    def genuine(self) -> bool:
        return self.outcome is Outcome.GENUINE

    @property
    def message(self) -> str:
        return MESSAGES[self.outcome]


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
    organisation_id, certificate_pem = signer
    if not _signature_valid(signature, certificate_pem):
        return ReportVerification(Outcome.ALTERED, sha256)
    report = (
        Report.objects.filter(sha256=sha256, status=ReportStatus.DONE, case__organisation__public_id=organisation_id)
        .select_related("case", "evidence")
        .first()
    )
    if report is None:
        return ReportVerification(Outcome.UNKNOWN, sha256)
    recorded = _ledger_record(report)
    if recorded is None:
        return ReportVerification(Outcome.LEDGER_MISMATCH, sha256)
    return ReportVerification(
        Outcome.GENUINE,
        sha256,
        report_id=str(report.public_id),
        kind=report.kind,
        case_id=str(report.case.public_id),
        evidence_ids=list(recorded.get("evidence", [])),
        generated_at=report.generated_at,
    )


def _signature_valid(signature, certificate_pem: bytes) -> bool:
    """Intact, cryptographically valid, made with this certificate, and covering the whole file."""
    context = ValidationContext(trust_roots=[asn1_certificate(certificate_pem)], allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context)
    except Exception:  # a signature that cannot even be evaluated is not a valid one
        logger.info("Report signature could not be validated", exc_info=True)
        return False
    return status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE


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
