"""Date rules: capture dates that disagree between metadata blocks, dates in the future, clock defaults, and
container (mvhd/tkhd/mdhd, Apple Keys) times that do not fit one recording.

Every comparison is against values inside the file, or against `AnalysisResult.analysed_at` for "the future", so
evaluating a stored result again gives the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from forensics.analysers.results import AnalysisResult

from .facts import by_tag, first, quote
from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

# ExifTool prints "2008:09:20 09:01:07.09+01:00", "2020:01:05 15:04Z", "2003:08:06"; vendor keys use ISO 8601
# ("2025-08-22T21:39:57-0700").
_STAMP = re.compile(
    r"^(?P<date>\d{4}[:-]\d{2}[:-]\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,]\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)
_UNSET = re.compile(r"^[0\s:.-]*$|^0000[:-]")
# Two blocks written from one clock may differ by rounding; anything beyond this is a different moment.
SAME_CLOCK_TOLERANCE = timedelta(seconds=60)
# Two values that both resolve to UTC, or both are local wall-clock times, describe the same moment up to this
# much (GPS fixes lag the shutter; programs round to the minute).
SAME_MOMENT_TOLERANCE = timedelta(hours=1)
# One value in UTC and one in unknown local time can be up to UTC+14/UTC-12 apart, plus the tolerance above.
ANY_ZONE_TOLERANCE = timedelta(hours=15)
# Naive dates are read as UTC, so a local date can run up to 14 hours ahead of the analysis clock.
FUTURE_SLACK = timedelta(days=1)
# A container written at the end of a recording may stamp the end time; this covers the writer's delay.
CONTAINER_SLACK = timedelta(seconds=60)

# "Same moment" fields per the IPTC/MWG mapping: each should record the capture time that DateTimeOriginal holds.
_CAPTURE_ALIASES = (
    "XMP-exif:DateTimeOriginal",
    "XMP-photoshop:DateCreated",
    "XMP-xmp:CreateDate",
)
_DATE_TAGS = (
    "DateTimeOriginal",
    "CreateDate",
    "ModifyDate",
    "MetadataDate",
    "DateCreated",
    "DigitalCreationDate",
    "DateTimeDigitized",
    "GPSDateStamp",
    "CreationDate",
    "TrackCreateDate",
    "TrackModifyDate",
    "MediaCreateDate",
    "MediaModifyDate",
)
# Groups whose dates are not the file's own statements about itself: ExifTool's view of the server's copy,
# values ExifTool derived from other tags, and the ICC profile's (the profile's own release date).
_NOT_FILE_DATES = ("File", "ExifTool", "Composite", "ICC")
# Fixed values some firmware writes instead of the real time: Qualcomm-based Android camera stacks fill
# DateTimeDigitized with this one (Motorola Moto G and Oppo R7 files in the corpus).
_FIRMWARE_DEFAULTS = {datetime(2002, 12, 8, 12, 0, 0): "the fixed value Qualcomm-based Android camera firmware writes"}
# The container rule covers QuickTime dates; the default-date rule leaves them to EM-META-009 and EM-META-015.
_CONTAINER_GROUPS = ("QuickTime", "Track", "Keys", "UserData", "ItemList")


@dataclass(frozen=True)
class Stamp:
    """One date value as written: its wall-clock time, its UTC offset when the value carries one."""

    field: str
    raw: str
    wall: datetime
    offset: timedelta | None
    has_time: bool

    @property
    def utc(self) -> datetime | None:
        return None if self.offset is None else self.wall - self.offset


def parse_stamp(field: str, value: Any) -> Stamp | None:
    """A Stamp for an ExifTool or ISO 8601 date string; None for unset, malformed or impossible values."""
    text = str(value).strip()
    match = _STAMP.match(text)
    if match is None or _UNSET.match(text):
        return None
    clock = match["time"] or "00:00"
    if clock.count(":") == 1:
        clock += ":00"
    try:
        wall = datetime.strptime(f"{match['date'].replace('-', ':')} {clock}", "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return Stamp(field, text, wall, _offset(match["zone"]), match["time"] is not None)


def _offset(zone: str | None) -> timedelta | None:
    if zone is None:
        return None
    if zone == "Z":
        return timedelta(0)
    digits = zone[1:].replace(":", "")
    magnitude = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return magnitude if zone[0] == "+" else -magnitude


def _with_offset(stamp: Stamp, zone: Any) -> Stamp:
    """The stamp with the UTC offset EXIF keeps in a separate OffsetTime* tag, when that tag is valid."""
    offset = _offset(str(zone).strip()) if zone and re.fullmatch(r"[+-]\d{2}:\d{2}", str(zone).strip()) else None
    if offset is None:
        return stamp
    return Stamp(stamp.field, f"{stamp.raw}{zone}", stamp.wall, offset, stamp.has_time)


def _apart(one: Stamp, other: Stamp) -> tuple[timedelta, timedelta]:
    """How far apart two stamps are, and how far apart they may be while naming the same moment."""
    if not (one.has_time and other.has_time):
        return abs(one.wall.date() - other.wall.date()), timedelta(days=1)
    if one.utc is not None and other.utc is not None:
        return abs(one.utc - other.utc), SAME_MOMENT_TOLERANCE
    if one.offset is None and other.offset is None:
        return abs(one.wall - other.wall), SAME_MOMENT_TOLERANCE
    # One side is UTC or zoned, the other a local time of unknown zone.
    return abs(one.wall - other.wall), ANY_ZONE_TOLERANCE


def _describe(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400:,} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def capture_time(result: AnalysisResult) -> Stamp | None:
    original = parse_stamp("ExifIFD:DateTimeOriginal", first(result, "ExifIFD:DateTimeOriginal"))
    if original is None:
        return None
    zone = first(result, "ExifIFD:OffsetTimeOriginal") or first(result, "ExifIFD:OffsetTime")
    return _with_offset(original, zone)


def _iptc_created(result: AnalysisResult) -> Stamp | None:
    date, time = first(result, "IPTC:DateCreated"), first(result, "IPTC:TimeCreated")
    if date is None:
        return None
    return parse_stamp("IPTC:DateCreated+TimeCreated", f"{date} {time}" if time else date)


@book.rule(
    "EM-META-012",
    "Capture dates disagree between metadata blocks",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "ExifIFD:DateTimeOriginal (with OffsetTimeOriginal) vs ExifIFD:CreateDate, XMP-exif:DateTimeOriginal, "
        "XMP-photoshop:DateCreated, XMP-xmp:CreateDate, IPTC:DateCreated+TimeCreated and the GPS date/time (UTC)"
    ),
    innocent=(
        "Scanners record the scan as CreateDate and the photo's date as DateTimeOriginal; cameras with a wrong "
        "clock or time zone disagree with GPS time; captioning tools set the IPTC date by hand. Otherwise one "
        "block was rewritten without the other."
    ),
)
def capture_dates_disagree(result: AnalysisResult) -> Iterator[Observation]:
    original = capture_time(result)
    if original is None:
        return
    if _is_default(original.raw, original):
        return  # EM-META-014 reports it; an unset clock says nothing about other blocks
    created = parse_stamp("ExifIFD:CreateDate", first(result, "ExifIFD:CreateDate"))
    disagreements: list[tuple[Stamp, timedelta]] = []
    if (
        created is not None
        and not _is_default(created.raw, created)
        and abs(created.wall - original.wall) > SAME_CLOCK_TOLERANCE
    ):
        disagreements.append((created, abs(created.wall - original.wall)))
    others = [parse_stamp(name, first(result, name)) for name in _CAPTURE_ALIASES]
    others += [_iptc_created(result), parse_stamp("GPS date/time (UTC)", first(result, "Composite:GPSDateTime"))]
    for other in others:
        if other is None or _is_default(other.raw, other):
            continue
        distance, allowed = _apart(original, other)
        if distance > allowed:
            disagreements.append((other, distance))
    if not disagreements:
        return
    parts = [f"{other.field} says {quote(other.raw)} ({_describe(gap)} apart)" for other, gap in disagreements]
    yield Observation(
        evidence={original.field: original.raw, **{other.field: other.raw for other, _ in disagreements}},
        explanation=(
            f"The camera's capture time ExifIFD:DateTimeOriginal is {quote(original.raw)}, but "
            + "; ".join(parts)
            + "."
        ),
    )


def _file_dates(result: AnalysisResult, *, skip_groups: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    for tag in _DATE_TAGS:
        for field_name, value in by_tag(result, tag).items():
            if field_name.startswith(_NOT_FILE_DATES + skip_groups):
                continue
            for item in value if isinstance(value, list) else [value]:
                yield field_name, item


@book.rule(
    "EM-META-013",
    "Date later than the analysis",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "EXIF, XMP, IPTC, GPS and QuickTime date tags and the mvhd/tkhd/mdhd times, against the time the analysis "
        "started (stored with the result), allowing one day for time zones; a still image whose dates all lie "
        "ahead alike is EM-META-014's (a clock set ahead)"
    ),
    innocent="A camera or phone whose clock was set wrongly (a wrong year, a swapped day and month) writes such dates.",
)
def future_dates(result: AnalysisResult) -> Iterator[Observation]:
    if _clock_set_ahead(result):
        return  # one wrongly set camera clock, reported by EM-META-014
    limit = _future_limit(result)
    late: dict[str, str] = {}
    for field_name, value in _file_dates(result):
        stamp = parse_stamp(field_name, value)
        if stamp is not None and _moment(stamp) > limit:
            late[field_name] = stamp.raw
    if result.isobmff is not None:
        for times in result.isobmff.times:
            for kind, stamp in (("creation", times.creation_time), ("modification", times.modification_time)):
                moment = datetime.fromisoformat(stamp) if stamp else None
                if moment is not None and moment.astimezone(UTC).replace(tzinfo=None) > limit:
                    late[f"{times.box}:{kind}_time@{times.offset}"] = stamp
    if not late:
        return
    shown = ", ".join(f"{name} says {quote(value)}" for name, value in list(late.items())[:3])
    yield Observation(
        evidence={"analysis:started_at": result.analysed_at, **late},
        explanation=f"{shown}: later than the analysis itself ({result.analysed_at}).",
    )


def _future_limit(result: AnalysisResult) -> datetime:
    return datetime.fromisoformat(result.analysed_at).replace(tzinfo=None) + FUTURE_SLACK


def _moment(stamp: Stamp) -> datetime:
    return stamp.utc if stamp.utc is not None else stamp.wall


def _clock_set_ahead(result: AnalysisResult) -> dict[str, str]:
    """Every date of a still image, when all lie after the analysis and within a day of each other; else {}.

    A camera whose clock was set ahead (a year typed wrong) stamps every field with the same impossible time; an
    edit that moves a date into the future leaves the others behind (and EM-META-013 then names it).
    """
    if result.isobmff is not None and result.isobmff.times:
        return {}  # a movie: its container times are judged on their own (EM-META-013, EM-META-015)
    stamps = [stamp for name, value in _file_dates(result) if (stamp := parse_stamp(name, value)) is not None]
    moments = [_moment(stamp) for stamp in stamps]
    if not stamps or min(moments) <= _future_limit(result) or max(moments) - min(moments) > FUTURE_SLACK:
        return {}
    return {stamp.field: stamp.raw for stamp in stamps}


def _is_default(raw: str, stamp: Stamp | None) -> str | None:
    """Why a date looks like a clock that was never set, or None."""
    if stamp is None:
        return "no date (zeros or blanks)" if raw.strip() and _UNSET.match(raw) else None
    wall = stamp.wall
    if wall in _FIRMWARE_DEFAULTS:
        return _FIRMWARE_DEFAULTS[wall]
    if wall.year in (1904, 1970) and wall.month == 1 and wall.day == 1:
        return f"the {wall.year} epoch start"
    if (wall.month, wall.day, wall.hour, wall.minute) == (1, 1, 0, 0) and stamp.has_time:
        return "midnight on 1 January, a camera's factory clock setting"
    return None


@book.rule(
    "EM-META-014",
    "Date is unset or a clock default",
    Category.METADATA,
    Severity.INFO,
    looks_at=(
        "EXIF, XMP, IPTC and GPS date tags: 0000:00:00 or blank, 1904-01-01 or 1970-01-01, 1 January 00:00, or "
        "a known firmware constant (2002:12:08 12:00:00), or every date of a still image after the analysis and "
        "within a day of each other (a clock set ahead); QuickTime container dates are EM-META-009's"
    ),
    innocent=(
        "Very common on genuine files: cameras whose clock was never set write zeros or their factory date, and a "
        "clock set a year ahead stamps every field alike. It "
        "only means the file's dates say nothing about when it was made."
    ),
)
def default_dates(result: AnalysisResult) -> Iterator[Observation]:
    defaults: dict[str, str] = {}
    reasons: list[str] = []
    for field_name, value in _file_dates(result, skip_groups=_CONTAINER_GROUPS):
        raw = str(value)
        reason = _is_default(raw, parse_stamp(field_name, raw))
        if reason:
            defaults[field_name] = raw
            reasons.append(reason)
    ahead = _clock_set_ahead(result)
    if ahead:
        defaults.update(ahead)
        reasons.append(f"every date lies after the analysis ({result.analysed_at}) and they agree: a clock set ahead")
    if not defaults:
        return
    first_name, first_value = next(iter(defaults.items()))
    others = f" (and {len(defaults) - 1} more)" if len(defaults) > 1 else ""
    yield Observation(
        evidence=defaults,
        explanation=f"{first_name} says {quote(first_value)}: {reasons[0]}{others}.",
    )


def _movie_seconds(result: AnalysisResult) -> float:
    for times in result.isobmff.times if result.isobmff else []:
        if times.box == "mvhd" and times.timescale:
            return (times.duration or 0) / times.timescale
    return 0.0


@book.rule(
    "EM-META-015",
    "Container times do not fit one recording",
    Category.METADATA,
    Severity.WARNING,
    looks_at=(
        "creation and modification times of mvhd, every tkhd and mdhd (UTC), Apple Keys "
        "com.apple.quicktime.creationdate, the user-data date udta/©day and XMP-xmp:CreateDate with a time zone, "
        "allowing the movie's duration plus 60 s"
    ),
    innocent=(
        "Cameras stamp the start or the end of a recording, hence the allowance for the duration. Editors and "
        "QuickTime exports update some boxes and not others; a later modification time means the file was "
        "rewritten after recording, which a trim or a metadata edit also does."
    ),
)
def container_times_disagree(result: AnalysisResult) -> Iterator[Observation]:
    if result.isobmff is None:
        return
    movie = next((times for times in result.isobmff.times if times.box == "mvhd" and times.creation_time), None)
    if movie is None:
        return
    created = datetime.fromisoformat(movie.creation_time)
    allowed = timedelta(seconds=_movie_seconds(result)) + CONTAINER_SLACK
    problems: dict[str, str] = {}
    sentences = []
    modified = datetime.fromisoformat(movie.modification_time) if movie.modification_time else None
    if modified is not None and not (-CONTAINER_SLACK <= modified - created <= allowed):
        problems["mvhd:modification_time"] = movie.modification_time
        sentences.append(
            f"the movie header was modified at {movie.modification_time}, {_describe(abs(modified - created))} "
            f"{'after' if modified > created else 'before'} its creation at {movie.creation_time}"
        )
    for times in result.isobmff.times:
        if times.box == "mvhd" or not times.creation_time:
            continue
        distance = abs(datetime.fromisoformat(times.creation_time) - created)
        if distance > allowed:
            problems[f"{times.box}@{times.offset}:creation_time"] = times.creation_time
            sentences.append(
                f"the {times.box} box at offset {times.offset:,} was created at {times.creation_time}, "
                f"{_describe(distance)} away from the movie's {movie.creation_time}"
            )
    apple_key = "com.apple.quicktime.creationdate"
    declared = [
        parse_stamp(apple_key, result.isobmff.vendor_tags.get(apple_key)),
        # The QuickTime user-data date ('udta/©day'), which FFmpeg and older cameras write.
        parse_stamp("udta:©day", result.isobmff.vendor_tags.get("©day")),
        parse_stamp("XMP-xmp:CreateDate", first(result, "XMP-xmp:CreateDate")),
    ]
    for stamp in declared:
        if stamp is None or stamp.utc is None or not stamp.has_time:
            continue
        distance = abs(stamp.utc - created.replace(tzinfo=None))
        if distance > allowed:
            problems[stamp.field] = stamp.raw
            sentences.append(
                f"{stamp.field} says {quote(stamp.raw)}, {_describe(distance)} away from the movie's "
                f"creation at {movie.creation_time} (UTC)"
            )
    if not problems:
        return
    yield Observation(
        evidence={
            "mvhd:creation_time": movie.creation_time,
            "mvhd:duration_seconds": round(_movie_seconds(result), 3),
            **problems,
        },
        explanation="In the container, " + "; ".join(sentences[:3]) + ".",
    )
