"""Structure rules: damaged or disguised files, encoder traces in the JPEG tables, and container layout facts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from forensics.analysers.exiftool_metadata import OUT_OF_MEMORY
from forensics.analysers.results import AnalysisResult

from .facts import claimed_camera, pixel_size, quote
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

_DAMAGE_CODES = {
    "no_eoi",
    "segment_overrun",
    "garbage",
    "nested_soi",
    "short_dqt",
    "short_dht",
    "thumbnail_outside_exif",
    "truncated_chunk",
    "no_iend",
    "bad_text_chunk",
    "truncated_box",
    "invalid_box_size",
    "invalid_box_type",
    "short_box",
    "trailing_bytes",
}
_SHOWN_TABLES = 3
# Camera firmware writes sequential DCT (SOF0, occasionally SOF1); everything else is a program's choice.
_CAMERA_PROCESSES = ("baseline", "extended sequential")


@book.rule(
    "EM-STRUCT-001",
    "File content does not match its name or declared type",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="libmagic MIME type of the bytes vs the file name's extension and the MIME type declared at upload",
    innocent=(
        "Platforms and download tools often serve WebP/HEIC/AVIF under a .jpg name, and browsers guess "
        "MIME types from names. A renamed file can also be an attempt to hide what it is."
    ),
)
def type_mismatch(result: AnalysisResult) -> Iterator[Observation]:
    file_type = result.file_type
    if file_type is None:
        return
    if file_type.extension_matches is False:
        yield Observation(
            evidence={"file:extension": file_type.extension, "libmagic:mime": file_type.magic_mime},
            explanation=(
                f"The file name ends in {quote(file_type.extension)} but the bytes are "
                f"{quote(file_type.magic_mime)} ({file_type.magic_description})."
            ),
        )
    if file_type.declared_matches is False:
        yield Observation(
            evidence={
                "upload:declared_mime_type": file_type.declared_mime,
                "libmagic:mime": file_type.magic_mime,
            },
            explanation=(
                f"The upload declared the type {quote(file_type.declared_mime)} but the bytes are "
                f"{quote(file_type.magic_mime)}."
            ),
        )


@book.rule(
    "EM-STRUCT-002",
    "File structure is damaged or truncated",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="our JPEG marker walk, PNG chunk walk (incl. CRCs) and ISO-BMFF box walk: where each stopped and why",
    innocent=(
        "Interrupted transfers and downloads truncate files, and some firmware writes slightly "
        "non-conforming structures. Hand-patched or crafted files show the same symptoms."
    ),
)
def damaged_structure(result: AnalysisResult) -> Iterator[Observation]:
    problems = []
    for parser, parsed in (("jpeg", result.jpeg), ("png", result.png), ("isobmff", result.isobmff)):
        if parsed is None:
            continue
        problems += [
            {"parser": parser, "code": issue.code, "offset": issue.offset, "message": issue.message}
            for issue in parsed.issues
            if issue.code in _DAMAGE_CODES
        ]
    if result.png and result.png.crc_errors:
        problems += [
            {
                "parser": "png",
                "code": "crc_mismatch",
                "offset": offset,
                "message": "Chunk checksum (CRC) is wrong.",
            }
            for offset in result.png.crc_errors
        ]
    if not problems:
        return
    shown = "; ".join(
        f"{problem['message']} (at offset {problem['offset']:,})"
        if problem["offset"] is not None
        else problem["message"]
        for problem in problems[:3]
    )
    more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
    yield Observation(evidence={"structure:problems": problems}, explanation=f"{shown}{more}.")


@book.rule(
    "EM-STRUCT-003",
    "ExifTool could not read the file",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="ExifTool:Error",
    innocent="Formats ExifTool does not know, and damaged or truncated copies, give the same error.",
)
def exiftool_error(result: AnalysisResult) -> Iterator[Observation]:
    if result.exiftool is None or not result.exiftool.errors:
        return
    yield Observation(
        evidence={"ExifTool:Error": result.exiftool.errors},
        explanation=f"ExifTool reports the error {quote(result.exiftool.errors[0])}.",
    )


@book.rule(
    "EM-STRUCT-004",
    "Metadata layout deviates from the standard (ExifTool -validate)",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="ExifTool:Validate and ExifTool:Warning",
    innocent=(
        "Very common on genuine files: many cameras and phones write IFDs out of order or omit "
        "recommended tags. Only a comparison with the device's usual layout makes this meaningful."
    ),
)
def validate_warnings(result: AnalysisResult) -> Iterator[Observation]:
    exiftool = result.exiftool
    if exiftool is None or not exiftool.warnings or exiftool.errors:
        return
    yield Observation(
        evidence={"ExifTool:Validate": exiftool.validate, "ExifTool:Warning": exiftool.warnings[:20]},
        explanation=(
            f"ExifTool's validation says {quote(exiftool.validate)}; first warning: {quote(exiftool.warnings[0])}."
        ),
    )


@book.rule(
    "EM-STRUCT-005",
    "Metadata stored after the PNG image data",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="PNG chunk order: text/eXIf chunks after the last IDAT",
    innocent="Legal PNG: ImageMagick and other converters write text chunks after the image data.",
)
def png_chunks_after_idat(result: AnalysisResult) -> Iterator[Observation]:
    if result.png is None or not result.png.chunks_after_idat:
        return
    yield Observation(
        evidence={"png:chunks_after_idat": result.png.chunks_after_idat},
        explanation=f"The chunks {', '.join(result.png.chunks_after_idat)} come after the image data (IDAT).",
    )


@book.rule(
    "EM-STRUCT-006",
    "File is empty",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="file size",
    innocent="A failed upload or copy produces an empty file.",
)
def empty_file(result: AnalysisResult) -> Iterator[Observation]:
    if result.file_size == 0:
        yield Observation(evidence={"file:size": 0}, explanation="The file contains no bytes at all.")


@book.rule(
    "EM-STRUCT-007",
    "Image is too small to show anything",
    Category.STRUCTURE,
    # A warning: evidence that shows nothing is a placeholder, a tracking pixel or content cut away, and a
    # caseworker must look at where it came from (the shared corpus's "empty image" files are such).
    Severity.WARNING,
    looks_at="coded pixel size (JPEG SOF, PNG IHDR, or ExifTool File:ImageWidth/Height)",
    innocent=(
        "Tracking pixels, placeholders and test files are 1x1; published samples are often cropped to strip content."
    ),
)
def degenerate_dimensions(result: AnalysisResult) -> Iterator[Observation]:
    size = pixel_size(result)
    if size is None or size[0] * size[1] > 4:
        return
    yield Observation(
        evidence={"image:width": size[0], "image:height": size[1]},
        explanation=f"The image is {size[0]}x{size[1]} pixels, so it carries no visual content to examine.",
    )


@book.rule(
    "EM-STRUCT-008",
    "JPEG compression settings typical of a software encoder",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="DQT tables (exact IJG-scaled Annex K tables), DHT tables (optimised vs Annex K), SOF process",
    innocent=(
        "Many cameras and phones use libjpeg's standard tables, and some write progressive or optimised "
        "files. This identifies an encoder family, not a specific program."
    ),
)
def software_jpeg_encoding(result: AnalysisResult) -> Iterator[Observation]:
    jpeg = result.jpeg
    if jpeg is None or jpeg.frame is None or not jpeg.quant_tables:
        return
    traits = []
    if all(table.standard_ijg for table in jpeg.quant_tables):
        traits.append(f"quantisation tables are exactly libjpeg's at quality {jpeg.quant_tables[0].estimated_quality}")
    if jpeg.huffman_tables and not any(table.standard for table in jpeg.huffman_tables):
        traits.append("Huffman tables are optimised for this image rather than the standard ones")
    if "progressive" in jpeg.frame.process:
        traits.append("the image is progressive")
    if not traits:
        return
    yield Observation(
        evidence={
            "jpeg:quant_tables": [
                {
                    "id": table.table_id,
                    "estimated_quality": table.estimated_quality,
                    "standard_ijg": table.standard_ijg,
                }
                for table in jpeg.quant_tables[:_SHOWN_TABLES]
            ],
            "jpeg:optimised_huffman": bool(jpeg.huffman_tables) and not any(t.standard for t in jpeg.huffman_tables),
            "jpeg:SOF": jpeg.frame.process,
        },
        explanation="The JPEG's " + "; ".join(traits) + ", which is how image libraries and editors usually save.",
    )


@book.rule(
    "EM-STRUCT-009",
    "Leftover storage data after the image",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at=(
        "JPEG bytes after an image's EOI that stop on a 512-byte boundary and either start with 16+ fill bytes "
        "(zeros or 0xFF) before the end of the file or (under one sector) the start of an MPF image, or run to the "
        "end of the file in under 64 KiB that hold nothing but fill after their first 128 bytes, apart from a mark in "
        "the last 4 bytes of each sector"
    ),
    innocent=(
        "Files recovered or copied sector by sector from memory cards keep whatever the last sector held, and "
        "cameras that align each image to a sector (Panasonic) leave leftovers after the fill; old cameras that "
        "write whole blocks (Ricoh DC-3Z) leave a few bytes of their buffer and then fill; "
        "it is not content added by a program."
    ),
)
def storage_slack(result: AnalysisResult) -> Iterator[Observation]:
    if result.jpeg is None:
        return
    for region in result.jpeg.trailing:
        if region.classification == "storage_slack":
            yield Observation(
                evidence={
                    "jpeg:slack_offset": region.offset,
                    "jpeg:slack_length": region.length,
                    "sha256": region.sha256,
                },
                explanation=(
                    f"{region.length:,} bytes after the end of an image at offset {region.offset:,} are fill bytes "
                    "(after at most a few leftover bytes) and stop on a 512-byte boundary, like the unused tail of a "
                    "storage sector or of a camera's write buffer."
                ),
            )


@book.rule(
    "EM-STRUCT-010",
    "Fragmented (streaming) MP4 layout",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="ISO-BMFF boxes moof/sidx/mvex/styp/mfra and ftyp brands",
    innocent=(
        "Browser recorders, screen recorders and some cameras write fragments; downloads from streaming sites do too."
    ),
)
def fragmented_mp4(result: AnalysisResult) -> Iterator[Observation]:
    if result.isobmff is None or not result.isobmff.fragmented:
        return
    yield Observation(
        evidence={
            "ftyp:major_brand": result.isobmff.major_brand,
            "ftyp:compatible": result.isobmff.compatible_brands,
        },
        explanation=(
            f"The file is fragmented for streaming (brands {', '.join(result.isobmff.compatible_brands) or 'none'}), "
            "which is typical of a downloaded stream or a packager, not of a camera's saved recording."
        ),
    )


@book.rule(
    "EM-STRUCT-011",
    "Movie index placed before the media data",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="top-level ISO-BMFF box order: moov before mdat",
    innocent=(
        "Web-optimised ('fast start') exports, QuickTime/iTunes exports and some cameras write the index "
        "first; phones usually write it last."
    ),
)
def moov_before_mdat(result: AnalysisResult) -> Iterator[Observation]:
    isobmff = result.isobmff
    if isobmff is None or result.file_type is None or result.file_type.magic_mime.startswith("image/"):
        return
    order = [box.type for box in isobmff.top_level]
    if "moov" in order and "mdat" in order and order.index("moov") < order.index("mdat"):
        yield Observation(
            evidence={"isobmff:top_level_order": order, "isobmff:mdat_offsets": isobmff.mdat_offsets},
            explanation=f"The top-level boxes are {' '.join(order)}: the index (moov) precedes the media data (mdat).",
        )


@book.rule(
    "EM-STRUCT-012",
    "Edit list that cuts or shifts the media",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="elst entries in each track",
    innocent="Devices write one-entry edit lists, and audio encoder delay is handled with edit lists too.",
)
def nontrivial_edit_list(result: AnalysisResult) -> Iterator[Observation]:
    if result.isobmff is None:
        return
    for edit_list in result.isobmff.edit_lists:
        if len(edit_list.entries) > 1:
            yield Observation(
                evidence={
                    "isobmff:elst_path": edit_list.path,
                    "isobmff:elst_offset": edit_list.offset,
                    "isobmff:elst_entries": edit_list.entries[:10],
                },
                explanation=(
                    f"The edit list at offset {edit_list.offset:,} has {len(edit_list.entries)} entries, "
                    "as left by trimming or joining without re-encoding."
                ),
            )


@book.rule(
    "EM-STRUCT-013",
    "Part of the analysis could not be completed",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "status of each analyser run (failed or timed out), and where our walks of the file's structure (JPEG, PNG, "
        "ISO-BMFF, HEIF item tables, RIFF, EBML, GIF, TIFF) stopped at their limits (segments, chunks, "
        "boxes, item entries, elements, blocks, IFDs, nesting depth, seconds)"
    ),
    innocent=(
        "Damaged files and formats a tool does not support make analysers fail; very long recordings cut into many "
        "fragments, or a very large file on a busy machine, reach a walk's limit. The rest of the report stands."
    ),
)
def incomplete_analysis(result: AnalysisResult) -> Iterator[Observation]:
    broken = [run for run in result.runs if run.status in ("failed", "timeout")]
    stopped = [(parser, issue) for parser, parsed in _walks(result) for issue in parsed.issues if issue.walk_limit]
    if not broken and not stopped:
        return
    sentences = [f"{run.name} {run.status}: {quote(run.error, 200)}" for run in broken]
    sentences += [
        f"the {parser} walk stopped at its limit: {issue.message.rstrip('.')}"
        + (f" (at offset {issue.offset:,}); the rest of the file was not examined" if issue.offset is not None else "")
        for parser, issue in stopped
    ]
    evidence = {}
    if broken:
        evidence["analysers"] = [{"name": run.name, "status": run.status, "error": run.error} for run in broken]
    if stopped:
        evidence["structure:walk_limits"] = [
            {"parser": parser, "code": issue.code, "offset": issue.offset, "message": issue.message}
            for parser, issue in stopped
        ]
    yield Observation(evidence=evidence, explanation="; ".join(sentences) + ".")


def _walks(result: AnalysisResult) -> Iterator[tuple[str, Any]]:
    """Each structure walk the analysis made, by its parser's name."""
    heif = result.isobmff.heif if result.isobmff is not None else None
    for parser, parsed in (
        ("jpeg", result.jpeg),
        ("png", result.png),
        ("isobmff", result.isobmff),
        ("heif", heif),
        ("riff", result.riff),
        ("ebml", result.ebml),
        ("gif", result.gif),
        ("tiff", result.tiff),
    ):
        if parsed is not None:
            yield parser, parsed


