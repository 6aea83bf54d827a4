"""A Time-Stamping Authority on the loopback interface for tests: a test CA made with `cryptography`, and a small
HTTP server answering RFC 3161 requests with `openssl ts -reply` (the real OpenSSL TSA, not a stand-in); and a
server of fixed files (a CA's CRL) for revocation checks.

Import the fixtures into a test module: ``from tests.local_tsa import local_tsa, tsa_pki  # noqa: F401``.
"""

import datetime
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.loopback_http import LoopbackResponder

TSA_POLICY = "1.3.6.1.4.1.55555.1.1"


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Evidence Media test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def key_new() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def certificate_issue(
    *,
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    ca: bool = False,
    extended_usage: list | None = None,
    days: int = 365,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    """A certificate for `key`, self-signed when no issuer is given."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(issuer.subject if issuer else name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False
        )
    if extended_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_usage), critical=True)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def crl_der(issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey) -> bytes:
    """An empty CRL of `issuer`, valid for a day."""
    now = datetime.datetime.now(datetime.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - datetime.timedelta(minutes=5))
        .next_update(now + datetime.timedelta(days=1))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


class LocalFiles:
    """Fixed files over HTTP on 127.0.0.1 (path -> (bytes, content type)); `requests` counts what was fetched."""

    def __init__(self, files: dict[str, tuple[bytes, str]]):
        self.files = files
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler(self):
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server interface)
                served.requests.append(self.path)
                if self.path not in served.files:
                    self.send_error(404)
                    return
                body, content_type = served.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    encoding, private_format = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, private_format, serialization.NoEncryption())


@dataclass
class TsaPki:
    """A root CA, an intermediate and a time-stamping certificate under it, as files in `directory`."""

    directory: Path
    root: x509.Certificate
    intermediate: x509.Certificate
    tsa: x509.Certificate

    @property
    def roots_file(self) -> Path:
        return self.directory / "tsa-roots.pem"


def tsa_pki_make(directory: Path, label: str = "Test") -> TsaPki:
    root_key, intermediate_key, tsa_key = key_new(), key_new(), key_new()
    root = certificate_issue(subject=f"{label} TSA Root CA", key=root_key, ca=True, days=3650)
    intermediate = certificate_issue(
        subject=f"{label} TSA Intermediate CA", key=intermediate_key, issuer=root, issuer_key=root_key, ca=True
    )
    tsa = certificate_issue(
        subject=f"{label} Time-Stamping Unit",
        key=tsa_key,
        issuer=intermediate,
        issuer_key=intermediate_key,
        extended_usage=[ExtendedKeyUsageOID.TIME_STAMPING],
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tsa.pem").write_bytes(pem(tsa))
    (directory / "tsa.key").write_bytes(key_pem(tsa_key))
    (directory / "chain.pem").write_bytes(pem(intermediate) + pem(root))
    (directory / "tsa-roots.pem").write_bytes(pem(root))
    (directory / "serial").write_text("01\n")
    (directory / "openssl.cnf").write_text(
        f"""[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {directory}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {TSA_POLICY}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    return TsaPki(directory, root, intermediate, tsa)


class LocalTsa(LoopbackResponder):
    """`openssl ts -reply` behind HTTP on 127.0.0.1; `stop()` makes it an outage, `start()` brings it back."""

    content_type = "application/timestamp-reply"
    path = "/tsa"

    def __init__(self, pki: TsaPki):
        super().__init__()
        self.pki = pki

    def answer(self, body: bytes) -> bytes:
        return self.reply(body)

    def reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as work:
            query_file, reply_file = Path(work) / "query.tsq", Path(work) / "reply.tsr"
            query_file.write_bytes(query)
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.pki.directory / "openssl.cnf"), "-queryfile",
                 str(query_file), "-out", str(reply_file)],
                check=True,
                capture_output=True,
                timeout=30,
            )  # fmt: skip
            return reply_file.read_bytes()


@pytest.fixture(scope="session")
def tsa_pki(tmp_path_factory) -> TsaPki:
    return tsa_pki_make(tmp_path_factory.mktemp("tsa"))


@pytest.fixture
def local_tsa(tsa_pki, settings):
    """A running local TSA, configured as the installation's only one, its root the only trusted TSA root."""
    server = LocalTsa(tsa_pki)
    server.start()
    settings.EVIDENCEMEDIA_TSA_URLS = [server.url]
    settings.EVIDENCEMEDIA_TSA_ROOTS = tsa_pki.roots_file
    try:
        yield server
    finally:
        server.stop()
