"""Encrypting the files stored before encryption was turned on (`manage.py encrypt_existing`).

The stores are walked for files that have no data key. Each evidence file or report is hashed and checked against
the SHA-256 recorded for it, encrypted under its keyed name, decrypted again and re-hashed, and only then are the
rows pointed at the new name (one transaction per file) and the plaintext removed. Previews are caches: their
plaintext files are removed and made again, encrypted, when next viewed. Interrupted at any point, nothing is lost
and running it again finishes the work: a plaintext file whose rows already point at an intact encrypted copy is
removed, and one that fails its check is left in place and reported.
"""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import storages
from django.db import transaction

from cases.models import DigestAlgorithm, EvidenceDigest, EvidenceItem, Organisation
from cases.services import evidence_storage_key
from cases.upload import CHUNK_SIZE
from custody.models import FixityState
from reports.models import Report
from reports.services import report_storage_key

from .hierarchy import CiphertextDamaged, DataKeyDestroyed, data_key_find

STORES = ("evidence", "reports", "derived")


@dataclass(frozen=True)
class Outcome:
    store: str
    name: str
    result: str  # "encrypted", "removed", "kept", "failed"
    detail: str = ""


def plaintext_files(store: str) -> Iterator[str]:
    """Names of the files in `store` that have no data key (stored in the clear), in name order."""
    root = Path(storages[store].location)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            name = path.relative_to(root).as_posix()
            if data_key_find(store=store, name=name) is None:
                yield name


def encrypt_existing(limit: int | None = None) -> Iterator[Outcome]:
    """Encrypt (or clear away) every plaintext file of every store, at most `limit` of them."""
    done = 0
    for store in STORES:
        for name in plaintext_files(store):
            if limit is not None and done >= limit:
                return
            yield _derived_remove(name) if store == "derived" else _stored_file_encrypt(store, name)
            done += 1


def _derived_remove(name: str) -> Outcome:
    storages["derived"].delete(name)
    return Outcome("derived", name, "removed", "a preview, made again (encrypted) when next viewed")


def _stored_file_encrypt(store: str, name: str) -> Outcome:
    storage = storages[store]
    organisation = Organisation.objects.filter(public_id=name.split("/", 1)[0]).first()
    if organisation is None:
        return Outcome(store, name, "kept", "no organisation owns this path")
    sha256 = _sha256(storage, name)
    rows = _rows(store, name)
    if not rows:
        return _leftover_remove(store, name, organisation, sha256)
    recorded = _recorded_sha256(store, rows[0])
    if sha256 != recorded:
        return Outcome(store, name, "failed", f"hashes to {sha256}, not {recorded} as recorded; left in place")
    new_name = _new_name(store, organisation, recorded)
    if not _intact(store, new_name, recorded):
        with storage.open(name, "rb") as plaintext:
            storage.save(new_name, File(plaintext, name))
        if not _intact(store, new_name, recorded):
            return Outcome(store, name, "failed", "the encrypted copy did not verify; plaintext left in place")
    _rows_point_at(store, name, new_name, organisation)
    storage.delete(name)
    return Outcome(store, name, "encrypted", f"now {new_name}")


def _leftover_remove(store: str, name: str, organisation: Organisation, sha256: str) -> Outcome:
    """A plaintext file no row names: removed if an earlier run already encrypted it under its new name."""
    new_name = _new_name(store, organisation, sha256)
    if _intact(store, new_name, sha256) and _rows(store, new_name):
        storages[store].delete(name)
        return Outcome(store, name, "removed", f"already encrypted as {new_name}")
    return Outcome(store, name, "kept", "no item or report names this file; left in place")


def _rows(store: str, name: str) -> list:
    if store == "evidence":
        return list(EvidenceItem.objects.filter(storage_key=name).order_by("pk"))
    return list(Report.objects.filter(storage_key=name).order_by("pk"))


def _recorded_sha256(store: str, row) -> str:
    if store == "evidence":
        return EvidenceDigest.objects.get(item=row, algorithm=DigestAlgorithm.SHA256).value
    return row.sha256


def _new_name(store: str, organisation: Organisation, sha256: str) -> str:
    if store == "evidence":
        return evidence_storage_key(organisation=organisation, sha256=sha256)
    return report_storage_key(organisation=organisation, sha256=sha256)


@transaction.atomic
def _rows_point_at(store: str, name: str, new_name: str, organisation: Organisation) -> None:
    Organisation.objects.lock(organisation.pk)
    model = EvidenceItem if store == "evidence" else Report
    model.objects.filter(storage_key=name).update(storage_key=new_name)
    FixityState.objects.filter(store=store, key=name).delete()


def _intact(store: str, name: str, sha256: str) -> bool:
    """Is `name` an encrypted file that decrypts, authenticated, to bytes with this SHA-256?"""
    storage = storages[store]
    if not storage.exists(name) or data_key_find(store=store, name=name) is None:
        return False
    try:
        return _sha256(storage, name) == sha256
    except (CiphertextDamaged, DataKeyDestroyed):
        return False


def _sha256(storage, name: str) -> str:
    hasher = hashlib.sha256()
    with storage.open(name, "rb") as stored:
        while chunk := stored.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.hexdigest()
