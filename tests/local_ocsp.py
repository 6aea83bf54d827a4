"""An OCSP responder on the loopback interface for tests: a small HTTP server answering each RFC 6960 request
with `openssl ocsp` (the real OpenSSL responder, run once per request on the request's bytes), from an OpenSSL
CA index of the certificates the test issued and revoked. The CA signs its own responses."""

import datetime
import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.local_tsa import pem
from tests.loopback_http import LoopbackResponder


def _index_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%y%m%d%H%M%SZ")


def _index_subject(certificate: x509.Certificate) -> str:
    return "".join(f"/{attribute.rfc4514_attribute_name}={attribute.value}" for attribute in certificate.subject)


class LocalOcsp(LoopbackResponder):
    content_type = "application/ocsp-response"
    path = "/ocsp"

    def __init__(self, directory: Path, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey):
        super().__init__()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ca.pem").write_bytes(pem(ca))
        (directory / "ca.key").write_bytes(
            ca_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.entries: dict[int, tuple[x509.Certificate, datetime.datetime | None]] = {}

    def issued(self, certificate: x509.Certificate) -> None:
        self.entries[certificate.serial_number] = (certificate, None)

    def revoke(self, certificate: x509.Certificate, when: datetime.datetime) -> None:
        self.entries[certificate.serial_number] = (certificate, when)

    def _index(self) -> str:
        lines = []
        for serial, (certificate, revoked_at) in self.entries.items():
            status, revoked = ("R", _index_time(revoked_at)) if revoked_at else ("V", "")
            expires = _index_time(certificate.not_valid_after_utc)
            lines.append(f"{status}\t{expires}\t{revoked}\t{serial:X}\tunknown\t{_index_subject(certificate)}\n")
        return "".join(lines)

    def answer(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as work:
            index, request_file, response_file = Path(work) / "index.txt", Path(work) / "q.der", Path(work) / "r.der"
            index.write_text(self._index())
            request_file.write_bytes(request)
            ca, key = self.directory / "ca.pem", self.directory / "ca.key"
            subprocess.run(
                ["openssl", "ocsp", "-index", str(index), "-CA", str(ca), "-rsigner", str(ca), "-rkey", str(key),
                 "-reqin", str(request_file), "-respout", str(response_file), "-ndays", "1"],
                check=True,
                capture_output=True,
                timeout=30,
            )  # fmt: skip
            return response_file.read_bytes()
