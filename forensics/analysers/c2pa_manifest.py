"""C2PA provenance through c2pa-python: the active manifest, its actions and ingredients, and the validation codes."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from .common import clip_text

# 2: the manifests in provenance order and the kept store's keys sorted (1, unversioned: both in the order c2pa-rs
# gave, which changed from one reading to the next of the same file).
C2PA_READING_VERSION = "c2pa-manifest/2"
MAX_STORE_JSON_CHARS = 1 << 20
# Offline and deterministic: a remote manifest or an OCSP answer would make the result depend on the network.
_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}

# Where C2PA data can sit (C2PA 2.1, "Embedding manifests into assets"): a JUMBF superbox whose first child is its
# description box (JPEG APP11, PNG caBX, the BMFF uuid box, RIFF C2PA chunk all wrap one), the PNG chunk and the
# BMFF uuid that carry it, and the XMP reference to a remote manifest. Searched only when the reader failed.
_C2PA_MARKERS = (
    (re.compile(rb"jumb[\s\S]{4}jumd"), "JUMBF superbox"),
    (re.compile(rb"caBX[\s\S]{4}jumb"), "PNG caBX chunk"),
    (re.compile(re.escape(bytes.fromhex("d8fec3d61b0e483c92975828877ec481"))), "C2PA uuid box"),
    (re.compile(rb"dcterms:provenance"), "XMP dcterms:provenance reference"),
)
_SCAN_CHUNK = 4 << 20
_SCAN_OVERLAP = 64

_context_lock = threading.Lock()
_context: c2pa.Context | None = None


@dataclass
class C2paAction:
    manifest_label: str
    action: str
    software_agent: str | None
    digital_source_type: str | None


@dataclass
class C2paManifest:
    label: str
    claim_generator: str | None
    generator_names: list[str]
    title: str | None
    signature_issuer: str | None
    signature_time: str | None
    actions: list[C2paAction] = field(default_factory=list)
    ingredients: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class C2paResult:
    """What the C2PA SDK read. `present` is False when the file carries no manifest at all."""

    present: bool
    mime_type: str
    # When the reader failed: the first C2PA structure found in the bytes ("JUMBF superbox at offset 1,234"), if any
    store_marker: str | None = None
    validation_state: str | None = None
    status_codes: list[dict[str, str]] = field(default_factory=list)
    active_manifest: C2paManifest | None = None
    manifests: list[C2paManifest] = field(default_factory=list)
    read_error: str | None = None
    manifest_store: dict[str, Any] | None = None

    @property
    def codes(self) -> list[str]:
        return sorted({status["code"] for status in self.status_codes})


def c2pa_versions() -> str:
    return f"c2pa-python {c2pa.__version__} (c2pa-rs {c2pa.sdk_version()})"


def c2pa_supports(mime_type: str | None) -> bool:
    return bool(mime_type) and mime_type in c2pa.Reader.get_supported_mime_types()


def c2pa_read(path: str | Path, *, mime_type: str) -> C2paResult:
    """Read and validate the manifest store, giving the SDK the MIME type detected from the bytes."""
    with Path(path).open("rb") as stream:
        try:
            reader = c2pa.Reader.try_create(mime_type, stream, None, _offline_context())
        except c2pa.C2paError as error:
            # A manifest that lives only at a remote URL, pre-release or damaged C2PA data, or just a container the
            # SDK cannot walk (an old QuickTime movie without ftyp, a damaged AVI): only the bytes can tell.
            marker = c2pa_marker_find(stream)
            return C2paResult(
                present=marker is not None,
                mime_type=mime_type,
                store_marker=marker,
                read_error=clip_text(str(error), 2000),
            )
        if reader is None:
            return C2paResult(present=False, mime_type=mime_type)
        with reader:
            store = json.loads(reader.json())
    return _result_from_store(store, mime_type)


def c2pa_marker_find(stream: BinaryIO) -> str | None:
    """The first C2PA structure in the file and its offset, read in overlapping chunks so memory stays flat."""
    stream.seek(0)
    position, tail = 0, b""
    while chunk := stream.read(_SCAN_CHUNK):
        window = tail + chunk
        found = [
            (match.start(), name) for pattern, name in _C2PA_MARKERS if (match := pattern.search(window)) is not None
        ]
        if found:
            start, name = min(found)
            return f"{name} at offset {position - len(tail) + start:,}"
        position += len(chunk)
        tail = window[-_SCAN_OVERLAP:]
    return None


def _offline_context() -> c2pa.Context:
    global _context
    with _context_lock:
        if _context is None:
            _context = c2pa.Context.from_dict(_SETTINGS)
        return _context


def _result_from_store(store: dict[str, Any], mime_type: str) -> C2paResult:
    """The result of a manifest store as c2pa-rs gives it (its Reader's JSON), the same however its objects are
    ordered: c2pa-rs keeps the store's manifests, and some assertion data such as an action's parameters, in hash
    maps, whose order changes from one reading of the same file to the next. `manifests` is in provenance order
    (`_provenance_order`); the kept `manifest_store` has every object's keys sorted."""
    bodies = store.get("manifests") or {}
    manifests = {label: _manifest(label, bodies[label]) for label in _provenance_order(store)}
    serialised = json.dumps(store, sort_keys=True)
    return C2paResult(
        present=True,
        mime_type=mime_type,
        validation_state=store.get("validation_state"),
        status_codes=[
            {
                "code": str(status.get("code")),
                "url": str(status.get("url", "")),
                "explanation": str(status.get("explanation", "")),
            }
            for status in store.get("validation_status") or []
        ],
        active_manifest=manifests.get(store.get("active_manifest")),
        manifests=list(manifests.values()),
        manifest_store=json.loads(serialised) if len(serialised) <= MAX_STORE_JSON_CHARS else None,
    )


def _provenance_order(store: dict[str, Any]) -> list[str]:
    """The store's manifest labels, newest history first: the active manifest, then the manifests its ingredients
    carry, each followed by its own ingredients' (depth first, in the order the claim lists its ingredients, each
    manifest once), then any manifest no ingredient leads to, by label. The chain comes from the manifests
    themselves (an ingredient names its manifest, `active_manifest`), so it does not depend on the order of the
    store's keys; a label no manifest of the store has (a damaged or forged store) is passed over."""
    bodies = store.get("manifests") or {}
    order: list[str] = []
    seen: set[str] = set()
    pending = [store.get("active_manifest")]
    while pending:
        label = pending.pop()
        if not isinstance(label, str) or label in seen or label not in bodies:
            continue
        seen.add(label)
        order.append(label)
        ingredients = [item for item in bodies[label].get("ingredients") or [] if isinstance(item, dict)]
        pending.extend(reversed([ingredient.get("active_manifest") for ingredient in ingredients]))
    return order + sorted(label for label in bodies if label not in seen)


def _manifest(label: str, body: dict[str, Any]) -> C2paManifest:
    signature = body.get("signature_info") or {}
    info = body.get("claim_generator_info") or []
    manifest = C2paManifest(
        label=label,
        claim_generator=body.get("claim_generator"),
        generator_names=[
            " ".join(str(part) for part in (item.get("name"), item.get("version")) if part)
            for item in info
            if isinstance(item, dict)
        ],
        title=body.get("title"),
        signature_issuer=signature.get("issuer"),
        signature_time=signature.get("time"),
        ingredients=[
            {
                "title": ingredient.get("title"),
                "format": ingredient.get("format"),
                "relationship": ingredient.get("relationship"),
                "active_manifest": ingredient.get("active_manifest"),
            }
            for ingredient in body.get("ingredients") or []
        ],
    )
    for assertion in body.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                manifest.actions.append(
                    C2paAction(
                        manifest_label=label,
                        action=str(action.get("action")),
                        software_agent=_agent_name(action.get("softwareAgent")),
                        digital_source_type=action.get("digitalSourceType"),
                    )
                )
    return manifest


def _agent_name(agent: Any) -> str | None:
    # softwareAgent is a string in actions v1 and a generator-info object in v2.
    if isinstance(agent, dict):
        return " ".join(str(part) for part in (agent.get("name"), agent.get("version")) if part) or None
    return str(agent) if agent else None