@book.rule(
    "EM-STRUCT-014",
    "EXIF thumbnail shape differs from the main image",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="EXIF IFD1 thumbnail size (from its own SOF) vs the main image's SOF size, allowing rotation",
    innocent=(
        "Cameras write fixed-size, letter-boxed thumbnails (e.g. 160x120 for a 3:2 photo). A thumbnail "
        "with a very different shape can also survive from an image that was later cropped."
    ),
)
def thumbnail_shape(result: AnalysisResult) -> Iterator[Observation]:
    jpeg = result.jpeg
    if jpeg is None or jpeg.frame is None or jpeg.thumbnail is None or not jpeg.thumbnail.width:
        return
    thumb = jpeg.thumbnail
    if not thumb.height or not jpeg.frame.height:
        return
    main_ratio = jpeg.frame.width / jpeg.frame.height
    thumb_ratio = thumb.width / thumb.height
    # A letter-boxed 4:3 or 3:2 thumbnail is normal; only a difference beyond both shapes counts.
    differences = [abs(thumb_ratio - main_ratio) / main_ratio, abs(1 / thumb_ratio - main_ratio) / main_ratio]
    if min(differences) > 0.35:
        yield Observation(
            evidence={
                "jpeg:thumbnail_size": [thumb.width, thumb.height],
                "jpeg:SOF_size": [jpeg.frame.width, jpeg.frame.height],
            },
            explanation=(
                f"The embedded thumbnail is {thumb.width}x{thumb.height} but the image is "
                f"{jpeg.frame.width}x{jpeg.frame.height}: their shapes differ by more than letter-boxing explains."
            ),
        )


