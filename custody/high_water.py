"""Each organisation's ledger head kept outside the database as well: a signed high-water mark (the sequence
number and entry hash of the newest entry ever committed) in a file beside the custody keys.

Someone who can lift the triggers and delete the newest entries leaves a shorter chain that is intact on its
own; against the mark it is not. The mark is raised after each commit and never lowered, so it may lag the
database (a crash between commit and write) but never lead it, unless entries were removed.
"""

import fcntl
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from uuid import UUID

from django.conf import settings

from .chain import HEX_HASH_PATTERN, high_water_signing_payload
from .keys import public_keys, signing_key
from .signing import file_write_atomically, verify

logger = logging.getLogger(__name__)

HEADS_DIRECTORY = "custody-heads"
LOCK_FILE = ".lock"


class HighWaterError(Exception):
    """The mark file is unreadable, malformed, about another organisation, or not validly signed."""


@dataclass(frozen=True)
class HighWaterMark:
    organisation: str
    sequence: int
    entry_hash: str
    key_id: str
    signature: str


def heads_directory() -> Path:
    return Path(settings.KEYS_DIR) / HEADS_DIRECTORY


def high_water_path(organisation_id: UUID) -> Path:
    return heads_directory() / f"{organisation_id}.json"


def high_water_read(organisation_id: UUID) -> HighWaterMark | None:
    """The organisation's mark with its signature checked, or None where none was written yet."""
    mark = high_water_load(organisation_id)
    if mark is not None and not verify(
        public_keys(), mark.key_id, high_water_signing_payload(asdict(mark)), mark.signature
    ):
        raise HighWaterError(f"{organisation_id}.json has no valid signature under key {str(mark.key_id)[:40]!r}")
    return mark


def high_water_load(organisation_id: UUID) -> HighWaterMark | None:
    """The organisation's mark as the file holds it, its signature not checked (cheap enough for every append;
    verification and any use of a mark ahead of the database go through `high_water_read`)."""
    path = high_water_path(organisation_id)
    try:
        document = json.loads(path.read_bytes())
        mark = HighWaterMark(**document)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as error:
        raise HighWaterError(f"{path.name} is unreadable: {error}") from None
    if mark.organisation != str(organisation_id):
        raise HighWaterError(f"{path.name} is the mark of organisation {mark.organisation!r}")
    well_formed = (
        type(mark.sequence) is int
        and mark.sequence >= 1
        and isinstance(mark.entry_hash, str)
        and HEX_HASH_PATTERN.fullmatch(mark.entry_hash)
    )
    if not well_formed:
        raise HighWaterError(f"{path.name} holds no valid sequence number and entry hash")
    return mark


def high_water_raise(*, organisation_id: UUID, sequence: int, entry_hash: str) -> None:
    """Make (sequence, entry_hash) the organisation's mark unless the mark is already as high; call it only
    once that entry is committed.

    A mark that cannot be read is left as it is, for verification to report: overwriting it could lower it.
    So is one with a higher sequence, even if forged: verification reports its signature.
    """
    directory = heads_directory()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / LOCK_FILE, "a") as lock:
        # Marks are raised after commit, by any process: the lock keeps a slower writer of an older head from
        # replacing a newer one read in between.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = high_water_load(organisation_id)
        except HighWaterError as error:
            logger.error("Custody high-water mark not raised to sequence %s: %s", sequence, error)
            return
        if current is not None and current.sequence >= sequence:
            return
        key = signing_key()
        fields = {"organisation": str(organisation_id), "sequence": sequence, "entry_hash": entry_hash}
        fields["key_id"], fields["signature"] = key.sign(high_water_signing_payload(fields | {"key_id": key.key_id}))
        document = json.dumps(fields, indent=2) + "\n"
        file_write_atomically(high_water_path(organisation_id), document.encode("ascii"), 0o644)
