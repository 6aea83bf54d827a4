"""The assessment: the four questions a caseworker brings (made by AI? edited? provenance signed? metadata kept?)
answered from an analysis's findings, as plain data stored with the evidence item so that lists read it for free.

Each answer comes from the findings of one category, except editing, which several categories speak to: it counts
only the rules whose finding says the file was changed by software after capture (a named editor, a resize, an
edit history, a second compression), not the inconsistencies that point nowhere in particular (dates, maker
notes, an odd layout). Words are added where the assessment is shown (forensics.presentation); what is stored
here is codes and the names the findings quoted, so it reads the same in any language.
"""

from __future__ import annotations

from typing import Any

# Aspect states, as stored and as the API gives them.
DECLARED, NONE_FOUND = "declared", "none"
FOUND = "found"
INTACT, BROKEN, UNREADABLE = "intact", "broken", "unreadable"
PRESENT, REMOVED = "present", "removed"

# Rules whose finding is evidence that the file was edited or re-encoded after capture, by what kind of change.
EDITING_RULES: dict[str, str] = {
    "EM-META-001": "software",
    "EM-META-002": "resized",
    "EM-META-003": "software",
    "EM-META-004": "history",
    "EM-META-006": "modified",
    "EM-META-008": "remuxed",
    "EM-META-010": "reencoded",
    "EM-META-017": "reencoded",
    "EM-ENC-001": "reencoded",
    "EM-ENC-002": "reencoded",
    "EM-ENC-003": "reencoded",
    "EM-ENC-004": "software",
    "EM-ENC-005": "recompressed",
    "EM-ENC-006": "recompressed",
    "EM-STRUCT-012": "cut",
    "EM-STRUCT-014": "thumbnail",
    "EM-STRUCT-015": "reencoded",
    "EM-STRUCT-016": "reencoded",
    "EM-THUMB-001": "thumbnail",
    "EM-THUMB-002": "thumbnail",
    "EM-THUMB-003": "thumbnail",
    "EM-THUMB-005": "thumbnail",
    "EM-PROV-004": "declared",
    "EM-VIDEO-001": "reencoded",
    "EM-VIDEO-002": "remuxed",
    "EM-VIDEO-003": "modified",
    "EM-VIDEO-004": "cut",
    "EM-VIDEO-006": "reencoded",
    "EM-VIDEO-007": "cut",
    "EM-VIDEO-008": "modified",
}
# The order the kinds of change are listed in: the most telling first.
EDITING_KINDS = (
    "declared", "software", "history", "thumbnail", "resized", "cut", "recompressed", "reencoded", "remuxed",
    "modified",
)  # fmt: skip

# The answers counted in lists and on the dashboard, by name: (aspect, state).
FLAGS: dict[str, tuple[str, str]] = {
    "ai_declared": ("synthetic_media", DECLARED),
    "edited": ("editing", FOUND),
    "signature_broken": ("provenance", BROKEN),
    "metadata_removed": ("metadata", REMOVED),
}

C2PA_BROKEN_RULE = "EM-INT-001"
C2PA_PRESENT_RULE = "EM-PROV-001"
C2PA_UNREADABLE_RULE = "EM-PROV-003"
C2PA_UNTRUSTED_RULE = "EM-PROV-002"
METADATA_REMOVED_RULE = "EM-STRIP-001"

# Tags that show a file still carries metadata about its capture or its making (any ExifTool group).
_METADATA_TAGS = frozenset(
    {
        "Make",
        "Model",
        "DateTimeOriginal",
        "CreateDate",
        "GPSLatitude",
        "Software",
        "CreatorTool",
        "MakerNoteVersion",
        "DigitalSourceType",
        "Encoder",
        "HandlerVendorID",
    }
)


def assessment_make(findings: list[dict[str, Any]], result: dict[str, Any] | None = None) -> dict[str, dict]:
    """The assessment of one analysis from its stored findings (and its stored result, for whether any metadata
    was there to read): {"synthetic_media": {...}, "editing": {...}, "provenance": {...}, "metadata": {...}},
    each with a "state" and what the findings named."""
    by_rule: dict[str, list[dict]] = {}
    for finding in findings or []:
        by_rule.setdefault(finding.get("rule_id", ""), []).append(finding)
    return {
        "synthetic_media": _synthetic(findings or []),
        "editing": _editing(findings or []),
        "provenance": _provenance(by_rule),
        "metadata": _metadata(by_rule, result or {}),
    }


def _synthetic(findings: list[dict]) -> dict:
    declared = [f for f in findings if f.get("category") == "synthetic_media"]
    if not declared:
        return {"state": NONE_FOUND, "by": []}
    names: list[str] = []
    for finding in declared:
        evidence = finding.get("evidence") or {}
        for key in ("generator", "c2pa:softwareAgent"):
            if (name := evidence.get(key)) and str(name) not in names:
                names.append(str(name))
    return {"state": DECLARED, "by": names, "rules": sorted({f["rule_id"] for f in declared})}


def _editing(findings: list[dict]) -> dict:
    hits = [f for f in findings if f.get("rule_id") in EDITING_RULES]
    if not hits:
        return {"state": NONE_FOUND, "kinds": [], "software": []}
    kinds = {EDITING_RULES[f["rule_id"]] for f in hits}
    software: list[str] = []
    for finding in hits:
        name = (finding.get("evidence") or {}).get("software")
        if name and str(name) not in software:
            software.append(str(name))
    return {
        "state": FOUND,
        "kinds": [kind for kind in EDITING_KINDS if kind in kinds],
        "software": software,
        "rules": sorted({f["rule_id"] for f in hits}),
    }


def _provenance(by_rule: dict[str, list[dict]]) -> dict:
    present = by_rule.get(C2PA_PRESENT_RULE)
    evidence = (present[0].get("evidence") or {}) if present else {}
    signer = evidence.get("c2pa:signature_issuer") or None
    if C2PA_BROKEN_RULE in by_rule:
        state = BROKEN
    elif present:
        state = INTACT
    elif C2PA_UNREADABLE_RULE in by_rule:
        state = UNREADABLE
    else:
        return {"state": NONE_FOUND, "signer": None, "trusted": False}
    return {"state": state, "signer": signer, "trusted": state == INTACT and C2PA_UNTRUSTED_RULE not in by_rule}


def _metadata(by_rule: dict[str, list[dict]], result: dict) -> dict:
    if METADATA_REMOVED_RULE in by_rule:
        return {"state": REMOVED}
    tags = (result.get("exiftool") or {}).get("tags") or {}
    if any(key.rpartition(":")[2] in _METADATA_TAGS for key in tags):
        return {"state": PRESENT}
    return {"state": NONE_FOUND}
