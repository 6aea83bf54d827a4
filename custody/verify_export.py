"""Standalone verifier of a sealed case or evidence export::

    python -m custody.verify_export case.zip [--key trusted-key.pem ...] [--tsa-root tsa-root.pem ...]

Runs with the standard library, ``cryptography``, pyHanko and the Django-free custody modules only. It checks the
manifest's Ed25519 signature, that the zip holds exactly the files the manifest lists with their SHA-256 and
size, each once, as a plain file under a relative path (a zip that would extract otherwise than it verifies,
through a second entry of one name, an absolute or ``..`` path or a symbolic link, is refused first), every
item's custody bundle (as ``python -m custody.verify`` does: hashes, signatures, inclusion proofs, checkpoint,
the signed list of events, the checkpoint's RFC 3161 time-stamp), and that each item's media, when included, is
the bytes its custody record says were received, or else that the record holds the media's deletion. Exit status
0 or 1.
"""

import argparse
import hashlib
import json
import stat
import sys
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custody.canonical import CanonicalError, canonical_bytes
from custody.signing import KeyringError
from custody.verify import (
    BundleReport,
    bundle_verify,
    key_option_add,
    public_keys_read,
    report_print,
    signature_failure,
    trusted_keys_read,
    tsa_root_option_add,
    tsa_roots_read,
)

EXPORT_FORMAT = "evidence-media sealed export"
EXPORT_VERSION = 1
MANIFEST_PATH = "manifest.json"
KEYS_PATH = "keys/public-keys.json"
_CHUNK = 1024 * 1024
# Keeps a manifest signature from being valid for anything else the custody key signs.
EXPORT_MANIFEST_SIGNATURE_DOMAIN = b"evidence-media sealed export manifest v1\n"


def export_manifest_signing_payload(manifest: Mapping[str, Any]) -> bytes:
    """The bytes a manifest's signature covers: the canonical encoding of every field but the signature."""
    return EXPORT_MANIFEST_SIGNATURE_DOMAIN + canonical_bytes(
        {name: value for name, value in manifest.items() if name != "signature"}
    )


def export_verify(
    archive: zipfile.ZipFile, trusted_keys: Mapping[str, bytes] | None = None, tsa_roots: list[bytes] | None = None
) -> BundleReport:
    """Verify an opened export. `trusted_keys`, when given, replaces the keys the export carries; `tsa_roots`, when
    given, are the TSA roots every checkpoint time-stamp must chain to. Never raises on malformed content."""
    report = BundleReport()
    report.failures.extend(_entry_failures(archive))
    if not report.ok:
        return report  # which copy of a file is "the" file, or where it lands, depends on the extractor
    try:
        manifest = json.loads(archive.read(MANIFEST_PATH))
    except (KeyError, ValueError) as error:
        report.failures.append(f"{MANIFEST_PATH} is missing or not JSON: {error}")
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        report.failures.append(f"not a sealed export: the manifest's format is not {EXPORT_FORMAT!r}")
        return report
    if manifest.get("version") != EXPORT_VERSION:
        report.failures.append(
            f"export version {manifest.get('version')!r} is not {EXPORT_VERSION}, the one this reads"
        )
        return report
    listed = _listed_files(manifest, report)
    contents = _files(archive, listed, report)
    keys = _keys(contents, trusted_keys, report)
    _manifest_signature(manifest, keys, report)
    for item in manifest.get("items") if isinstance(manifest.get("items"), list) else []:
        _item(item, manifest, contents, keys, tsa_roots, report)
    return report


