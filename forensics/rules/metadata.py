"""Metadata rules: software named in the file, sizes and dates that disagree, and writer fingerprints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from forensics.analysers.results import AnalysisResult

from .facts import as_int, by_tag, first, quote, tags
from .model import Category, Observation, RuleBook, Severity
from .software_names import SOFTWARE_TAGS, comment_writer_named, editor_named

book = RuleBook()

# MediaInfo's writing_library names the muxer's vendor even for device files ("Apple QuickTime" on
# iPhone recordings), so only the application field counts as a named program.
_MEDIAINFO_SOFTWARE_FIELDS = ("writing_application",)
_SOFTWARE_ENCODERS = ("x264", "x265", "lavc", "xvid", "3ivx", "divx")
_ROTATED = ("Rotate 90", "Rotate 270", "transverse", "transpose")
_SOFTWARE_MUXER_HANDLERS = (
    ("Apple Video Media Handler", "Apple QuickTime (desktop authoring or export)"),
    ("Apple Sound Media Handler", "Apple QuickTime (desktop authoring or export)"),
    ("Mainconcept", "MainConcept encoder (Adobe Premiere/Media Encoder)"),
    ("GPAC", "GPAC MP4Box"),
    ("L-SMASH", "L-SMASH muxer"),
)
_FFMPEG_HANDLERS = {"VideoHandler", "SoundHandler"}
_FFMPEG_MINOR_VERSION = 0x200
_DATE_FORMAT = "%Y:%m:%d %H:%M:%S"
# Makers whose cameras write a maker note into every JPEG, with the ExifTool group prefix of that note.
# Sony (early Mavica/Cyber-shot models), Apple (iPhones before iOS 7), phone makers and thermal/trail cameras
# are left out: genuine files from them often have none (JPEGsnoop keeps a similar exception list).
_MAKER_NOTE_VENDORS = (
    ("canon", "Canon"),
    ("nikon", "Nikon"),
    ("fuji", "FujiFilm"),
    ("olympus", "Olympus"),
    ("om digital", "Olympus"),
    ("panasonic", "Panasonic"),
    ("pentax", "Pentax"),
    ("ricoh", "Ricoh"),
    ("casio", "Casio"),
    ("kodak", "Kodak"),
    ("minolta", "Minolta"),
    ("konica", "Minolta"),
    ("sanyo", "Sanyo"),
    ("leica", "Leica"),
    ("sigma", "Sigma"),
)
# What Apple's capture stack writes into the 'keys' list of every iPhone/Mac recording (c.mov, with-gps.mov).
APPLE_QUICKTIME_KEYS = (
    "com.apple.quicktime.make",
    "com.apple.quicktime.model",
    "com.apple.quicktime.software",
    "com.apple.quicktime.creationdate",
)
_QUICKTIME_MAKE_GROUPS = ("Keys", "UserData", "ItemList", "QuickTime")
_DATE_TOLERANCE_SECONDS = 60


@book.rule(
    "EM-META-001",
    "Metadata names editing or conversion software",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "Software, ProcessingSoftware, XMP CreatorTool/HistorySoftwareAgent, QuickTime/RIFF encoder tags "
        "(all groups, via ExifTool) and MediaInfo encoded/writing application"
    ),
    innocent=(
        "RAW development, transfer tools and photo-library apps write their name without changing the "
        "scene; firmware versions in Software are not matched. It shows processing, not what was changed."
    ),
)
def software_named(result: AnalysisResult) -> Iterator[Observation]:
    named: dict[str, dict[str, str]] = {}
    for tag in SOFTWARE_TAGS:
        for field_name, value in by_tag(result, tag).items():
            for item in value if isinstance(value, list) else [value]:
                program = editor_named(str(item))
                if program:
                    named.setdefault(program, {})[field_name] = str(item)
    if result.mediainfo:
        for track in result.mediainfo.tracks:
            for key in _MEDIAINFO_SOFTWARE_FIELDS:
                value = track.get(key)
                program = editor_named(str(value)) if value else None
                if program:
                    named.setdefault(program, {})[f"MediaInfo:{track.get('track_type')}:{key}"] = str(value)
    for program, fields in named.items():
        quoted = ", ".join(f"{field_name} says {quote(value)}" for field_name, value in list(fields.items())[:3])
        yield Observation(
            evidence={"software": program, **fields},
            explanation=f"{quoted}: the file was written or processed by {program}.",
        )


@book.rule(
    "EM-META-002",
    "Pixel size differs from the size the camera recorded",
    Category.METADATA,
    Severity.WARNING,
    looks_at="ExifIFD:ExifImageWidth/ExifImageHeight vs the JPEG SOF size, allowing a swap for rotated orientations",
    innocent=(
        "Some converters keep the old EXIF block when resizing, and a few cameras record the sensor size "
        "in reduced-size modes; the image was still resized or rotated after the EXIF was written."
    ),
)
def exif_size_mismatch(result: AnalysisResult) -> Iterator[Observation]:
    if result.jpeg is None or result.jpeg.frame is None:
        return
    exif_width = as_int(first(result, "ExifIFD:ExifImageWidth"))
    exif_height = as_int(first(result, "ExifIFD:ExifImageHeight"))
    if not exif_width or not exif_height:
        return
    coded = (result.jpeg.frame.width, result.jpeg.frame.height)
    orientation = str(first(result, "IFD0:Orientation") or "")
    allowed = {(exif_width, exif_height)}
    if any(word in orientation for word in _ROTATED):
        allowed.add((exif_height, exif_width))
    if coded in allowed:
        return
    yield Observation(
        evidence={
            "ExifIFD:ExifImageWidth": exif_width,
            "ExifIFD:ExifImageHeight": exif_height,
            "IFD0:Orientation": orientation or None,
            "jpeg:SOF_width": coded[0],
            "jpeg:SOF_height": coded[1],
        },
        explanation=(
            f"The camera recorded {exif_width}x{exif_height} pixels in EXIF, but the image is coded as "
            f"{coded[0]}x{coded[1]}: it was resized, cropped or rotated after capture."
        ),
    )


@book.rule(
    "EM-META-003",
    "Photoshop resource block present",
    Category.METADATA,
    Severity.INFO,
    looks_at="JPEG APP13 'Photoshop 3.0' segment",
    innocent="IPTC captioning tools and newsroom or platform workflows add this block without touching pixels.",
)
def photoshop_irb(result: AnalysisResult) -> Iterator[Observation]:
    if result.jpeg is None:
        return
    for segment in result.jpeg.segments:
        if segment.label == "Photoshop IRB":
            yield Observation(
                evidence={"jpeg:APP13_offset": segment.offset, "jpeg:APP13_length": segment.length},
                explanation=f"A Photoshop/IPTC resource block (APP13) sits at offset {segment.offset:,}.",
            )
            return


@book.rule(
    "EM-META-004",
    "XMP records an editing history",
    Category.METADATA,
    Severity.WARNING,
    looks_at="XMP-xmpMM:HistoryAction/HistorySoftwareAgent, XMP-xmpMM:DerivedFrom*, XMP-photoshop:DocumentAncestors",
    innocent=(
        "Normal RAW development and asset-management workflows record history; XMP may be copied from a source file."
    ),
)
def xmp_history(result: AnalysisResult) -> Iterator[Observation]:
    actions = first(result, "XMP-xmpMM:HistoryAction")
    agents = first(result, "XMP-xmpMM:HistorySoftwareAgent")
    derived = first(result, "XMP-xmpMM:DerivedFromDocumentID") or first(result, "XMP-xmpMM:DerivedFromInstanceID")
    ancestors = first(result, "XMP-photoshop:DocumentAncestors")
    if not (actions or derived or ancestors):
        return
    parts = []
    if actions:
        parts.append(f"the actions {quote(actions)}" + (f" by {quote(agents)}" if agents else ""))
    if derived:
        parts.append(f"that it was derived from document {quote(derived)}")
    if ancestors:
        parts.append("that other documents were placed into it (DocumentAncestors)")
    yield Observation(
        evidence={
            "XMP-xmpMM:HistoryAction": actions,
            "XMP-xmpMM:HistorySoftwareAgent": agents,
            "XMP-xmpMM:DerivedFrom": derived,
            "XMP-photoshop:DocumentAncestors": ancestors,
        },
        explanation="The XMP edit history records " + "; ".join(parts) + ".",
    )


@book.rule(
    "EM-META-006",
    "File modified well after it was captured",
    Category.METADATA,
    Severity.WARNING,
    looks_at="IFD0:ModifyDate vs ExifIFD:DateTimeOriginal",
    innocent="Some cameras stamp in-camera edits or rating changes; wrong clocks and time-zone fixes also shift dates.",
)
def modified_after_capture(result: AnalysisResult) -> Iterator[Observation]:
    modified, original = first(result, "IFD0:ModifyDate"), first(result, "ExifIFD:DateTimeOriginal")
    modified_at, original_at = _exif_date(modified), _exif_date(original)
    if modified_at is None or original_at is None:
        return
    if (modified_at - original_at).total_seconds() > _DATE_TOLERANCE_SECONDS:
        yield Observation(
            evidence={"IFD0:ModifyDate": modified, "ExifIFD:DateTimeOriginal": original},
            explanation=f"The file says it was modified on {quote(modified)}, after it was taken on {quote(original)}.",
        )


def _exif_date(value: object) -> datetime | None:
    try:
        return datetime.strptime(str(value)[:19], _DATE_FORMAT)
    except ValueError:
        return None


@book.rule(
    "EM-META-007",
    "Camera metadata inside a PNG file",
    Category.METADATA,
    Severity.WARNING,
    looks_at="Make/Model in a PNG's eXIf chunk or exif:* text chunks",
    innocent="Cameras never write PNG; a converter or editor exported it and kept the camera's metadata.",
)
def camera_exif_in_png(result: AnalysisResult) -> Iterator[Observation]:
    if result.container != "png":
        return
    fields = {
        **by_tag(result, "Make"),
        **by_tag(result, "Model"),
        **by_tag(result, "ExifMake"),
        **by_tag(result, "ExifModel"),
    }
    if result.png:
        fields.update(
            {
                f"PNG text:{text.keyword}": text.text
                for text in result.png.texts
                if text.keyword in ("exif:Make", "exif:Model")
            }
        )
    if not fields:
        return
    camera = " ".join(str(value) for value in list(fields.values())[:2])
    yield Observation(
        evidence=fields,
        explanation=f"The PNG carries camera metadata naming {quote(camera)}, but cameras do not save PNG files.",
    )


@book.rule(
    "EM-META-008",
    "Video tracks written by a software muxer",
    Category.METADATA,
    Severity.WARNING,
    looks_at="hdlr handler names of each track, ftyp minor version (FFmpeg writes 0x200)",
    innocent=(
        "Device SDKs sometimes reuse library muxers and their handler names, and a stream copy keeps the "
        "input's names; handler names can also be forged to imitate a phone."
    ),
)
def software_muxer_handlers(result: AnalysisResult) -> Iterator[Observation]:
    isobmff = result.isobmff
    if isobmff is None:
        return
    programs: dict[str, list[str]] = {}
    for handler in isobmff.handlers:
        for needle, program in _SOFTWARE_MUXER_HANDLERS:
            if needle.lower() in handler.name.lower():
                programs.setdefault(program, []).append(handler.name)
    ffmpeg_names = [handler.name for handler in isobmff.handlers if handler.name in _FFMPEG_HANDLERS]
    if ffmpeg_names and isobmff.minor_version == _FFMPEG_MINOR_VERSION:
        programs["FFmpeg (libavformat)"] = ffmpeg_names + [f"ftyp minor version 0x{isobmff.minor_version:X}"]
    for program, names in programs.items():
        yield Observation(
            evidence={"isobmff:hdlr_names": sorted(set(names)), "ftyp:minor_version": isobmff.minor_version},
            explanation=(
                f"The track handler names {', '.join(map(quote, sorted(set(names))))} are written by {program}."
            ),
        )


@book.rule(
    "EM-META-009",
    "Container creation time is unset or the Unix epoch",
    Category.METADATA,
    Severity.INFO,
    looks_at="mvhd creation_time (seconds since 1904-01-01 UTC)",
    innocent="Cameras with unset clocks and privacy tools produce zero dates; FFmpeg leaves it unset unless told.",
)
def zero_creation_time(result: AnalysisResult) -> Iterator[Observation]:
    if result.isobmff is None:
        return
    for times in result.isobmff.times:
        if times.box == "mvhd" and times.raw_creation in (0, 2_082_844_800):
            shown = "0 (not set)" if times.raw_creation == 0 else "1970-01-01 (the Unix epoch)"
            yield Observation(
                evidence={"mvhd:creation_time": times.raw_creation, "mvhd:offset": times.offset},
                explanation=f"The movie header's creation time is {shown}, so the container gives no recording date.",
            )
            return


@book.rule(
    "EM-META-010",
    "Video encoded by a software encoder",
    Category.METADATA,
    Severity.WARNING,
    looks_at="MediaInfo video/audio track writing_library and encoding_settings (x264/x265 SEI banner, Lavc)",
    innocent="Some apps encode with x264 on the device; a software encode is still a re-encode of the recording.",
)
def software_encoder(result: AnalysisResult) -> Iterator[Observation]:
    if result.mediainfo is None:
        return
    for track in result.mediainfo.tracks:
        if track.get("track_type") == "General":
            continue
        library = str(track.get("writing_library") or "")
        if any(name in library.lower() for name in _SOFTWARE_ENCODERS):
            yield Observation(
                evidence={
                    f"MediaInfo:{track.get('track_type')}:writing_library": library,
                    f"MediaInfo:{track.get('track_type')}:encoding_settings": track.get("encoding_settings"),
                },
                explanation=f"The {track.get('track_type', 'media').lower()} stream was encoded by {quote(library)}.",
            )


def _maker_note_present(result: AnalysisResult, group_prefix: str) -> bool:
    if result.jpeg is not None and result.jpeg.exif_maker_note_length is not None:
        return result.jpeg.exif_maker_note_length > 0
    # Other containers: ExifTool names a decoded maker note by its vendor's group, an unknown one "MakerNote...".
    return any(key.startswith(group_prefix) or ":MakerNote" in key for key in tags(result))


@book.rule(
    "EM-META-011",
    "Camera named but its maker notes are missing",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "IFD0:Make of makers whose cameras always write maker notes (Canon, Nikon, Fujifilm, Olympus, Panasonic, "
        "Pentax, Ricoh, Casio, Kodak, Minolta/Konica, Sanyo, Leica, Sigma) vs the ExifIFD MakerNote tag 0x927C "
        "(our JPEG walk) or ExifTool's maker-note group"
    ),
    innocent=(
        "A few early models wrote none; converters and some photo-library exports rebuild EXIF without the "
        "vendor block. Editors that keep Make/Model but drop the maker notes leave exactly this pattern."
    ),
)
def maker_notes_missing(result: AnalysisResult) -> Iterator[Observation]:
    make = first(result, "IFD0:Make")
    if not make:
        return
    group = next((group for needle, group in _MAKER_NOTE_VENDORS if needle in str(make).lower()), None)
    if group is None or _maker_note_present(result, group):
        return
    yield Observation(
        evidence={
            "IFD0:Make": make,
            "IFD0:Model": first(result, "IFD0:Model"),
            "ExifIFD:MakerNote": None,
            "jpeg:exif_maker_note_length": result.jpeg.exif_maker_note_length if result.jpeg else None,
        },
        explanation=(
            f"IFD0:Make says {quote(make)}, whose cameras write a maker-note block into every photo, but the "
            "file has none: the EXIF was rebuilt by software after capture."
        ),
    )


@book.rule(
    "EM-META-016",
    "Video claims an Apple device but lacks Apple's metadata keys",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "QuickTime make tags (com.apple.quicktime.make, Keys/UserData/ItemList Make) vs the keys every Apple "
        "recording carries: com.apple.quicktime.make, model, software and creationdate"
    ),
    innocent=(
        "Some share-sheet and messenger exports keep only part of the metadata. Re-muxing tools (FFmpeg without "
        "-movflags use_metadata_tags) drop Apple's keys, and spoofing scripts write a make without the rest."
    ),
)
def apple_keys_missing(result: AnalysisResult) -> Iterator[Observation]:
    isobmff = result.isobmff
    if isobmff is None:
        return
    claims = {
        field_name: value
        for field_name, value in by_tag(result, "Make").items()
        if field_name.startswith(_QUICKTIME_MAKE_GROUPS) and "apple" in str(value).lower()
    }
    if "apple" in str(isobmff.vendor_tags.get("com.apple.quicktime.make", "")).lower():
        claims["com.apple.quicktime.make"] = isobmff.vendor_tags["com.apple.quicktime.make"]
    if not claims:
        return
    present = {key for keys in isobmff.metadata_keys.values() for key in keys} | set(isobmff.vendor_tags)
    missing = [key for key in APPLE_QUICKTIME_KEYS if key not in present]
    if not missing:
        return
    field_name, value = next(iter(claims.items()))
    yield Observation(
        evidence={**claims, "isobmff:missing_keys": missing, "isobmff:keys": sorted(present)[:50]},
        explanation=(
            f"{field_name} says {quote(value)}, but the keys {', '.join(missing)} that Apple devices write into "
            "every recording are missing: the file was re-written by other software or the make was set by hand."
        ),
    )


@book.rule(
    "EM-META-017",
    "JPEG comment names the encoding software",
    Category.METADATA,
    Severity.WARNING,
    looks_at="text of every JPEG COM segment (our marker walk), matched against known encoder signatures and editors",
    innocent=(
        "A few cheap cameras used the LEADTOOLS or Intel libraries in firmware; comments are also copied when "
        "a file is re-saved. Comments that name no program (captions, camera names) are ignored."
    ),
)
def comment_names_software(result: AnalysisResult) -> Iterator[Observation]:
    if result.jpeg is None:
        return
    for index, comment in enumerate(result.jpeg.comments):
        program = comment_writer_named(comment)
        if program:
            yield Observation(
                evidence={"jpeg:COM": comment[:500], "jpeg:COM_index": index, "software": program},
                explanation=f"The JPEG comment says {quote(comment)}: the image was encoded by {program}.",
            )
            return
