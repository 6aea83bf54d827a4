"""RFC 3161 time-stamps of custody checkpoints, without Django: the message a token covers, asking a
Time-Stamping Authority (TSA) for a token, and checking a token against trusted TSA roots.

A token vouches, under the TSA's signature, that the checkpoint existed no later than the token's time: the
message it covers is CHECKPOINT_TIMESTAMP_DOMAIN followed by the canonical encoding (custody.canonical) of the
checkpoint's TIMESTAMPED_FIELDS, and the token's message imprint is the SHA-256 of that message. Requests and
CMS validation are pyHanko's (its TSA client, its TSTInfo/SignedData validation and certificate path building),
so the offline verifiers need pyHanko besides ``cryptography``, and still no Django, database or server.
"""

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, pem, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from custody.canonical import canonical_bytes

# Keeps a token over a checkpoint from being mistaken for a token over anything else the TSA stamped.
CHECKPOINT_TIMESTAMP_DOMAIN = b"evidence-media checkpoint time-stamp v1\n"
TIMESTAMPED_FIELDS = ("organisation", "tree_size", "root_hash", "made_at", "key_id", "signature")
DIGEST_ALGORITHM = "sha256"


class TimestampError(Exception):
    """A TSA gave no usable token, or a token does not verify; the message says why, for a person."""