@book.rule(
    "EM-STRUCT-015",
    "Camera original claimed, but the JPEG is progressive or non-baseline",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at="SOF marker (coding process) of a JPEG whose IFD0:Make names a camera and no software tag an editor",
    innocent=(
        "A few devices and capture apps write progressive files; in the corpus no camera original does. Web "
        "pipelines, optimisers and editors that keep the EXIF block produce exactly this."
    ),
)
def camera_claim_non_baseline(result: AnalysisResult) -> Iterator[Observation]:
    jpeg = result.jpeg
    camera = claimed_camera(result)
    if camera is None or jpeg is None or jpeg.frame is None or jpeg.frame.process in _CAMERA_PROCESSES:
        return
    yield Observation(
        evidence={"IFD0:Make/Model": camera, "jpeg:SOF": jpeg.frame.marker, "jpeg:process": jpeg.frame.process},
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)}, but the image is coded "
            f"{jpeg.frame.process} ({jpeg.frame.marker}), which camera firmware does not write: it was re-encoded."
        ),
    )


@book.rule(
    "EM-STRUCT-016",
    "Camera original claimed, but the Huffman tables are optimised",
    Category.STRUCTURE,
    Severity.INFO,
    looks_at="DHT tables (Annex K standard vs optimised) of a JPEG whose IFD0:Make names a camera and no editor",
    innocent=(
        "Most cameras write the standard tables, but phones such as recent Samsung and Oppo models optimise "
        "them (one camera original in the corpus does), so this is context, not evidence of editing."
    ),
)
def camera_claim_optimised_huffman(result: AnalysisResult) -> Iterator[Observation]:
    jpeg = result.jpeg
    camera = claimed_camera(result)
    if camera is None or jpeg is None or not jpeg.huffman_tables or any(t.standard for t in jpeg.huffman_tables):
        return
    yield Observation(
        evidence={
            "IFD0:Make/Model": camera,
            "jpeg:huffman_tables": [
                {"class": table.table_class, "id": table.table_id, "offset": table.offset}
                for table in jpeg.huffman_tables[:8]
            ],
        },
        explanation=(
            f"The metadata presents the file as a photo from {quote(camera)}, but all "
            f"{len(jpeg.huffman_tables)} Huffman tables are optimised for this image rather than the standard "
            "ones most camera firmware writes."
        ),
    )


