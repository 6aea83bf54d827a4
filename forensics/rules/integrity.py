"""Integrity rules: stored bytes or signed hashes that no longer match, and data appended after the image."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysers.results import AnalysisResult

from .declared_previews import unaccounted_trailing
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

# C2PA status codes that mean signed content or signed manifest parts were changed after signing.
_TAMPER_CODES = {
    "assertion.dataHash.mismatch": "the image bytes no longer match the hash the signer recorded",
    "assertion.bmffHash.mismatch": "the video/container bytes no longer match the hash the signer recorded",
    "assertion.boxesHash.mismatch": "the file's boxes no longer match the hash the signer recorded",
    "assertion.collectionHash.mismatch": "files in the signed collection no longer match their hashes",
    "assertion.hashedURI.mismatch": "a signed statement inside the manifest was altered",
    "claimSignature.mismatch": "the manifest's digital signature does not verify",
    "claimSignature.missing": "the manifest's digital signature is missing",
    "assertion.missing": "a statement the signature covers is missing",
    "ingredient.manifest.missing": "the manifest of a declared source file is missing",
    "ingredient.hashedURI.mismatch": "a declared source file's manifest was altered",
}


@book.rule(
    "EM-INT-001",
    "C2PA validation failed: content or manifest changed after signing",
    Category.INTEGRITY,
    Severity.CRITICAL,
    looks_at="c2pa-python validation_status codes of every manifest in the store",
    innocent=(
        "Any program that rewrites a signed file without re-signing it (a metadata editor, a re-save, "
        "some upload pipelines) breaks the hash; a few signers have also shipped buggy hashes. The "
        "failure proves the file is not the one that was signed, not who changed it or why."
    ),
)
def c2pa_validation_failed(result: AnalysisResult) -> Iterator[Observation]:
    if result.c2pa is None or not result.c2pa.present:
        return
    failed = [status for status in result.c2pa.status_codes if status["code"] in _TAMPER_CODES]
    if not failed:
        return
    codes = sorted({status["code"] for status in failed})
    meanings = "; ".join(f"'{code}': {_TAMPER_CODES[code]}" for code in codes)
    yield Observation(
        evidence={
            "c2pa:validation_state": result.c2pa.validation_state,
            "c2pa:validation_status": [{"code": status["code"], "url": status["url"]} for status in failed],
        },
        explanation=f"The C2PA provenance check reports {meanings}.",
    )


@book.rule(
    "EM-INT-002",
    "Undeclared data after the end of the image",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at=(
        "JPEG marker walk: bytes after the primary image's EOI minus MPF-declared images, padding, sector fill, "
        "known trailers and preview images the maker notes declare (ExifTool start/length pairs, see EM-MAKER-004)"
    ),
    innocent=(
        "Some cameras and phone apps append undocumented vendor data; files recovered from a memory card "
        "can carry leftovers of older files. Appended data can also be hidden content or a second image."
    ),
)
def jpeg_undeclared_trailer(result: AnalysisResult) -> Iterator[Observation]:
    regions = unaccounted_trailing(result)
    if not regions:
        return
    undeclared = sum(region.length for region in regions)
    first = regions[0]
    looks_like = f"; it starts like a {first.detail}" if first.detail else ""
    yield Observation(
        evidence={
            "jpeg:primary_image_end_offset": result.jpeg.primary_end,
            "jpeg:undeclared_trailing_bytes": undeclared,
            "jpeg:undeclared_regions": [
                {
                    "offset": region.offset,
                    "length": region.length,
                    "looks_like": region.detail,
                    "sha256": region.sha256,
                }
                for region in regions
            ],
        },
        explanation=(
            f"{undeclared:,} bytes follow the end of the image at offset {result.jpeg.primary_end:,}, not declared "
            f"by any index (MPF), maker-note preview or known trailer{looks_like}."
        ),
    )


@book.rule(
    "EM-INT-003",
    "Data after the end of the PNG image",
    Category.INTEGRITY,
    Severity.WARNING,
    looks_at="PNG chunk walk: bytes after the IEND chunk",
    innocent="A few tools pad files; transfer tools rarely add bytes. Appended data can also hide a payload.",
)
def png_data_after_iend(result: AnalysisResult) -> Iterator[Observation]:
    if result.png is None or not result.png.bytes_after_iend:
        return
    yield Observation(
        evidence={
            "png:iend_end_offset": result.png.iend_end,
            "png:bytes_after_iend": result.png.bytes_after_iend,
        },
        explanation=(
            f"{result.png.bytes_after_iend:,} bytes follow the PNG end chunk (IEND) at offset "
            f"{result.png.iend_end:,}; a PNG reader ignores them."
        ),
    )


@book.rule(
    "EM-INT-004",
    "Stored bytes no longer match the SHA-256 recorded at ingest",
    Category.INTEGRITY,
    Severity.CRITICAL,
    looks_at="SHA-256 of the bytes read for this analysis vs the SHA-256 recorded when the file was received",
    innocent=(
        "Storage corruption or a restore from the wrong backup also changes the bytes. Either way the file "
        "analysed is not the file that was received, so no other finding can be relied on for the original."
    ),
)
def stored_hash_mismatch(result: AnalysisResult) -> Iterator[Observation]:
    if result.expected_sha256 is None or result.sha256 is None or result.sha256 == result.expected_sha256:
        return
    yield Observation(
        evidence={"sha256:recorded_at_ingest": result.expected_sha256, "sha256:stored_bytes": result.sha256},
        explanation=(
            f"The stored bytes no longer match the SHA-256 recorded at ingest: ingest recorded "
            f"{result.expected_sha256}, the stored file now hashes to {result.sha256}."
        ),
    )
