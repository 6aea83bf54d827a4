"""Provenance rules: what a C2PA manifest declares, and C2PA states that are information rather than tampering."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysers.results import AnalysisResult

from .facts import quote
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

_TRUST_CODES = {
    "signingCredential.untrusted": "the signer's certificate is not on a trust list configured here",
    "signingCredential.expired": "the signer's certificate has expired",
    "signingCredential.revoked": "the signer's certificate has been revoked",
    "signingCredential.ocsp.skipped": "the certificate's revocation status was not checked",
}
# Actions that only describe where content came from; anything else declares a change.
_NON_EDIT_ACTIONS = {"c2pa.created", "c2pa.opened", "c2pa.placed", "c2pa.published", "c2pa.repackaged"}


@book.rule(
    "EM-PROV-001",
    "C2PA provenance manifest present",
    Category.PROVENANCE,
    Severity.INFO,
    looks_at="c2pa-python active manifest: claim generator, signer, actions, ingredients",
    innocent="A manifest states who signed and what they declared; it does not prove the scene is true.",
)
def c2pa_present(result: AnalysisResult) -> Iterator[Observation]:
    c2pa = result.c2pa
    if c2pa is None or c2pa.active_manifest is None:
        return
    manifest = c2pa.active_manifest
    generator = ", ".join(manifest.generator_names) or manifest.claim_generator or "an unnamed program"
    actions = [action.action for action in manifest.actions]
    yield Observation(
        evidence={
            "c2pa:active_manifest": manifest.label,
            "c2pa:claim_generator": manifest.claim_generator,
            "c2pa:claim_generator_info": manifest.generator_names,
            "c2pa:signature_issuer": manifest.signature_issuer,
            "c2pa:signature_time": manifest.signature_time,
            "c2pa:actions": actions,
            "c2pa:ingredients": manifest.ingredients,
            "c2pa:validation_state": c2pa.validation_state,
        },
        explanation=(
            f"A C2PA manifest made by {quote(generator)} and signed by {quote(manifest.signature_issuer or 'unknown')} "
            f"declares the actions {', '.join(actions) or 'none'} and {len(manifest.ingredients)} source file(s); "
            f"validation state {quote(c2pa.validation_state)}."
        ),
    )


@book.rule(
    "EM-PROV-002",
    "C2PA signer not trusted or certificate expired",
    Category.PROVENANCE,
    Severity.INFO,
    looks_at="c2pa-python signingCredential.* status codes",
    innocent=(
        "Expected without a configured trust list, and for test or demo certificates; an expired "
        "certificate still proves the content was unchanged since signing."
    ),
)
def c2pa_trust(result: AnalysisResult) -> Iterator[Observation]:
    if result.c2pa is None:
        return
    codes = [code for code in result.c2pa.codes if code in _TRUST_CODES]
    if codes:
        yield Observation(
            evidence={"c2pa:validation_status": codes},
            explanation="C2PA reports " + "; ".join(f"'{code}': {_TRUST_CODES[code]}" for code in codes) + ".",
        )


@book.rule(
    "EM-PROV-003",
    "C2PA data present but could not be validated",
    Category.PROVENANCE,
    Severity.WARNING,
    looks_at=(
        "c2pa-python reader error (remote-only manifest, unsupported or damaged C2PA data), when the bytes hold "
        "C2PA data: a JUMBF superbox, a PNG caBX chunk, the C2PA uuid box or an XMP dcterms:provenance reference"
    ),
    innocent="Remote manifests are not fetched here by design, and pre-release C2PA data is no longer supported.",
)
def c2pa_unreadable(result: AnalysisResult) -> Iterator[Observation]:
    # A reader error on a file without C2PA bytes is about the container (the SDK cannot walk it), not provenance.
    c2pa = result.c2pa
    if c2pa is not None and c2pa.present and c2pa.read_error:
        yield Observation(
            evidence={"c2pa:error": c2pa.read_error, "c2pa:store_marker": c2pa.store_marker},
            explanation=(
                f"The file holds C2PA data ({c2pa.store_marker or 'a manifest store'}) that could not be checked: "
                f"{quote(c2pa.read_error, 200)}."
            ),
        )


@book.rule(
    "EM-PROV-004",
    "C2PA manifest declares edits",
    Category.PROVENANCE,
    Severity.INFO,
    looks_at="c2pa.actions assertions of every manifest",
    innocent="Declared edits (crop, colour, resize) are normal processing that the signer disclosed.",
)
def c2pa_declared_edits(result: AnalysisResult) -> Iterator[Observation]:
    if result.c2pa is None:
        return
    edits = [
        action
        for manifest in result.c2pa.manifests
        for action in manifest.actions
        if action.action not in _NON_EDIT_ACTIONS
    ]
    if edits:
        yield Observation(
            evidence={"c2pa:actions": [{"action": a.action, "softwareAgent": a.software_agent} for a in edits]},
            explanation="The provenance declares the edits " + ", ".join(sorted({a.action for a in edits})) + ".",
        )
