"""PAdES signing of a rendered report with its organisation's certificate (pyHanko), so that any PDF reader
shows who signed the report and whether it changed since."""

import io

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from .certificates import SigningCredentials

SIGNATURE_FIELD = "EvidenceMediaReport"


def asn1_certificate(pem: bytes) -> asn1_x509.Certificate:
    return next(iter(load_certs_from_pemder_data(pem)))


def pdf_sign(pdf: bytes, credentials: SigningCredentials, *, reason: str) -> bytes:
    """Return `pdf` with a PAdES baseline signature covering the whole file."""
    signer = signers.SimpleSigner(
        signing_cert=asn1_certificate(credentials.certificate_pem),
        signing_key=load_private_key_from_pemder_data(credentials.key_pem, passphrase=None),
        cert_registry=None,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()
