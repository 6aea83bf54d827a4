"""Recording access to evidence in the ledger: metadata and preview views, downloads re-hashed as they are served,
and the integrity alarm raised when the stored bytes no longer match the SHA-256 recorded when they were received.

A download is recorded before any byte leaves. The stored file is hashed while it streams and the last chunk is
held back until the whole file has been hashed: on a mismatch an `integrity.alarm` event is committed and the
stream is aborted, so the client receives fewer bytes than the Content-Length announced (a failed transfer to
every HTTP client) instead of a complete-looking corrupted copy. Stored media are decrypted as they stream; a part
of the ciphertext that fails authentication aborts the stream the same way, with its own finding.
"""

import logging
from collections.abc import Iterator
from typing import Any

from django.core.files import File
from django.core.files.storage import storages
from django.utils.translation import gettext as _

from cases.models import EvidenceItem
from cases.upload import CHUNK_SIZE, ParallelDigests
from encryption.hierarchy import CiphertextDamaged

from .ledger import custody_event_record
from .models import Action, CustodyEvent

logger = logging.getLogger(__name__)


class IntegrityAlarm(Exception):
    """The stored bytes of an evidence item are missing or differ from what was received; already recorded."""

    def __init__(self, item: EvidenceItem, event: CustodyEvent, finding: str):
        super().__init__(
            _(
                "Integrity alarm: %(finding)s. The stored copy of this item no longer matches what was received, so "
                "it was not delivered. The alarm is recorded in the custody ledger as entry %(sequence)d."
            )
            % {"finding": finding, "sequence": event.sequence}
        )
        self.item = item
        self.event = event


def evidence_view_record(*, item: EvidenceItem, actor, via: str) -> CustodyEvent:
    """Record that `actor` viewed the item's metadata (`via` names the page or API)."""
    return custody_event_record(
        organisation=item.case.organisation,
        action=Action.EVIDENCE_VIEWED,
        actor=actor,
        evidence=item,
        details={"via": via},
    )


def media_view_record(*, item: EvidenceItem, actor, via: str) -> CustodyEvent:
    """Record that `actor` was shown a picture made from the media (a preview), not the original bytes."""
    return custody_event_record(
        organisation=item.case.organisation,
        action=Action.MEDIA_VIEWED,
        actor=actor,
        evidence=item,
        details={"via": via, "sha256": item.sha256},
    )


def media_download_record(*, item: EvidenceItem, actor, via: str) -> CustodyEvent:
    """Record that `actor` is being served the original bytes; called before the first byte is sent."""
    return custody_event_record(
        organisation=item.case.organisation,
        action=Action.MEDIA_DOWNLOADED,
        actor=actor,
        evidence=item,
        details={"via": via, "sha256": item.sha256, "size": item.size},
    )


def integrity_alarm_record(*, item: EvidenceItem, actor, finding: str, found: dict[str, Any]) -> CustodyEvent:
    """Commit an `integrity.alarm` event. Called outside any request transaction (a streaming response has left
    the view when the mismatch shows), so the alarm is committed in its own transaction whatever the response."""
    logger.error("Integrity alarm on evidence %s: %s", item.public_id, finding)
    return custody_event_record(
        organisation=item.case.organisation,
        action=Action.INTEGRITY_ALARM,
        actor=actor,
        evidence=item,
        details={"during": "download", "finding": finding, "expected_sha256": item.sha256, "expected_size": item.size}
        | found,
    )


def verified_media_chunks(*, item: EvidenceItem, actor, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The item's stored bytes as chunks, re-hashed as they go; raises IntegrityAlarm at once for a missing file
    or a wrong size, and from the iterator, before the last chunk, for a wrong SHA-256."""
    try:
        stored = storages["evidence"].open(item.storage_key, "rb")
    except FileNotFoundError:
        finding = "the stored file is missing"
        event = integrity_alarm_record(item=item, actor=actor, finding=finding, found={})
        raise IntegrityAlarm(item, event, finding) from None
    except CiphertextDamaged as damage:
        finding = f"the stored ciphertext is damaged ({damage})"
        event = integrity_alarm_record(item=item, actor=actor, finding=finding, found={"failed": "ciphertext"})
        raise IntegrityAlarm(item, event, finding) from None
    if stored.size != item.size:
        stored.close()
        finding = f"the stored file has {stored.size} bytes, not the {item.size} received"
        event = integrity_alarm_record(item=item, actor=actor, finding=finding, found={"found_size": stored.size})
        raise IntegrityAlarm(item, event, finding)
    return _hashed_chunks(stored, item=item, actor=actor, expected=item.sha256, chunk_size=chunk_size)


def _hashed_chunks(stored: File, *, item: EvidenceItem, actor, expected: str, chunk_size: int) -> Iterator[bytes]:
    # SHA-256 runs in its own thread while the next chunk is decrypted, so the two overlap instead of adding up.
    hasher = ParallelDigests(("sha256",))
    held: bytes | None = None
    try:
        try:
            for chunk in stored.chunks(chunk_size):
                hasher.update(chunk)
                if held is not None:
                    yield held
                held = chunk
        except CiphertextDamaged as damage:
            finding = f"the stored ciphertext is damaged ({damage})"
            event = integrity_alarm_record(item=item, actor=actor, finding=finding, found={"failed": "ciphertext"})
            raise IntegrityAlarm(item, event, finding) from None
        found = hasher.hexdigests()["sha256"]
        if found != expected:
            finding = f"the stored bytes hash to SHA-256 {found}, not {expected} as received"
            event = integrity_alarm_record(item=item, actor=actor, finding=finding, found={"found_sha256": found})
            raise IntegrityAlarm(item, event, finding)
        if held is not None:
            yield held
    finally:
        hasher.stop()
        stored.close()
