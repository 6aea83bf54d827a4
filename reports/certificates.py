"""Each organisation's report-signing key and X.509 certificate, kept as files under
settings.KEYS_DIR/reports/<organisation id>/ (never in the database).

By default a self-signed certificate, created the first time a report needs one: fine for demonstrations, but no
PDF reader trusts it. An organisation administrator replaces it by importing the organisation's certificate, key
and CA chain (PKCS#12) from its CA (`signing_certificate_import`): each import is kept under imported/<version>/
and named in force by the file `active`; the key of a superseded import is deleted, its certificate kept, so every
report signed earlier still verifies. Verification knows exactly the certificates found here, so a report signed
anywhere else is recognised as foreign.
"""

import datetime
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db import transaction
from django.utils.translation import gettext as _

from cases.exceptions import Refused
from cases.models import Organisation
from custody.ledger import custody_event_record
from custody.models import Action

KEY_FILENAME = "signing-key.pem"
CERTIFICATE_FILENAME = "certificate.pem"
CHAIN_FILENAME = "chain.pem"
IMPORTED_DIRECTORY = "imported"
ACTIVE_FILENAME = "active"
# An administrator is warned this long before the certificate in force (or its CA chain) stops being usable.
EXPIRY_NOTICE = datetime.timedelta(days=30)
VALIDITY = datetime.timedelta(days=20 * 365)  # reports are read for years; there is no CA to renew against
MAX_PKCS12_BYTES = 256 * 1024  # a certificate chain and a key; far below this


@dataclass(frozen=True)
class SigningCredentials:
    key_pem: bytes
    certificate_pem: bytes
    chain_pem: bytes = b""  # the issuing CAs of an imported certificate, issuer first; embedded in each signature
    self_signed: bool = True


def certificates_directory() -> Path:
    return Path(settings.KEYS_DIR) / "reports"


def organisation_credentials(organisation: Organisation) -> SigningCredentials:
    """The organisation's signing key and certificate in force: the imported one, else the self-signed default,
    created on first need."""
    directory = certificates_directory() / str(organisation.public_id)
    if (directory / ACTIVE_FILENAME).exists():
        version = directory / IMPORTED_DIRECTORY / (directory / ACTIVE_FILENAME).read_text().strip()
        return SigningCredentials(
            key_pem=(version / KEY_FILENAME).read_bytes(),
            certificate_pem=(version / CERTIFICATE_FILENAME).read_bytes(),
            chain_pem=(version / CHAIN_FILENAME).read_bytes(),
            self_signed=False,
        )
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


@dataclass(frozen=True)
class KnownCertificate:
    """A report certificate this installation has used: whose, the certificate and its CA chain (PEM)."""

    organisation_id: str
    certificate_pem: bytes
    chain_pem: bytes
    self_signed: bool


def known_certificates() -> dict[bytes, KnownCertificate]:
    """Every report certificate of this installation, in force or superseded: SHA-256 fingerprint -> its facts."""
    known = {}
    root = certificates_directory()
    paths = [*root.glob(f"*/{CERTIFICATE_FILENAME}"), *root.glob(f"*/{IMPORTED_DIRECTORY}/*/{CERTIFICATE_FILENAME}")]
    for path in sorted(paths):
        if any(part.startswith(".") for part in path.relative_to(root).parts):  # still being written
            continue
        imported = path.parent.parent.name == IMPORTED_DIRECTORY
        organisation_id = path.parent.parent.parent.name if imported else path.parent.name
        pem = path.read_bytes()
        fingerprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
        chain = (path.parent / CHAIN_FILENAME).read_bytes() if imported else b""
        known[fingerprint] = KnownCertificate(organisation_id, pem, chain, self_signed=not imported)
    return known


