"""Each organisation's report-signing key and self-signed X.509 certificate, kept as files under
settings.KEYS_DIR/reports/<organisation id>/ (never in the database) and created the first time a report needs them.

A report's PAdES signature names the organisation through this certificate; verification trusts exactly the
certificates found here, so a report signed anywhere else is recognised as foreign.
"""

import datetime
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from cases.models import Organisation

KEY_FILENAME = "signing-key.pem"
CERTIFICATE_FILENAME = "certificate.pem"
VALIDITY = datetime.timedelta(days=20 * 365)  # reports are read for years; there is no CA to renew against


@dataclass(frozen=True)
class SigningCredentials:
    key_pem: bytes
    certificate_pem: bytes


def certificates_directory() -> Path:
    return Path(settings.KEYS_DIR) / "reports"


def organisation_credentials(organisation: Organisation) -> SigningCredentials:
    """The organisation's signing key and certificate, created on first need."""
    directory = certificates_directory() / str(organisation.public_id)
    if not (directory / CERTIFICATE_FILENAME).exists():
        credentials_create(directory, organisation_name=organisation.name, organisation_id=str(organisation.public_id))
    return SigningCredentials(
        key_pem=(directory / KEY_FILENAME).read_bytes(),
        certificate_pem=(directory / CERTIFICATE_FILENAME).read_bytes(),
    )


def credentials_create(directory: Path, *, organisation_name: str, organisation_id: str) -> None:
    """Write a new P-256 key (mode 0600) and a self-signed certificate naming the organisation into `directory`.

    Written into a private temporary directory that is renamed into place, so two workers creating the same
    organisation's credentials at once end with one complete pair, never a key of one and a certificate of another.
    """
    directory.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = directory.parent / f".{directory.name}.{secrets.token_hex(4)}.tmp"
    partial.mkdir(mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(partial / KEY_FILENAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    (partial / CERTIFICATE_FILENAME).write_bytes(
        _self_signed(key, organisation_name, organisation_id).public_bytes(serialization.Encoding.PEM)
    )
    try:
        partial.rename(directory)
    except OSError:  # another process got there first: keep its pair
        shutil.rmtree(partial)


def _self_signed(key: ec.EllipticCurvePrivateKey, organisation_name: str, organisation_id: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation_name} (Evidence Media reports)"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation_name[:64]),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, organisation_id),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def known_certificates() -> dict[bytes, tuple[str, bytes]]:
    """Every report certificate of this installation: SHA-256 fingerprint -> (organisation id, PEM)."""
    known = {}
    for path in sorted(certificates_directory().glob(f"*/{CERTIFICATE_FILENAME}")):
        if path.parent.name.startswith("."):  # still being written by credentials_create
            continue
        pem = path.read_bytes()
        fingerprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
        known[fingerprint] = (path.parent.name, pem)
    return known
