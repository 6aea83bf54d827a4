"""Turning a stored analysis result into what people read: the assessment in plain words, the key facts of the
capture, metadata grouped as ExifTool groups it (groups in a reading order, EXIF dates as ISO 8601, binary values
described by their size, long values cut with a count), the file's structure (JPEG segments, MP4 box tree and the
other walkers' units), its video and audio streams and its C2PA provenance."""

import re
from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .assessment import BROKEN, DECLARED, FOUND, INTACT, PRESENT, REMOVED, UNREADABLE

MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class MetadataGroup:
    name: str
    rows: list[tuple[str, str]]
    binary_count: int


def metadata_groups(result: dict) -> list[MetadataGroup]:
    """ExifTool tags from a stored result, grouped by their family-1 group ("IFD0", "XMP-xmp", "GPS:Copy1"…),
    the groups in reading order (file, EXIF, GPS, XMP…, computed ones last; Copy2 before Copy10)."""
    tags = ((result or {}).get("exiftool") or {}).get("tags") or {}
    grouped: dict[str, list[tuple[str, str]]] = {}
    binaries: dict[str, int] = {}
    for key in sorted(tags):
        group, _sep, name = key.rpartition(":")
        group = group or "Other"
        text, is_binary = value_display(tags[key])
        grouped.setdefault(group, []).append((name, text))
        binaries[group] = binaries.get(group, 0) + is_binary
    return [MetadataGroup(name, grouped[name], binaries[name]) for name in sorted(grouped, key=_group_order)]


# Family-1 groups in the order a reader looks for them; any other group sorts between XMP and the computed ones.
_GROUP_ORDER = (
    "File", "JFIF", "IFD0", "ExifIFD", "GPS", "InteropIFD", "SubIFD", "IFD1", "MakerNotes", "QuickTime", "Keys",
    "UserData", "ItemList", "Track", "XMP", "IPTC", "Photoshop", "ICC", "APP14", "PNG",
)  # fmt: skip
_LATE_GROUPS = ("Composite", "ExifTool", "Other")
_DIGITS = re.compile(r"(\d+)")


def _group_order(name: str) -> tuple:
    family = name.split(":", 1)[0]
    if family in _LATE_GROUPS:
        rank = len(_GROUP_ORDER) + 1 + _LATE_GROUPS.index(family)
    else:
        rank = next((n for n, prefix in enumerate(_GROUP_ORDER) if family.startswith(prefix)), len(_GROUP_ORDER))
    # Digits compare as numbers, so "Copy2" comes before "Copy10".
    natural = tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in _DIGITS.split(name))
    return rank, natural


_BINARY_SUMMARY = re.compile(r"^\(Binary data (\d+) bytes\b")
_EXIF_DATE = re.compile(r"\b(\d{4}):(\d{2}):(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?")


def iso_dates(text: str) -> str:
    """EXIF's "2024:03:14 21:07:33+01:00" written as ISO 8601 ("2024-03-14T21:07:33+01:00") wherever it occurs."""
    return _EXIF_DATE.sub(lambda m: f"{m[1]}-{m[2]}-{m[3]}T{m[4]}{m[5] or ''}", text)


def binary_description(size: int) -> str:
    return ngettext("%(size)s byte of binary data", "%(size)s bytes of binary data", size) % {"size": f"{size:,}"}