@book.rule(
    "EM-STRUCT-017",
    "Compressed data inflates far beyond the file (decompression bomb)",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "compressed chunks our walkers inflate (PNG zTXt/iTXt, capped at 4 MiB each) and whether ExifTool ran "
        "out of memory under its limit"
    ),
    innocent=(
        "A very long compressed text (a huge XMP packet or workflow) can pass the cap without harm; ratios of "
        "thousands to one come from runs of identical bytes, which no camera or editor writes into metadata. "
        "Such files are built to exhaust the memory of whatever reads them."
    ),
)
def decompression_bomb(result: AnalysisResult) -> Iterator[Observation]:
    bombs = [
        {"parser": parser, "offset": issue.offset, "message": issue.message}
        for parser, parsed in (("jpeg", result.jpeg), ("png", result.png), ("isobmff", result.isobmff))
        if parsed is not None
        for issue in parsed.issues
        if issue.code == "decompression_bomb"
    ]
    exiftool = result.run("exiftool")
    exiftool_exhausted = exiftool is not None and OUT_OF_MEMORY in (exiftool.error or "")
    if not bombs and not exiftool_exhausted:
        return
    evidence: dict = {"structure:decompression_bombs": bombs}
    sentences = [f"{bomb['message']} (at offset {bomb['offset']:,})" for bomb in bombs[:3]]
    if exiftool_exhausted:
        evidence["exiftool:run"] = exiftool.error
        sentences.append("ExifTool ran out of memory reading the file and was stopped")
    yield Observation(evidence=evidence, explanation="; ".join(sentences) + ".")