def _entry_failures(archive: zipfile.ZipFile) -> list[str]:
    """Entries that an extractor would not write as the one verified file each: zipfile reads the last of two
    entries with one name while `unzip -n` keeps the first, and a name that differs only in case lands on the
    same file on macOS and Windows; an absolute or `..` path lands outside the folder; a symbolic link is not
    the bytes it holds."""
    failures = []
    entries = archive.infolist()
    seen = Counter(entry.filename.casefold() for entry in entries)
    for name in sorted({entry.filename for entry in entries if seen[entry.filename.casefold()] > 1}):
        failures.append(
            f"{name}: {seen[name.casefold()]} entries of the zip have this name (ignoring case): which one is "
            "extracted depends on the tool"
        )
    for entry in entries:
        if not _relative_path(entry.filename):
            failures.append(f"{entry.filename!r}: not a plain relative path (absolute, '..', '.' or empty parts)")
        file_type = stat.S_IFMT(entry.external_attr >> 16)
        if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
            kind = "a symbolic link" if file_type == stat.S_IFLNK else f"a special file (type {file_type:o})"
            failures.append(f"{entry.filename}: {kind}, not a plain file")
    return failures


def _relative_path(name: str) -> bool:
    # To Windows extractors a backslash separates folders and "C:" names a drive.
    parts = name.removesuffix("/").split("/")
    return "\\" not in name and ":" not in parts[0] and all(part not in ("", ".", "..") for part in parts)


def _listed_files(manifest: dict, report: BundleReport) -> dict[str, dict]:
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in files):
        report.failures.append("the manifest has no well-formed list of files")
        return {}
    listed = {entry["path"]: entry for entry in files}
    if len(listed) != len(files):
        report.failures.append("the manifest lists a path more than once")
    return listed


@dataclass(frozen=True)
class _Entry:
    sha256: str
    size: int
    document: bytes | None  # the bytes of a JSON document (bundle, keys); media is only hashed


def _entry_read(archive: zipfile.ZipFile, path: str, listed_size: int) -> _Entry:
    """Hash an entry as it inflates, reading at most one byte past the size the manifest lists, so an entry that
    inflates without end (a zip bomb) costs no more than the file it claims to be; media never sits in memory."""
    digest, size = hashlib.sha256(), 0
    keep = path.endswith(".json")
    kept = bytearray()
    with archive.open(path) as stream:
        while size <= listed_size:
            chunk = stream.read(min(_CHUNK, listed_size + 1 - size))
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
            if keep:
                kept += chunk
    return _Entry(digest.hexdigest(), size, bytes(kept) if keep else None)


def _files(archive: zipfile.ZipFile, listed: dict[str, dict], report: BundleReport) -> dict[str, _Entry]:
    """Every listed file whose bytes match the manifest, by path; each mismatch, absence or extra is a failure."""
    present = {name for name in archive.namelist() if not name.endswith("/")} - {MANIFEST_PATH}
    for name in sorted(present - set(listed)):
        report.failures.append(f"{name}: in the zip but not listed in the manifest (added after sealing)")
    intact: dict[str, _Entry] = {}
    for path, entry in sorted(listed.items()):
        if path not in present:
            report.failures.append(f"{path}: listed in the manifest but missing from the zip (removed)")
            continue
        listed_size = entry.get("size") if isinstance(entry.get("size"), int) else -1
        found = _entry_read(archive, path, listed_size)
        if found.sha256 != entry.get("sha256") or found.size != listed_size:
            longer = " or more" if found.size > listed_size else ""
            report.failures.append(
                f"{path}: SHA-256 {found.sha256} ({found.size}{longer} bytes), but the manifest lists "
                f"{entry.get('sha256')} ({entry.get('size')} bytes): the file was changed"
            )
            continue
        intact[path] = found
    if len(intact) == len(listed) and not present - set(listed):
        report.verified.append(f"all {len(listed)} files match the SHA-256 and size the manifest lists, none added")
    return intact


def _keys(contents: dict[str, _Entry], trusted: Mapping[str, bytes] | None, report: BundleReport) -> dict[str, bytes]:
    if trusted is not None:
        report.verified.append(f"public keys {', '.join(sorted(trusted))} pinned with --key")
        return dict(trusted)
    try:
        documents = json.loads(contents[KEYS_PATH].document or b"")
    except (KeyError, ValueError):
        report.failures.append(f"{KEYS_PATH} is missing, changed or not JSON: no keys to verify signatures with")
        return {}
    keys = public_keys_read(documents, report)
    report.verified.append(
        f"public keys {', '.join(sorted(keys)) or '(none)'} taken from the export: compare their ids with the ones "
        "the organisation publishes, or pass --key"
    )
    return keys


