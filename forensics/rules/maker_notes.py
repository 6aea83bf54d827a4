"""Maker-note rules: the vendor block against the Make, Model and capture time the EXIF claims, and the preview
images it declares after the end of the image.

ExifTool chooses a maker-note decoder by the note's own header where it has one ("Nikon\\0\\2", "OLYMP\\0",
"SONY DSC", "Apple iOS\\0", "FUJIFILM", "Panasonic", "AOC\\0", "STMN"...), and by IFD0:Make only for header-less
notes (Canon, Casio, Kodak, Sanyo...). So the ExifTool group of a headed note names the maker that wrote it, even
when the Make was edited afterwards; a header-less note follows the Make and cannot contradict it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from forensics.analysers.results import AnalysisResult

from .declared_previews import accounted_trailing
from .facts import first, quote, tags
from .model import Category, Observation, RuleBook, Severity
from .timeline import SAME_CLOCK_TOLERANCE, Stamp, capture_time, parse_stamp

book = RuleBook()

# ExifTool family-1 groups that only a maker note produces, and the maker family each stands for. FLIR is left
# out: its group also comes from the FLIR APP1 segment that DJI and other drones carry beside their own notes.
MAKER_NOTE_GROUPS = {
    "Apple": "Apple",
    "Canon": "Canon",
    "CanonCustom": "Canon",
    "Casio": "Casio",
    "DJI": "DJI",
    "FujiFilm": "Fujifilm",
    "GE": "GE",
    "HP": "HP",
    "JVC": "JVC",
    "Kodak": "Kodak",
    "KodakIFD": "Kodak",
    "Kyocera": "Kyocera",
    "Leica": "Leica",
    "Minolta": "Minolta",
    "Motorola": "Motorola",
    "Nikon": "Nikon",
    "NikonCustom": "Nikon",
    "Olympus": "Olympus",
    "Panasonic": "Panasonic",
    "Pentax": "Pentax",
    "Reconyx": "Reconyx",
    "Ricoh": "Ricoh",
    "Samsung": "Samsung",
    "Sanyo": "Sanyo",
    "Sigma": "Sigma",
    "Sony": "Sony",
}
# Signatures makers put at the start of their maker note (ExifTool's MakerNotes.pm conditions; every one of them seen
# in the real camera files with its maker's Make) and the format family they name. Header-less notes (Canon, Casio
# type 1, Samsung phones, older Minolta and Kodak) are read through the ExifTool group instead.
MAKER_NOTE_SIGNATURES = (
    (b"Nikon\x00", "Nikon"),
    (b"OLYMP\x00", "Olympus"),
    (b"OLYMPUS\x00", "Olympus"),
    (b"OM SYSTEM\x00", "Olympus"),
    (b"EPSON\x00", "Olympus"),
    (b"FUJIFILM", "Fujifilm"),
    (b"GENERALE", "Fujifilm"),
    (b"Panasonic\x00", "Panasonic"),
    (b"LEICA", "Leica"),
    (b"SONY DSC", "Sony"),
    (b"SONY CAM", "Sony"),
    (b"SONY MOBILE", "Sony"),
    (b"SONY PI", "Sony"),
    (b"\x00\x00SONY PIC", "Sony"),
    (b"SEMC MS\x00", "Sony"),
    (b"Apple iOS\x00", "Apple"),
    (b"AOC\x00", "Pentax"),
    (b"PENTAX \x00", "Pentax"),
    (b"QVC\x00", "Casio"),
    (b"DCI\x00", "Casio"),
    (b"KDK", "Kodak"),
    (b"SANYO\x00", "Sanyo"),
    (b"RICOH\x00", "Ricoh"),
    (b"STMN", "Samsung"),
    (b"SIGMA\x00", "Sigma"),
    (b"FOVEON\x00", "Sigma"),
    (b"MINOL\x00", "Minolta"),
    (b"KYOCERA", "Kyocera"),
    (b"JVC ", "JVC"),
    (b"MOT\x00", "Motorola"),
    (b"RECONYX", "Reconyx"),
)
# The smallest CanonCameraSettings array seen in the calibration half (PowerShot A-series: 19 values).
_CANON_SETTINGS_MIN = 19
# IFD0:Make fragments (lower case, checked in order) and the maker family they name.
_MAKE_FAMILIES = (
    ("pentax", "Pentax"),
    ("asahi", "Pentax"),
    ("ricoh", "Ricoh"),
    ("canon", "Canon"),
    ("nikon", "Nikon"),
    ("sony", "Sony"),
    ("apple", "Apple"),
    ("fujifilm", "Fujifilm"),
    ("olympus", "Olympus"),
    ("om digital", "Olympus"),
    ("panasonic", "Panasonic"),
    ("samsung", "Samsung"),
    ("minolta", "Minolta"),
    ("casio", "Casio"),
    ("kodak", "Kodak"),
    ("sanyo", "Sanyo"),
    ("leica", "Leica"),
    ("sigma", "Sigma"),
    ("jvc", "JVC"),
    ("reconyx", "Reconyx"),
    ("dji", "DJI"),
    ("general imaging", "GE"),
    ("hewlett-packard", "HP"),
    ("kyocera", "Kyocera"),
    ("motorola", "Motorola"),
    ("epson", "Epson"),
    ("hasselblad", "Hasselblad"),
)
# Bodies one maker built for another keep the builder's maker notes (ExifTool's MakerNotes.pm conditions):
OEM_MAKER_NOTES = {
    # Seiko Epson PhotoPC cameras write an "EPSON" header in Olympus format (PhotoPC 3000Z in the calibration set).
    ("Epson", "Olympus"),
    # The Kodak-built Minolta Dimage EX carries a Kodak maker note (seen in the real-camera set).
    ("Minolta", "Kodak"),
    # Panasonic-built Leica compacts (Digilux 2, C-LUX, D-LUX, V-LUX) use the Panasonic format.
    ("Leica", "Panasonic"),
    # The Fujifilm-built Leica Digilux 4.3 and Digilux Zoom write a "FUJIFILM" header.
    ("Leica", "Fujifilm"),
    # Sony-built Hasselblad Lunar, Stellar and HV write "SONY DSC" notes.
    ("Hasselblad", "Sony"),
    # Pentax-built Samsung GX-1S/GX-10/GX-20 write Pentax "AOC" notes.
    ("Samsung", "Pentax"),
    # Ricoh Imaging makes Pentax cameras: its Make names Ricoh over Pentax notes ("RICOH\0II"), and Pentax-branded
    # Ricoh bodies the reverse.
    ("Ricoh", "Pentax"),
    ("Pentax", "Ricoh"),
    # General Imaging (GE) cameras write Fujifilm-format notes with a "GENERALE" header.
    ("GE", "Fujifilm"),
}
# Maker-note tags that name the model, per group.
_MODEL_TAGS = (
    "Canon:CanonModelID",
    "Minolta:MinoltaModelID",
    "Pentax:PentaxModelID",
    "Kodak:KodakModel",
    "Sony:SonyModelID",
    "Olympus:CameraType2",
    "Olympus:CameraType",
)
# Apple's camera stack names the lens after the device: "iPhone 11 Pro back triple camera 4.25mm f/1.8".
_APPLE_LENS = re.compile(r"^(?P<model>(?:iPhone|iPad|iPod)\b.*?) (?:back|front)\b")
# Olympus's internal model codes ("SX756", "D4040", "S0003"), which ExifTool prints for bodies it has no name for.
_RAW_MODEL_CODE = re.compile(r"^(?:[DKS]|S[RX])\d{3,4}$")
# Words a maker repeats or drops between its EXIF Model and its own model tag ("Canon EOS 350D DIGITAL" vs
# "EOS Digital Rebel XT / 350D / Kiss Digital N"; "KODAK DX4900 ZOOM DIGITAL CAMERA" vs "DX4900").
_MODEL_NOISE = re.compile(r"canon|nikon|kodak|eastman|pentax|olympus|minolta|konica|sony|digital|camera|zoom")
_MODEL_ALIAS_SPLIT = re.compile(r" / |,| or ")
# Maker-note stamps written from the camera's clock at the shutter: (date tag, time tag or None, clock).
# "local": the same wall-clock time as DateTimeOriginal; "utc": the same moment in UTC (Samsung's TimeStamp, a
# Unix time that ExifTool prints with a zone); "time": a time of day only (Kodak).
_MAKER_STAMPS = (
    ("Minolta:MinoltaDate", "Minolta:MinoltaTime", "local"),
    ("Pentax:Date", "Pentax:Time", "local"),
    ("Sony:SonyDateTime", None, "local"),
    ("Reconyx:DateTimeOriginal", None, "local"),
    ("Kodak:TimeCreated", None, "time"),
    ("Samsung:TimeStamp", None, "utc"),
)
# Nikon's PowerUpTime: when the camera was switched on, so never after the shutter release it belongs to.
_POWER_UP_TAG = "Nikon:PowerUpTime"
_ZONE_STEP = timedelta(minutes=15)
_ZONE_RANGE = (timedelta(hours=-12), timedelta(hours=14))


def maker_note_families(result: AnalysisResult) -> dict[str, str]:
    """The maker family of each maker-note group ExifTool decoded, by group name."""
    groups = {key.partition(":")[0] for key in tags(result)}
    return {group: MAKER_NOTE_GROUPS[group] for group in sorted(groups) if group in MAKER_NOTE_GROUPS}


def maker_note_signature(result: AnalysisResult) -> tuple[str, str] | None:
    """(where the signature was seen, its format family) when the JPEG's maker note starts like one maker's."""
    head = result.jpeg.exif_maker_note_head if result.jpeg else None
    if not head:
        return None
    data = bytes.fromhex(head)
    found = next(
        ((signature, family) for signature, family in MAKER_NOTE_SIGNATURES if data.startswith(signature)), None
    )
    if found:
        shown = found[0].decode("latin-1").replace("\x00", "\\0")
        return f"header '{shown}'", found[1]
    return _headerless_layout(data)


def _headerless_layout(data: bytes) -> tuple[str, str] | None:
    """Two header-less notes whose first IFD entry is their maker's own: Canon opens with CanonCameraSettings (tag 1,
    SHORT, 19 values or more; Canon writes little-endian), Minolta with MakerNoteVersion (tag 0, UNDEFINED, 4 bytes)."""
    if len(data) < 10:
        return None
    if data[2:6] == b"\x01\x00\x03\x00" and int.from_bytes(data[6:10], "little") >= _CANON_SETTINGS_MIN:
        return "first IFD entry CanonCameraSettings", "Canon"
    if data[2:10] in (b"\x00\x00\x00\x07\x00\x00\x00\x04", b"\x00\x00\x07\x00\x04\x00\x00\x00"):
        return "first IFD entry Minolta MakerNoteVersion", "Minolta"
    return None


def make_family(make: object) -> str | None:
    text = str(make or "").lower()
    return next((family for needle, family in _MAKE_FAMILIES if needle in text), None)


@book.rule(
    "EM-MAKER-001",
    "Maker notes were written by another maker than the Make names",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "IFD0:Make vs the maker note's own signature ('Nikon\\0', 'OLYMP\\0', 'SONY DSC', 'Apple iOS', 'FUJIFILM', "
        "'Panasonic', 'AOC\\0', 'STMN'...) or first IFD entry (Canon's CameraSettings, Minolta's "
        "MakerNoteVersion), and the maker-note group ExifTool decoded (a header-less Canon note "
        "under another Make decodes as nothing), allowing OEM bodies: Epson/Olympus, Minolta Dimage EX/Kodak, "
        "Leica/Panasonic, Leica/Fujifilm, Hasselblad/Sony, Samsung/Pentax, Ricoh/Pentax, GE/Fujifilm"
    ),
    innocent=(
        "A camera built by one maker and sold under another's name can keep its builder's maker notes; the "
        "allowed pairs above are the known ones, and a new OEM pairing would show here. Otherwise the Make was "
        "edited, or EXIF from one camera was grafted onto another's file."
    ),
)
def maker_note_of_another_maker(result: AnalysisResult) -> Iterator[Observation]:
    make = first(result, "IFD0:Make")
    claimed = make_family(make)
    if claimed is None:
        return
    families = maker_note_families(result)
    signature = maker_note_signature(result)
    written_by = {signature[0]: signature[1]} if signature else {}
    written_by.update({f"ExifTool group {group}": family for group, family in families.items()})
    note_bytes = result.jpeg.exif_maker_note_length if result.jpeg else None
    if not written_by and note_bytes:
        # A header-less note (Canon, Casio...) is decoded by the Make: under another maker's Make it reads as nothing.
        yield Observation(
            evidence={"IFD0:Make": make, "jpeg:exif_maker_note_length": note_bytes, "maker_note_groups": {}},
            explanation=(
                f"IFD0:Make says {quote(make)}, and the EXIF holds a {note_bytes:,}-byte maker note, but ExifTool "
                f"cannot read it in {claimed}'s format: the notes were written by another maker's camera."
            ),
        )
        return
    foreign = {
        source: family
        for source, family in written_by.items()
        if family != claimed and (claimed, family) not in OEM_MAKER_NOTES
    }
    if not foreign:
        return
    source, family = next(iter(foreign.items()))
    yield Observation(
        evidence={
            "IFD0:Make": make,
            "IFD0:Model": first(result, "IFD0:Model"),
            "maker_note_groups": families,
            "maker_note_signature": signature[0] if signature else None,
        },
        explanation=(
            f"IFD0:Make says {quote(make)}, but the maker notes are {family}'s ({source}): the Make was changed, "
            "or the EXIF came from another camera."
        ),
    )


def _model_key(text: str) -> str:
    return re.sub(r"[^a-z0-9*]", "", _MODEL_NOISE.sub("", text.lower()))


@book.rule(
    "EM-MAKER-002",
    "Model in the maker notes differs from the EXIF Model",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "IFD0:Model vs Canon:CanonModelID, Minolta:MinoltaModelID, Pentax:PentaxModelID, Kodak:KodakModel, "
        "Sony:SonyModelID, Olympus:CameraType2/CameraType (not raw codes such as 'SX756'); compared without the "
        "maker's name and the words 'digital', "
        "'camera', 'zoom'; equal or one ending with the other, any of the regional names ExifTool lists "
        "('PowerShot S410 / Digital IXUS 430') matching; for Apple devices, the device name that opens "
        "ExifIFD:LensModel ('iPhone 11 Pro back triple camera 4.25mm f/1.8'), which must be equal"
    ),
    innocent=(
        "A model ExifTool's tables name differently from the firmware would show here; regional names are allowed. "
        "Otherwise the Model was edited, or the EXIF block was taken from another camera."
    ),
)
def maker_note_model_differs(result: AnalysisResult) -> Iterator[Observation]:
    model = first(result, "IFD0:Model")
    model_key = _model_key(str(model or ""))
    if not model_key:
        return
    for name in _MODEL_TAGS:
        noted = first(result, name)
        text = str(noted or "").strip()
        if not text or text.lower().startswith("unknown") or _RAW_MODEL_CODE.match(text):
            continue
        aliases = [_model_key(alias) for alias in _MODEL_ALIAS_SPLIT.split(str(noted))]
        # Equal, or one ends with the other ("eos350d" and "350d"); a suffix added to the model ("g2pro") differs.
        if any(alias and (model_key.endswith(alias) or alias.endswith(model_key)) for alias in aliases):
            continue
        yield Observation(
            evidence={"IFD0:Model": model, name: noted},
            explanation=(
                f"IFD0:Model says {quote(model)}, but the maker notes ({name}) say {quote(noted)}: the model was "
                "edited, or the EXIF does not belong to the camera that wrote the maker notes."
            ),
        )
        return
    lens = str(first(result, "ExifIFD:LensModel") or "")
    phone = _APPLE_LENS.match(lens) if make_family(first(result, "IFD0:Make")) == "Apple" else None
    if phone and _model_key(phone["model"]) != model_key:
        yield Observation(
            evidence={"IFD0:Model": model, "ExifIFD:LensModel": lens},
            explanation=(
                f"IFD0:Model says {quote(model)}, but the lens the phone recorded is {quote(lens)}, named after "
                f"{quote(phone['model'])}: the model was edited."
            ),
        )


def _maker_stamp(result: AnalysisResult, date_tag: str, time_tag: str | None) -> Stamp | None:
    date = first(result, date_tag)
    if date is None:
        return None
    if time_tag is None:
        return parse_stamp(date_tag, date)
    time = first(result, time_tag)
    return parse_stamp(f"{date_tag}+{time_tag.partition(':')[2]}", f"{date} {time}" if time else date)


def _clock_gap(original: Stamp, noted: Stamp, clock: str) -> timedelta | None:
    """How far the maker-note stamp is from the capture time beyond what its clock kind allows, or None."""
    if clock == "local":
        if not noted.has_time:
            return abs(original.wall.date() - noted.wall.date()) if original.wall.date() != noted.wall.date() else None
        gap = abs(original.wall - noted.wall)
    elif clock == "utc":
        if noted.utc is None:
            return None
        if original.utc is not None:
            gap = abs(original.utc - noted.utc)
        else:
            # No offset recorded: local minus UTC must be a whole time-zone offset (15-minute steps, -12 to +14 h).
            zone = original.wall - noted.utc
            nearest = round(zone / _ZONE_STEP) * _ZONE_STEP
            if not _ZONE_RANGE[0] <= nearest <= _ZONE_RANGE[1]:
                return abs(zone)
            gap = abs(zone - nearest)
    else:
        return None
    return gap if gap > SAME_CLOCK_TOLERANCE else None


@book.rule(
    "EM-MAKER-003",
    "Maker-note capture time disagrees with DateTimeOriginal",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "ExifIFD:DateTimeOriginal (with OffsetTimeOriginal) vs the time the maker notes stamp from the same clock: "
        "Minolta MinoltaDate+MinoltaTime, Pentax Date+Time, Sony SonyDateTime, Reconyx DateTimeOriginal, Kodak "
        "TimeCreated (time of day), Samsung TimeStamp (UTC: equal to the capture time, or a whole time-zone offset "
        "from it); 60 s allowed; Nikon PowerUpTime must not be after it. GPS time is compared in EM-META-012"
    ),
    innocent=(
        "Every camera original in the calibration set agrees to the second. Programs that shift EXIF dates (a "
        "time-zone fix after travel, ExifTool -AllDates) leave the maker-note clock behind, so this also shows a "
        "harmless date correction."
    ),
)
def maker_note_time_disagrees(result: AnalysisResult) -> Iterator[Observation]:
    original = capture_time(result)
    if original is None:
        return
    power_up = parse_stamp(_POWER_UP_TAG, first(result, _POWER_UP_TAG))
    if power_up is not None and power_up.wall - original.wall > SAME_CLOCK_TOLERANCE:
        yield Observation(
            evidence={original.field: original.raw, power_up.field: power_up.raw},
            explanation=(
                f"The capture time ExifIFD:DateTimeOriginal is {quote(original.raw)}, but the maker notes say the "
                f"camera was switched on at {quote(power_up.raw)}, after it took the photo: the EXIF date was "
                "moved back."
            ),
        )
        return
    for date_tag, time_tag, clock in _MAKER_STAMPS:
        if clock == "time":
            noted_time = first(result, date_tag)
            noted = parse_stamp(date_tag, f"{original.wall:%Y:%m:%d} {noted_time}") if noted_time else None
            gap = abs(original.wall - noted.wall) if noted else None
            if gap is not None:
                gap = min(gap, timedelta(days=1) - gap)
                gap = gap if gap > SAME_CLOCK_TOLERANCE else None
        else:
            noted = _maker_stamp(result, date_tag, time_tag)
            gap = _clock_gap(original, noted, clock) if noted else None
        if noted is None or gap is None:
            continue
        kind = "in UTC, " if clock == "utc" else ""
        yield Observation(
            evidence={original.field: original.raw, noted.field: noted.raw},
            explanation=(
                f"The capture time ExifIFD:DateTimeOriginal is {quote(original.raw)}, but the maker notes' own "
                f"clock ({noted.field}, {kind}written at the same shutter release) says {quote(noted.raw)}: "
                f"{int(gap.total_seconds()):,} seconds beyond what one clock allows. The EXIF date was changed."
            ),
        )
        return


@book.rule(
    "EM-MAKER-004",
    "Preview image after the end of the image, declared in the maker notes",
    Category.INTEGRITY,
    Severity.INFO,
    looks_at=(
        "JPEG streams after the primary EOI (our marker walk) vs start/length pairs ExifTool reads from the "
        "metadata (PreviewImageStart/Length, OtherImageStart/Length, JpgFromRawStart/Length, or a PreviewImage "
        "of known size), absolute file offsets"
    ),
    innocent=(
        "Minolta, Samsung, Olympus, Pentax, Sony, Nikon and other cameras store a screen-size preview there and "
        "record where it is; this accounts for those bytes instead of treating them as hidden data."
    ),
)
def declared_maker_note_preview(result: AnalysisResult) -> Iterator[Observation]:
    accounted = accounted_trailing(result)
    if not accounted:
        return
    total = sum(item.region.length for item in accounted)
    declaration = accounted[0].declaration
    shown = ", ".join(f"{name} = {value:,}" for name, value in declaration.fields.items())
    yield Observation(
        evidence={
            "jpeg:primary_image_end_offset": result.jpeg.primary_end,
            "jpeg:accounted_trailing_bytes": total,
            "accounted_regions": [
                {"offset": item.region.offset, "length": item.region.length, "declared_by": item.declaration.fields}
                for item in accounted
            ],
        },
        explanation=(
            f"{total:,} bytes after the end of the image (from offset {accounted[0].region.offset:,}) are the "
            f"{accounted[0].region.detail or 'data'} that the metadata declares ({shown})."
        ),
    )