def _walker_damage(parser: str, issues: list) -> Iterator[Observation]:
    """One finding per damaged file from a container walker, quoting where each problem is and what was expected."""
    if not issues:
        return
    problems = [
        {"parser": parser, "code": issue.code, "offset": issue.offset, "message": issue.message} for issue in issues
    ]
    more = f" ({len(problems) - 3} more problems in the evidence)" if len(problems) > 3 else ""
    yield Observation(
        evidence={"structure:problems": problems},
        explanation=" ".join(problem["message"] for problem in problems[:3]) + more,
    )


@book.rule(
    "EM-STRUCT-018",
    "AVI, WAV or WebP structure is damaged or inconsistent",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our RIFF chunk walk: chunk and LIST sizes against the parent and the file, pad bytes, idx1 and OpenDML "
        "indx/ix## entries against the chunks they point to, required chunks, WebP VP8/VP8L/VP8X headers and "
        "VP8X flags against the ICCP/EXIF/XMP/ANIM chunks present, bytes after the RIFF size"
    ),
    innocent=(
        "An interrupted download or copy cuts the file, so the sizes in its headers run past its end; a recorder "
        "that crashed leaves its index incomplete. Some old WAV writers omit the pad byte after an odd-sized "
        "chunk, miscount the RIFF size, or append an ID3 tag after the RIFF chunk. (Old muxers that count idx1 "
        "offsets from the start of the file, and streamed WAV files with unknown sizes, are accepted and not "
        "reported.) Hand-patched, crafted or spliced files show the same symptoms."
    ),
)
def damaged_riff(result: AnalysisResult) -> Iterator[Observation]:
    if result.riff is not None:
        yield from _walker_damage("riff", result.riff.damage)