def value_display(value) -> tuple[str, bool]:
    """A metadata value as a person reads it, and whether it is a binary value described rather than shown.

    ExifTool answers binary values with a command-line hint ("(Binary data 32 bytes, use -b option to extract)")
    and the analyser stores large base64 values as "(Binary data N bytes, summarised)": both become "32 bytes of
    binary data"."""
    text = value if isinstance(value, str) else str(value)
    if match := _BINARY_SUMMARY.match(text):
        return binary_description(int(match[1])), True
    if text.startswith("base64:"):
        return binary_description(len(text[7:].rstrip("=")) * 3 // 4), True
    if len(text) > MAX_VALUE_CHARS:
        return _("%(start)s… (%(count)s characters in all)") % {
            "start": iso_dates(text[:MAX_VALUE_CHARS]),
            "count": f"{len(text):,}",
        }, False
    return iso_dates(text), False


# The analysers already bound how many segments and boxes they record; this bounds what one page lists.
MAX_STRUCTURE_NODES = 2000


@dataclass
class StructureNode:
    name: str
    detail: str
    offset: int
    size: int
    children: list["StructureNode"]


@dataclass(frozen=True)
class StructureTree:
    kind: str  # "JPEG segments", "ISO-BMFF boxes", "RIFF chunks (AVI, WAV, WebP)", ...
    nodes: list[StructureNode]
    count: int
    shown: int


def structure_tree(result: dict) -> StructureTree | None:
    """The file's layout from a stored result: JPEG marker segments in order, or the tree of an MP4/MOV's boxes,
    a RIFF file's chunks, a Matroska file's elements, a GIF's blocks or a TIFF's IFDs."""
    result = result or {}
    if segments := (result.get("jpeg") or {}).get("segments"):
        nodes = [
            StructureNode(s["name"], s.get("label") or s["marker"], s["offset"], s["length"], [])
            for s in segments[:MAX_STRUCTURE_NODES]
        ]
        return StructureTree("JPEG segments", nodes, len(segments), len(nodes))
    for analyser, listing, kind in _NESTED_STRUCTURES:
        if nodes := (result.get(analyser) or {}).get(listing):
            tree = _nested_tree(kind, nodes)
            if items := heif_item_units(result):
                meta = next((node for node in tree.nodes if node.name == "meta"), None)
                if meta is not None:  # a HEIF/AVIF's items, where their data lies, under the box that lists them
                    meta.children.extend(StructureNode(u["type"], u["path"], u["offset"], u["size"], []) for u in items)
            return tree
    return None


def heif_item_units(result: dict) -> list[dict]:
    """A HEIF/AVIF file's items from a stored result as structure units ({type, path, offset, size, depth}): the
    item's number, type and role, where its data starts and how long it is (first extent; idat items in idat)."""
    heif = ((result or {}).get("isobmff") or {}).get("heif") or {}
    units = []
    for item in (heif.get("items") or [])[:MAX_STRUCTURE_NODES]:
        extents = item.get("extents") or []
        role = f" ({item['role']})" if item.get("role") else ""
        place = "in idat" if item.get("construction_method") == 1 else f"{len(extents)} extent(s) in the file"
        units.append(
            {
                "type": f"item {item['item_id']} {item['item_type']}{role}",
                "path": f"/meta/iinf item {item['item_id']}: {place}",
                "offset": extents[0]["offset"] if extents else 0,
                "size": sum(extent["length"] for extent in extents),
                "depth": 1,
            }
        )
    return units


# Walkers that store their units depth-first as {type, path, offset, size, depth}: (result key, list, tree title).
_NESTED_STRUCTURES = (
    ("isobmff", "boxes", "ISO-BMFF boxes"),
    ("riff", "chunks", "RIFF chunks (AVI, WAV, WebP)"),
    ("ebml", "elements", "Matroska/WebM elements"),
    ("gif", "blocks", "GIF blocks"),
    ("tiff", "ifds", "TIFF IFDs"),
)


def _nested_tree(kind: str, units: list[dict]) -> StructureTree:
    roots: list[StructureNode] = []
    # Units are stored depth-first with their depth, so a stack of open parents rebuilds the tree.
    stack: list[tuple[int, StructureNode]] = []
    for unit in units[:MAX_STRUCTURE_NODES]:
        # An unknown size (a live Matroska recording's Segment or Cluster) is shown as 0 bytes.
        node = StructureNode(unit["type"], unit["path"], unit["offset"], unit["size"] or 0, [])
        while stack and stack[-1][0] >= unit["depth"]:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((unit["depth"], node))
    return StructureTree(kind, roots, len(units), min(len(units), MAX_STRUCTURE_NODES))


@dataclass(frozen=True)
class StreamLine:
    """One video or audio stream as FFmpeg and our bitstream reading saw it, in words."""

    index: int
    kind: str
    codec: str  # codec, profile and level: "h264 High, level 3.0"
    shape: str  # "1920x1080, 29.97 fps" or "48000 Hz, stereo"
    frames: str  # keyframes and B-frames of the first packets; audio priming
    colour: str
    encoders: list[str]  # encoder strings found in the coded bytes (x264's SEI, Lavc, ...)


def stream_lines(result: dict) -> list[StreamLine]:
    """The video and audio streams of a stored result (FFmpeg's streams with our reading of their first packet)."""
    lines = []
    for stream in ((result or {}).get("video") or {}).get("streams") or []:
        kind = stream.get("codec_type")
        if kind not in ("video", "audio"):
            continue
        codec = ", ".join(str(part) for part in (stream.get("codec_name"), stream.get("profile")) if part)
        if kind == "video" and stream.get("level") not in (None, -99):
            codec += _(", level %(level)s") % {"level": _level_words(stream.get("codec_name"), stream["level"])}
        bitstream = stream.get("bitstream") or {}
        encoders = [signature.get("text", "")[:300] for signature in (bitstream.get("signatures") or [])[:4]]
        lines.append(
            StreamLine(
                index=stream.get("index", 0),
                kind=kind,
                codec=codec or _("unknown"),
                shape=_video_shape(stream) if kind == "video" else _audio_shape(stream),
                frames=_frame_words(stream) if kind == "video" else _priming_words(stream),
                colour=_colour_words(stream.get("color") or {}),
                encoders=encoders,
            )
        )
    return lines


def _level_words(codec: str | None, level: int) -> str:
    # FFmpeg reports H.264 levels times 10 and H.265 levels times 30.
    if codec == "h264":
        return f"{level / 10:g}"
    if codec == "hevc":
        return f"{level / 30:g}"
    return str(level)


def _rate(text: str | None) -> Fraction | None:
    try:
        rate = Fraction(text or "0/1")
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def _video_shape(stream: dict) -> str:
    size = f"{stream.get('width')}x{stream.get('height')}" if stream.get("width") else _("size unknown")
    rate = _rate(stream.get("average_frame_rate")) or _rate(stream.get("frame_rate"))
    return f"{size}, {float(rate):.3g} fps" if rate else size


def _audio_shape(stream: dict) -> str:
    layout = stream.get("channel_layout") or (
        ngettext("%(count)d channel", "%(count)d channels", stream["channels"]) % {"count": stream["channels"]}
        if stream.get("channels")
        else ""
    )
    rate = f"{stream['sample_rate']} Hz" if stream.get("sample_rate") else ""
    return ", ".join(part for part in (rate, layout) if part) or _("not reported")


def _frame_words(stream: dict) -> str:
    packets = stream.get("packets") or {}
    count = packets.get("packets") or 0
    if not count:
        return _("no packets read")
    positions = packets.get("keyframe_positions") or []
    gops = [after - before for before, after in zip(positions, positions[1:], strict=False)]
    words = [
        ngettext("first %(count)d packet", "first %(count)d packets", count) % {"count": count},
        _("starts on a keyframe") if packets.get("first_is_keyframe") else _("does not start on a keyframe"),
    ]
    if gops:
        shown = ", ".join(str(gop) for gop in gops[:8]) + (" …" if len(gops) > 8 else "")
        words.append(_("keyframe every %(gops)s frames") % {"gops": shown})
    else:
        words.append(ngettext("%(count)d keyframe", "%(count)d keyframes", len(positions)) % {"count": len(positions)})
    words.append(_("B-frames (out of display order)") if packets.get("reordered") else _("no B-frames"))
    return "; ".join(words)


def _priming_words(stream: dict) -> str:
    skip = (stream.get("packets") or {}).get("skip_samples")
    return _("encoder delay of %(samples)s samples") % {"samples": skip} if skip else ""


def _colour_words(color: dict) -> str:
    keys = ("color_primaries", "color_transfer", "color_space", "color_range")
    return ", ".join(f"{key.removeprefix('color_')} {color[key]}" for key in keys if color.get(key))


# IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/) in words a caseworker reads.
DIGITAL_SOURCE_TYPES = {
    "digitalCapture": "captured by a camera or scanner",
    "computationalCapture": "captured with computational processing (e.g. a phone's multi-frame photo)",
    "negativeFilm": "scanned from a film negative",
    "positiveFilm": "scanned from film",
    "print": "scanned from a print",
    "minorHumanEdits": "a capture with minor human edits",
    "humanEdits": "edited by a person",
    "compositeCapture": "a composite of captures",
    "algorithmicallyEnhanced": "enhanced by an algorithm",
    "dataDrivenMedia": "produced from data",
    "digitalArt": "digital art made by a person",
    "virtualRecording": "a recording of a virtual (software) scene",
    "compositeSynthetic": "a composite including synthetic (generated) elements",
    "trainedAlgorithmicMedia": "generated by a trained AI model",
    "compositeWithTrainedAlgorithmicMedia": "a composite including AI-generated content",
    "algorithmicMedia": "generated by an algorithm without training data",
    "screenCapture": "a screenshot",
}


@dataclass(frozen=True)
class C2paPanel:
    present: bool
    validation_state: str | None
    read_error: str | None
    status_codes: list[dict]
    manifest: dict | None
    actions: list[dict]
    manifest_count: int


def c2pa_panel(result: dict) -> C2paPanel | None:
    """The C2PA provenance of a stored result, with each action's digital source type put into words."""
    c2pa = (result or {}).get("c2pa")
    if c2pa is None:
        return None
    manifest = c2pa.get("active_manifest")
    actions = [
        action | {"source_type_words": _source_type_words(action.get("digital_source_type"))}
        for action in (manifest or {}).get("actions") or []
    ]
    return C2paPanel(
        present=bool(c2pa.get("present")),
        validation_state=c2pa.get("validation_state"),
        read_error=c2pa.get("read_error"),
        status_codes=c2pa.get("status_codes") or [],
        manifest=manifest,
        actions=actions,
        manifest_count=len(c2pa.get("manifests") or []),
    )


def _source_type_words(uri: str | None) -> str:
    if not uri:
        return ""
    return DIGITAL_SOURCE_TYPES.get(uri.rstrip("/").rsplit("/", 1)[-1], "")


@dataclass(frozen=True)
class AssessmentLine:
    """One answer of the assessment: "Synthetic media: declared by Adobe Firefly"; `short` is the badge of a
    list row ("AI-declared"), empty where the answer is the unremarkable one; `tone` picks the badge colour."""

    aspect: str
    label: str
    text: str
    short: str
    tone: str  # "alert", "caution", "good" or "neutral"


def assessment_flag_labels() -> dict[str, str]:
    """The names of the counted answers (forensics.assessment.FLAGS) as badges say them."""
    return {
        "ai_declared": _("AI-declared"),
        "edited": _("Edited"),
        "signature_broken": _("Signature broken"),
        "metadata_removed": _("Metadata removed"),
    }


def assessment_lines(assessment: dict | None) -> list[AssessmentLine]:
    """The stored assessment (forensics.assessment) in plain words, in the order the questions are asked; [] for
    an item not assessed yet."""
    if not assessment:
        return []
    return [
        _synthetic_line(assessment.get("synthetic_media") or {}),
        _editing_line(assessment.get("editing") or {}),
        _provenance_line(assessment.get("provenance") or {}),
        _metadata_line(assessment.get("metadata") or {}),
    ]


def _synthetic_line(aspect: dict) -> AssessmentLine:
    label = _("Synthetic media")
    if aspect.get("state") != DECLARED:
        return AssessmentLine("synthetic_media", label, _("none found"), "", "neutral")
    names = ", ".join(aspect.get("by") or [])
    text = _("declared by %(names)s") % {"names": names} if names else _("declared (no generator named)")
    return AssessmentLine("synthetic_media", label, text, assessment_flag_labels()["ai_declared"], "alert")


# What each kind of change (forensics.assessment.EDITING_KINDS) is evidence of, in words.
def _editing_kind_words() -> dict[str, str]:
    return {
        "declared": _("edits declared in its C2PA provenance"),
        "software": _("editing software"),
        "history": _("an editing history"),
        "thumbnail": _("an EXIF thumbnail that no longer matches the image"),
        "resized": _("resizing or cropping"),
        "cut": _("a cut: the media does not start where it was recorded"),
        "recompressed": _("a second JPEG compression"),
        "reencoded": _("re-encoding by software"),
        "remuxed": _("re-muxing by software"),
        "modified": _("a modification after capture"),
    }


def _editing_line(aspect: dict) -> AssessmentLine:
    label = _("Editing or re-encoding")
    if aspect.get("state") != FOUND:
        return AssessmentLine("editing", label, _("none found"), "", "neutral")
    words = _editing_kind_words()
    parts = [words.get(kind, kind) for kind in aspect.get("kinds") or []]
    if software := aspect.get("software"):
        parts = [
            f"{part} ({', '.join(software)})" if kind == "software" else part
            for kind, part in zip(aspect.get("kinds") or [], parts, strict=False)
        ]
    text = _("evidence of %(what)s") % {"what": "; ".join(parts)}
    return AssessmentLine("editing", label, text, assessment_flag_labels()["edited"], "caution")


def _provenance_line(aspect: dict) -> AssessmentLine:
    label = _("Provenance")
    state, signer = aspect.get("state"), aspect.get("signer") or _("an unnamed signer")
    if state == INTACT:
        text = _("signed by %(signer)s, intact") % {"signer": signer}
        if not aspect.get("trusted"):
            text += " " + _("(the signer is not on a trust list configured here)")
        return AssessmentLine("provenance", label, text, _("Signed, intact"), "good")
    if state == BROKEN:
        text = _("signed by %(signer)s, broken: changed after signing") % {"signer": signer}
        return AssessmentLine("provenance", label, text, assessment_flag_labels()["signature_broken"], "alert")
    if state == UNREADABLE:
        text = _("C2PA data present but could not be validated")
        return AssessmentLine("provenance", label, text, _("Provenance unreadable"), "caution")
    return AssessmentLine("provenance", label, _("none"), "", "neutral")


def _metadata_line(aspect: dict) -> AssessmentLine:
    label = _("Metadata")
    if aspect.get("state") == REMOVED:
        return AssessmentLine("metadata", label, _("removed"), assessment_flag_labels()["metadata_removed"], "caution")
    if aspect.get("state") == PRESENT:
        return AssessmentLine("metadata", label, _("present"), "", "neutral")
    return AssessmentLine("metadata", label, _("none in the file"), "", "neutral")


def _tag(tags: dict, *names: str):
    """The first value of the first of `names` ("Tag" in any group, or "Group:Tag") that the file has."""
    for wanted in names:
        for key, value in tags.items():
            tag = key.rpartition(":")[2]
            if (key == wanted or (":" not in wanted and tag == wanted)) and str(value).strip():
                return value
    return None


_DMS = re.compile(r"^(\d+(?:\.\d+)?) deg (\d+)' (\d+(?:\.\d+)?)\"(?: ([NSEW]))?$")


def _degrees(text, ref) -> float | None:
    """ExifTool's 51 deg 30' 25.99" N as signed decimal degrees."""
    if isinstance(text, int | float):
        value, hemisphere = float(text), str(ref or "")[:1]
    elif match := _DMS.match(str(text).strip()):
        value = float(match[1]) + int(match[2]) / 60 + float(match[3]) / 3600
        hemisphere = match[4] or str(ref or "")[:1]
    else:
        return None
    return -value if hemisphere in ("S", "W") else value


def _capture_time(tags: dict) -> str | None:
    taken = _tag(tags, "Composite:SubSecDateTimeOriginal", "DateTimeOriginal", "Keys:CreationDate")
    if taken:
        text = iso_dates(str(taken))
        if not re.search(r"(Z|[+-]\d{2}:\d{2})$", text):
            if offset := _tag(tags, "OffsetTimeOriginal", "OffsetTime"):
                text += str(offset)
            else:
                text += " " + _("(no time-zone offset recorded)")
        return text
    # QuickTime stores its creation time in UTC (ExifTool shows it as written, without an offset).
    if (created := _tag(tags, "QuickTime:CreateDate", "CreateDate")) and not str(created).startswith("0000"):
        text = iso_dates(str(created))
        return text if re.search(r"(Z|[+-]\d{2}:\d{2})$", text) else text + " " + _("(UTC, as QuickTime records it)")
    return None


def key_facts(result: dict) -> list[tuple[str, str]]:
    """The facts of the capture a caseworker asks for first, as (label, value) rows; a fact the file does not
    carry is "not recorded": device, capture time with its offset, GPS position, software, dimensions, duration."""
    result = result or {}
    tags = (result.get("exiftool") or {}).get("tags") or {}
    general = next(
        (t for t in (result.get("mediainfo") or {}).get("tracks") or [] if t.get("track_type") == "General"), {}
    )
    missing = _("not recorded")
    make = str(_tag(tags, "Make") or "").strip()
    model = str(_tag(tags, "Model") or "").strip()
    device = model if model and make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    latitude = _degrees(_tag(tags, "Composite:GPSLatitude", "GPSLatitude"), _tag(tags, "GPSLatitudeRef"))
    longitude = _degrees(_tag(tags, "Composite:GPSLongitude", "GPSLongitude"), _tag(tags, "GPSLongitudeRef"))
    position = f"{latitude:.6f}, {longitude:.6f}" if latitude is not None and longitude is not None else None
    if position is None and (iso6709 := _tag(tags, "GPSCoordinates", "Keys:GPSCoordinates", "Composite:GPSPosition")):
        position = str(iso6709)
    software = _tag(tags, "Software", "CreatorTool", "Encoder", "HistorySoftwareAgent") or general.get(
        "Encoded_Application"
    )
    width = _tag(tags, "File:ImageWidth", "ImageWidth", "SourceImageWidth")
    height = _tag(tags, "File:ImageHeight", "ImageHeight", "SourceImageHeight")
    dimensions = _("%(width)s × %(height)s pixels") % {"width": width, "height": height} if width and height else None
    duration = _tag(tags, "Composite:Duration", "QuickTime:Duration", "Duration") or general.get("Duration")
    return [
        (_("Device"), device or missing),
        (_("Capture time"), _capture_time(tags) or missing),
        (_("GPS position"), position or missing),
        (_("Software"), str(software) if software else missing),
        (_("Dimensions"), dimensions or missing),
        (_("Duration"), str(duration) if duration else missing),
    ]


def category_label(category: str) -> str:
    """A finding's category ("synthetic_media") as a reader sees it ("Synthetic media")."""
    labels = {
        "integrity": _("Integrity"),
        "structure": _("File structure"),
        "metadata": _("Metadata"),
        "provenance": _("Provenance"),
        "synthetic_media": _("Synthetic media"),
    }
    return labels.get(category, category)