def checkpoint_timestamp_message(checkpoint: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's time-stamp covers: the domain string, then the canonical encoding of the
    checkpoint's organisation, tree size, root hash, time, key id and signature (a signed tree head)."""
    return CHECKPOINT_TIMESTAMP_DOMAIN + canonical_bytes({name: checkpoint[name] for name in TIMESTAMPED_FIELDS})


def checkpoint_timestamp_digest(checkpoint: Mapping[str, Any]) -> bytes:
    """The message imprint a checkpoint's token must carry: SHA-256 of its time-stamp message."""
    return hashlib.sha256(checkpoint_timestamp_message(checkpoint)).digest()


@dataclass(frozen=True)
class TokenCheck:
    """A token that verified: when, by which TSA, through which certificates (TSA first, trust anchor last)."""

    gen_time: datetime
    tsa: str
    chain: tuple[asn1_x509.Certificate, ...]
    policy: str
    serial_number: int

    @property
    def anchor(self) -> asn1_x509.Certificate:
        return self.chain[-1]

    @property
    def chain_pem(self) -> list[str]:
        return [certificate_pem(certificate) for certificate in self.chain]

    def describe(self) -> str:
        anchor = self.anchor
        return (
            f"time-stamped {self.gen_time:%Y-%m-%d %H:%M:%S} UTC by {self.tsa} (token serial {self.serial_number}, "
            f"policy {self.policy}), chained to {anchor.subject.human_friendly} "
            f"(SHA-256 {anchor.sha256.hex()})"
        )


def certificate_pem(certificate: asn1_x509.Certificate) -> str:
    return pem.armor("CERTIFICATE", certificate.dump()).decode("ascii")


def certificates_from_pem(data: bytes | str) -> list[asn1_x509.Certificate]:
    """Every certificate of a PEM bundle (raises ValueError when there is none or one is malformed)."""
    raw = data.encode("ascii") if isinstance(data, str) else data
    certificates = [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(raw, multiple=True)]
    if not certificates:
        raise ValueError("no PEM certificate found")
    for certificate in certificates:
        certificate.native  # noqa: B018 parses every field now, so that a damaged certificate fails here
    return certificates


def token_request(
    url: str, digest: bytes, *, trusted_roots: list[asn1_x509.Certificate], timeout: float
) -> tuple[bytes, TokenCheck]:
    """Ask the TSA at `url` to time-stamp `digest` (SHA-256) and return the token (a CMS ContentInfo, DER) once it
    checked against `trusted_roots`; raise TimestampError when the TSA cannot be reached or answers otherwise."""
    # The HTTP client is the server's alone: the offline verifiers never ask a TSA anything.
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    stamper = RequestsHTTPTimeStamper(url, timeout=timeout)
    try:
        token = asyncio.run(stamper.async_timestamp(digest, DIGEST_ALGORITHM))
    except (TimestampRequestError, OSError, ValueError) as error:
        raise TimestampError(f"{url}: {error}") from error
    der = token.dump()
    return der, token_check(der, digest, trusted_roots=trusted_roots, other_certs=[])


def token_check(
    token_der: bytes,
    digest: bytes,
    *,
    trusted_roots: Iterable[asn1_x509.Certificate],
    other_certs: Iterable[asn1_x509.Certificate],
) -> TokenCheck:
    """Check that `token_der` is a TSA's intact signature over `digest`, made with a time-stamping certificate that
    chains (through the token's certificates and `other_certs`) to one of `trusted_roots`, valid at the token's
    time. Raise TimestampError saying why not."""
    try:
        token = cms.ContentInfo.load(token_der)
        signed_data = token["content"]
        if token["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        info = signed_data["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("it encapsulates no TSTInfo")
        gen_time = info["gen_time"].native
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"the time-stamp token is malformed: {error}") from error
    context = ValidationContext(
        trust_roots=list(trusted_roots), other_certs=list(other_certs), moment=gen_time, allow_fetching=False
    )
    try:
        status = TimestampSignatureStatus(
            **asyncio.run(validate_tst_signed_data(signed_data, context, lambda algorithm: _imprint(digest, algorithm)))
        )
    except (SignatureValidationError, ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"the time-stamp token does not verify: {error}") from error
    if not status.intact:
        raise TimestampError("the time-stamp token covers other data than this checkpoint, or its content changed")
    if not status.valid:
        raise TimestampError("the time-stamp token's signature is not valid")
    if not status.trusted or status.validation_path is None:
        subject = status.signing_cert.subject.human_friendly if status.signing_cert else "an unknown signer"
        raise TimestampError(f"the time-stamp token is signed by {subject}, which does not chain to a trusted TSA root")
    chain = tuple(reversed(list(status.validation_path.iter_certs(include_root=True))))
    return TokenCheck(
        gen_time=gen_time,
        tsa=status.signing_cert.subject.human_friendly,
        chain=chain,
        policy=info["policy"].dotted,
        serial_number=info["serial_number"].native,
    )


def _imprint(digest: bytes, algorithm: str) -> bytes:
    # Tokens are requested over SHA-256; a token over any other algorithm is not one of ours.
    return digest if algorithm == DIGEST_ALGORITHM else b""


def timestamp_document(*, tsa_url: str, token: bytes, chain_pem: list[str], gen_time: datetime) -> dict[str, Any]:
    """A checkpoint's time-stamp as custody bundles carry it (JSON)."""
    return {
        "tsa_url": tsa_url,
        "token_base64": base64.b64encode(token).decode("ascii"),
        "tsa_chain_pem": chain_pem,
        "gen_time": gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def bundle_timestamp_verify(
    bundle: Mapping[str, Any], trusted_roots_pem: list[bytes] | None
) -> tuple[list[str], list[str]]:
    """Check the time-stamp a bundle carries for its checkpoint: (what verified, what failed). With
    `trusted_roots_pem` (PEM files obtained independently, e.g. from the TSA's site) a time-stamp is required and
    must chain to one of their certificates; without, the root stored in the bundle is used and the reader is
    told to compare it."""
    document, checkpoint = bundle.get("checkpoint_timestamp"), bundle.get("checkpoint")
    try:
        trusted_roots = None
        if trusted_roots_pem is not None:
            trusted_roots = [root for data in trusted_roots_pem for root in certificates_from_pem(data)]
    except ValueError as error:
        return [], [f"a --tsa-root file holds no readable certificate: {error}"]
    if document is None:
        if trusted_roots is not None:
            return [], ["the checkpoint carries no RFC 3161 time-stamp, but --tsa-root asks for one"]
        return ["the checkpoint carries no RFC 3161 time-stamp: its time rests on the organisation's own clock"], []
    try:
        token = base64.b64decode(document["token_base64"], validate=True)
        chain = [certificate for text in document["tsa_chain_pem"] for certificate in certificates_from_pem(text)]
        digest = checkpoint_timestamp_digest(checkpoint)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        return [], [f"the checkpoint's time-stamp is malformed: {error!r}"]
    roots = trusted_roots if trusted_roots is not None else chain[-1:]
    try:
        check = token_check(token, digest, trusted_roots=roots, other_certs=chain)
    except TimestampError as error:
        return [], [f"the checkpoint's time-stamp: {error}"]
    verified = [f"checkpoint {check.describe()}"]
    if trusted_roots is None:
        verified.append(
            "the TSA root was taken from the bundle: compare its SHA-256 with the one the TSA publishes, or pass "
            "--tsa-root"
        )
    else:
        verified.append("the TSA root is one pinned with --tsa-root")
    return verified, []