@dataclass(frozen=True)
class CertificateInForce:
    subject: str
    issuer: str
    chain: list[str]
    fingerprint: str
    not_valid_after: datetime.datetime
    # The earliest end of validity of the certificate and its CA chain: from then on no report is signed with it.
    usable_until: datetime.datetime
    self_signed: bool

    @classmethod
    def of(cls, certificate: x509.Certificate, chain: list[x509.Certificate], *, self_signed: bool):
        return cls(
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            chain=[ca.subject.rfc4514_string() for ca in chain],
            fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
            not_valid_after=certificate.not_valid_after_utc,
            usable_until=min(each.not_valid_after_utc for each in [certificate, *chain]),
            self_signed=self_signed,
        )

    @property
    def expired(self) -> bool:
        return datetime.datetime.now(datetime.UTC) > self.usable_until

    @property
    def expires_soon(self) -> bool:
        """Within EXPIRY_NOTICE of the end of its usability, so that an administrator has time to import the next."""
        return not self.expired and self.usable_until - datetime.datetime.now(datetime.UTC) <= EXPIRY_NOTICE


def signing_certificate_describe(organisation: Organisation) -> CertificateInForce:
    """The certificate the organisation's next report will be signed with."""
    credentials = organisation_credentials(organisation)
    certificate = x509.load_pem_x509_certificate(credentials.certificate_pem)
    chain = x509.load_pem_x509_certificates(credentials.chain_pem) if credentials.chain_pem.strip() else []
    return CertificateInForce.of(certificate, chain, self_signed=credentials.self_signed)


def signing_certificate_attention(organisation: Organisation) -> CertificateInForce | None:
    """The certificate in force when it has expired or expires within EXPIRY_NOTICE, for the administrators'
    dashboard; None otherwise, and when the organisation has none yet (nothing is created to answer)."""
    directory = certificates_directory() / str(organisation.public_id)
    if not (directory / ACTIVE_FILENAME).exists() and not (directory / CERTIFICATE_FILENAME).exists():
        return None
    described = signing_certificate_describe(organisation)
    return described if described.expired or described.expires_soon else None


class CertificateRefused(Refused):
    """A PKCS#12 file that cannot serve as the organisation's report-signing certificate; says why."""


