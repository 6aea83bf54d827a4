"""PAdES signing of a rendered report with its organisation's certificate (pyHanko), so that any PDF reader
shows who signed the report and whether it changed since.

The signer's CA chain is embedded. With a Time-Stamping Authority configured the signature is PAdES B-T: its
signature time-stamp comes from the first of the TSAs (EVIDENCEMEDIA_TSA_URLS, the ones that stamp checkpoints)
that answers; and B-LT when the signer's certificate names where its revocation status can be fetched (CRL or
OCSP) and that succeeds: the answers are embedded, so the signature can be checked after the certificate expires.
Without a TSA, or with every TSA down, the report is still signed (B-B), and its verification says so. When the CA
answers that the signer's certificate (or a CA certificate above it) is revoked, nothing is signed: every reader would
refuse such a signature, and the report fails with the reason (`SigningCertificateRevoked`); without a TSA the CA
is asked for that alone. Likewise when the signer's certificate, or one above it, has expired (or is not valid yet):
a signature made outside the certificate's validity is one no reader accepts (`SigningCertificateExpired`).
"""

import asyncio
import datetime
import io
import logging

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError, ValidationError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .certificates import SigningCredentials

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "EvidenceMediaReport"


class SigningCertificateRevoked(Exception):
    """The CA says the organisation's signing certificate, or a CA certificate above it, is revoked."""


class SigningCertificateExpired(Exception):
    """The organisation's signing certificate, or a CA certificate above it, is outside its validity period."""


def asn1_certificate(pem: bytes) -> asn1_x509.Certificate:
    return next(iter(load_certs_from_pemder_data(pem)))


def asn1_certificates(pem: bytes) -> list[asn1_x509.Certificate]:
    return list(load_certs_from_pemder_data(pem)) if pem.strip() else []


def pdf_sign(
    pdf: bytes, credentials: SigningCredentials, *, reason: str, tsa_urls: list[str] = (), tsa_roots: list = ()
) -> bytes:
    """Return `pdf` with a PAdES signature covering the whole file, at the highest level reachable now: B-LT,
    B-T, or B-B when no TSA answers. `tsa_roots` let the TSA's own certificates be validated for B-LT."""
    certificate, chain = asn1_certificate(credentials.certificate_pem), asn1_certificates(credentials.chain_pem)
    _refuse_outside_validity([certificate, *chain])
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=load_private_key_from_pemder_data(credentials.key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    revocation_published = _revocation_published(signer.signing_cert) and bool(chain)
    if revocation_published and not tsa_urls:
        # Without a TSA nothing below asks the CA, and a revoked certificate must not sign unasked.
        _refuse_if_revoked(signer, chain[-1])
    for url in tsa_urls:
        timestamper = RequestsHTTPTimeStamper(url, timeout=settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS)
        if revocation_published:
            try:
                return _sign(pdf, signer, reason, timestamper, long_term=[chain[-1], *tsa_roots])
            except (SigningError, ValidationError, PathBuildingError, PathValidationError, OSError) as error:
                # pyHanko's check of the signer's own path, before signing, is the one that raises from a RevokedError.
                if isinstance(error, SigningError) and isinstance(error.__cause__, RevokedError):
                    raise _revoked(error.__cause__) from error
                logger.warning("Report signature without revocation information (B-T): %s", error)
        try:
            return _sign(pdf, signer, reason, timestamper)
        except (TimestampRequestError, OSError) as error:
            logger.warning("Time-stamping authority %s did not time-stamp a report signature: %s", url, error)
    return _sign(pdf, signer, reason, None)


def _sign(pdf: bytes, signer, reason: str, timestamper, long_term: list | None = None) -> bytes:
    """Sign; with `long_term` (the trust roots of the signer and the TSA) fetch and embed the revocation
    information of both chains (B-LT), failing rather than embedding less."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        embed_validation_info=long_term is not None,
        validation_context=None
        if long_term is None
        else ValidationContext(
            trust_roots=long_term, allow_fetching=True, revocation_mode="hard-fail", fetcher_backend=_fetchers()
        ),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.PdfSigner(metadata, signer, timestamper=timestamper).sign_pdf(writer).getvalue()


def _refuse_if_revoked(signer, root: asn1_x509.Certificate) -> None:
    """Ask the CA about the signer's path (its CRL or OCSP responder) and raise SigningCertificateRevoked when it
    answers revoked. A CA that cannot be reached, or does not know the certificate, refuses nothing: the report is
    signed, and its verification asks again."""
    context = ValidationContext(
        trust_roots=[root], allow_fetching=True, revocation_mode="soft-fail", fetcher_backend=_fetchers()
    )
    validator = CertificateValidator(
        signer.signing_cert, intermediate_certs=signer.cert_registry, validation_context=context
    )
    try:
        asyncio.run(validator.async_validate_usage(set()))
    except RevokedError as error:
        raise _revoked(error) from error
    except (ValidationError, PathBuildingError, PathValidationError, OSError) as error:
        logger.warning("Report signed without its certificate's revocation status: %s", error)


def _refuse_outside_validity(certificates: list[asn1_x509.Certificate]) -> None:
    """Raise SigningCertificateExpired for the first certificate (the signer's, then its chain) not valid now."""
    now = datetime.datetime.now(datetime.UTC)
    for position, certificate in enumerate(certificates):
        start, end = certificate.not_valid_before, certificate.not_valid_after
        if start <= now <= end:
            continue
        whose = "The organisation's report-signing certificate" if position == 0 else "A CA certificate above it"
        when = f"expired on {end:%Y-%m-%d %H:%M} UTC" if now > end else f"is valid only from {start:%Y-%m-%d %H:%M} UTC"
        raise SigningCertificateExpired(
            f"{whose} ({certificate.subject.human_friendly}) {when}. No report is signed with it; an administrator "
            "must import a new signing certificate."
        )


def _fetchers() -> RequestsFetcherBackend:
    # Each CRL or OCSP request waits at most as long as a TSA's answer does (verification's limit too).
    return RequestsFetcherBackend(per_request_timeout=settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS)


def _revoked(error: RevokedError) -> SigningCertificateRevoked:
    return SigningCertificateRevoked(
        f"The organisation's report-signing certificate is revoked: {error} No report is signed with it; an "
        "administrator must import a new signing certificate."
    )


def _revocation_published(certificate: asn1_x509.Certificate) -> bool:
    """Does the certificate say where its revocation status is published (CRL distribution points or OCSP)?"""
    return bool(certificate.crl_distribution_points or certificate.ocsp_urls)