@book.rule(
    "EM-STRUCT-019",
    "Matroska or WebM structure is damaged or inconsistent",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our EBML element walk: element sizes against the parent and the file, element IDs, unknown sizes "
        "outside Segment/Cluster, the Segment's presence, SeekHead and Cues positions against the elements "
        "they point to"
    ),
    innocent=(
        "An interrupted download, copy or recording cuts the file, so the Segment or the last Cluster runs past "
        "its end. (Live recordings that leave the Segment and Cluster sizes unknown are accepted and not "
        "reported.) A tool that edited the file without rewriting its SeekHead or Cues, a hand-patched or a "
        "crafted file show the same symptoms."
    ),
)
def damaged_ebml(result: AnalysisResult) -> Iterator[Observation]:
    if result.ebml is not None:
        yield from _walker_damage("ebml", result.ebml.damage)


@book.rule(
    "EM-STRUCT-020",
    "GIF structure is damaged or has data after its end",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our GIF block walk: header, logical screen and colour tables, extension and image blocks with their "
        "sub-block chains, the trailer byte, and bytes after it"
    ),
    innocent=(
        "An interrupted download or copy cuts the file before its trailer; a few old encoders omit the trailer or "
        "leave bytes after it (icons shipped with Python's IDLE do both). Appended bytes can also hide a "
        "payload, and crafted files show the same symptoms."
    ),
)
def damaged_gif(result: AnalysisResult) -> Iterator[Observation]:
    if result.gif is not None:
        yield from _walker_damage("gif", result.gif.damage)


@book.rule(
    "EM-STRUCT-021",
    "TIFF or DNG structure is damaged",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our TIFF IFD walk: the IFD chain and the EXIF, GPS, interoperability and SubIFD pointers (each inside "
        "the file, none visited twice), entry tables and out-of-line values inside the file, strip and tile "
        "offsets against their byte counts and the file size, the JPEG thumbnail's extent"
    ),
    innocent=(
        "An interrupted download or copy cuts the file, so strips and IFDs near its end point past it. A "
        "program that rewrote the file without updating every offset, a hand-patched or a crafted file show "
        "the same symptoms."
    ),
)
def damaged_tiff(result: AnalysisResult) -> Iterator[Observation]:
    if result.tiff is not None:
        yield from _walker_damage("tiff", result.tiff.damage)


@book.rule(
    "EM-STRUCT-022",
    "HEIF or AVIF item tables are damaged or inconsistent",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "our walk of the file-level 'meta' box: the primary item ('pitm') against the items 'iinf' declares, each "
        "item's extents in 'iloc' against the file and 'idat', item references ('iref': thumbnails, EXIF, tiles) "
        "and property associations ('ipma') against the items and the 'ipco' properties, the EXIF item's TIFF "
        "header, box and field sizes inside these tables"
    ),
    innocent=(
        "An interrupted download or copy cuts the file, so item extents near its end point past it. ExifTool, "
        "told to delete the metadata, leaves the EXIF item with a zero-length extent. A converter that rewrote the "
        "item tables badly, a hand-patched or a crafted file show the same symptoms; phones and libheif write "
        "consistent tables."
    ),
)
def damaged_heif_items(result: AnalysisResult) -> Iterator[Observation]:
    if result.isobmff is not None and result.isobmff.heif is not None:
        yield from _walker_damage("heif", result.isobmff.heif.damage)