def _manifest_signature(manifest: dict, keys: Mapping[str, bytes], report: BundleReport) -> None:
    try:
        payload = export_manifest_signing_payload(manifest)
    except CanonicalError as error:
        report.failures.append(f"the manifest cannot be checked: {error}")
        return
    key_id = manifest.get("key_id")
    if not signature_failure(keys, key_id, payload, manifest.get("signature"), report, "the manifest"):
        report.verified.append(f"manifest signature valid (key {key_id}), exported {manifest.get('exported_at')}")


def _item(
    item: Any,
    manifest: dict,
    contents: dict[str, _Entry],
    keys: Mapping[str, bytes],
    tsa_roots: list[bytes] | None,
    report: BundleReport,
):
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        report.failures.append("the manifest lists an item without an id")
        return
    name = f"item {item['id']}"
    bundle_path = item.get("custody_bundle")
    if bundle_path not in contents:
        report.failures.append(f"{name}: its custody bundle {bundle_path!r} is not intact in the export")
        return
    try:
        bundle = json.loads(contents[bundle_path].document or b"")
    except ValueError as error:
        report.failures.append(f"{name}: its custody bundle is not JSON: {error}")
        return
    checked = bundle_verify(bundle, keys, tsa_roots)
    report.failures.extend(f"{bundle_path}: {failure}" for failure in checked.failures)
    if not checked.ok:
        return  # its events cannot vouch for the media
    report.verified.append(f"{name}: custody bundle intact ({len(bundle['events'])} events, inclusion proofs valid)")
    report.verified.extend(f"{name}: {line}" for line in checked.verified if line.startswith("checkpoint time-stamped"))
    if bundle.get("evidence") != item["id"] or bundle.get("organisation") != manifest.get("organisation"):
        report.failures.append(f"{name}: its custody bundle is about another item or organisation")
        return
    actions = {
        event["entry"].get("action"): event["entry"].get("details", {})
        for event in bundle.get("events", [])
        if isinstance(event, dict) and isinstance(event.get("entry"), dict)
    }
    received = (actions.get("evidence.received") or {}).get("digests", {}).get("sha256")
    if received != item.get("sha256"):
        report.failures.append(f"{name}: the SHA-256 received in custody ({received}) is not the item's")
        return
    media = item.get("media")
    if media is None:
        if "media.deleted" in actions:
            report.verified.append(f"{name}: media not included; its deletion is recorded in custody")
        else:
            report.failures.append(f"{name}: media not included, and custody records no deletion of it")
    elif media in contents:
        if contents[media].sha256 == received:
            report.verified.append(f"{name}: media {media} is the bytes received (SHA-256 {received})")
        else:
            report.failures.append(f"{name}: media {media} is not the bytes received (SHA-256 {received})")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m custody.verify_export", description="Verify an Evidence Media sealed export offline."
    )
    parser.add_argument("export", type=Path, help="the export zip file")
    key_option_add(parser, inside="export")
    tsa_root_option_add(parser)
    args = parser.parse_args(argv)
    try:
        trusted = trusted_keys_read(args.key) if args.key else None
        tsa_roots = tsa_roots_read(args.tsa_root)
        with zipfile.ZipFile(args.export) as archive:
            report = export_verify(archive, trusted, tsa_roots)
            manifest = json.loads(archive.read(MANIFEST_PATH)) if report.ok else {}
    except (OSError, zipfile.BadZipFile, ValueError, KeyringError) as error:
        print(f"FAILED: cannot read the input: {error}")
        return 1
    intact = []
    if report.ok:
        case = manifest["case"]
        scope = f"evidence {manifest['evidence']} of case" if manifest.get("evidence") else "case"
        intact = [
            f"intact: sealed export of {scope} {case['reference']} ({case['id']})",
            f"  organisation {manifest['organisation']}, exported {manifest['exported_at']}",
        ]
    return report_print(report, source=args.export, intact=intact)


if __name__ == "__main__":
    sys.exit(main())