class Pkcs12UploadHandler(MemoryFileUploadHandler):
    """Reads an uploaded PKCS#12 into memory only: it holds a private key, so it never goes to a spool file (the
    evidence handler would encrypt it there, unreadable as plaintext). A body too large for one is not read at all,
    and the form then finds no file. Set it before anything reads the request's body."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = content_length <= 2 * MAX_PKCS12_BYTES


@transaction.atomic
def signing_certificate_import(
    *, organisation: Organisation, pkcs12_data: bytes, password: str, actor
) -> CertificateInForce:
    """Make the certificate, key and CA chain of a PKCS#12 file the organisation's report-signing certificate and
    record `report_certificate.imported`. The key goes to the keys directory (mode 0600), never the database; the
    certificate it replaces stays known, so earlier reports still verify."""
    key, certificate, chain = _pkcs12_read(pkcs12_data, password)
    Organisation.objects.lock(organisation.pk)
    directory = certificates_directory() / str(organisation.public_id)
    imported = CertificateInForce.of(certificate, chain, self_signed=False)
    fingerprint = imported.fingerprint
    previous = _in_force_fingerprint(directory)
    version = _version_write(directory, fingerprint[:32], key, certificate, chain)
    custody_event_record(
        organisation=organisation,
        action=Action.REPORT_CERTIFICATE_IMPORTED,
        actor=actor,
        details={
            "subject": imported.subject,
            "issuer": imported.issuer,
            "sha256": fingerprint,
            "not_valid_after": imported.not_valid_after.isoformat(),
            "chain": imported.chain,
            "replaces_sha256": previous,
        },
    )
    _activate(directory, version)
    return imported


def _in_force_fingerprint(directory: Path) -> str | None:
    """SHA-256 of the certificate reports are signed with now, if the organisation has one yet."""
    if (directory / ACTIVE_FILENAME).exists():
        path = directory / IMPORTED_DIRECTORY / (directory / ACTIVE_FILENAME).read_text().strip() / CERTIFICATE_FILENAME
    else:
        path = directory / CERTIFICATE_FILENAME
    if not path.exists():
        return None
    return x509.load_pem_x509_certificate(path.read_bytes()).fingerprint(hashes.SHA256()).hex()


def _pkcs12_read(data: bytes, password: str) -> tuple:
    if len(data) > MAX_PKCS12_BYTES:
        raise CertificateRefused(_("The file is far larger than a certificate chain and key; nothing was imported."))
    try:
        loaded = pkcs12.load_pkcs12(data, password.encode() if password else None)
    except ValueError:
        raise CertificateRefused(
            _("The file is not a PKCS#12 (.p12/.pfx) file, or the password is wrong; nothing was imported.")
        ) from None
    key, certificate = loaded.key, loaded.cert.certificate if loaded.cert else None
    if key is None or certificate is None:
        raise CertificateRefused(
            _("The PKCS#12 file must hold the certificate and its private key; nothing was imported.")
        )
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CertificateRefused(_("The key must be an RSA or elliptic-curve key; nothing was imported."))
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise CertificateRefused(_("The private key does not belong to the certificate; nothing was imported."))
    _valid_today_check(certificate, _("The certificate"))
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise CertificateRefused(
            _("The certificate's key usage does not allow signing documents; nothing was imported.")
        )
    chain = _chain_order(certificate, [c.certificate for c in loaded.additional_certs])
    for ca in chain:
        # Every signature would fail once a CA above the certificate is out of date (reports.signing refuses it).
        _valid_today_check(ca, _("The CA certificate %(subject)s") % {"subject": ca.subject.rfc4514_string()})
    return key, certificate, chain


def _valid_today_check(certificate: x509.Certificate, whose: str) -> None:
    now = datetime.datetime.now(datetime.UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CertificateRefused(
            _("%(whose)s is valid from %(start)s to %(end)s, not today; nothing was imported.")
            % {
                "whose": whose,
                "start": f"{certificate.not_valid_before_utc:%Y-%m-%d}",
                "end": f"{certificate.not_valid_after_utc:%Y-%m-%d}",
            }
        )


def _chain_order(certificate: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The CA certificates from the certificate's issuer up, each checked to have signed the one below it."""
    chain, current, pool = [], certificate, list(others)
    while current.issuer != current.subject:
        issuer = next((c for c in pool if c.subject == current.issuer), None)
        if issuer is None:
            break  # the rest of the chain is the CA's to publish; the reader's trusted roots complete it
        try:
            current.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as error:
            raise CertificateRefused(
                _("%(issuer)s in the file did not issue %(subject)s (%(error)s); nothing was imported.")
                % {
                    "issuer": issuer.subject.rfc4514_string(),
                    "subject": current.subject.rfc4514_string(),
                    "error": type(error).__name__,
                }
            ) from None
        chain.append(issuer)
        pool.remove(issuer)
        current = issuer
    return chain


def _version_write(directory: Path, name: str, key, certificate: x509.Certificate, chain: list) -> str:
    """Write an imported version (key 0600) through a private temporary directory renamed into place."""
    imported = directory / IMPORTED_DIRECTORY
    imported.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = imported / f".{name}.{secrets.token_hex(4)}.tmp"
    partial.mkdir(mode=0o700)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(partial / KEY_FILENAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    (partial / CERTIFICATE_FILENAME).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (partial / CHAIN_FILENAME).write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    if (imported / name).exists():  # the same certificate imported again: the new copy of its key replaces it
        shutil.rmtree(imported / name)
    partial.rename(imported / name)
    return name


def _activate(directory: Path, version: str) -> None:
    """Name `version` in force (an atomic rename) and delete the keys of every other imported version."""
    pointer = directory / f".{ACTIVE_FILENAME}.{secrets.token_hex(4)}.tmp"
    pointer.write_text(version + "\n")
    pointer.rename(directory / ACTIVE_FILENAME)
    for other in (directory / IMPORTED_DIRECTORY).iterdir():
        if other.name != version and not other.name.startswith("."):
            (other / KEY_FILENAME).unlink(missing_ok=True)
