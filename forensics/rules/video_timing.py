"""Timing rule for MP4/MOV files: the movie header, each track's header, its media header and its edit list state
one duration between them, and a recording's audio starts where its encoder's priming ends. A file cut or shortened
by rewriting those boxes instead of its media leaves them disagreeing."""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysers.isobmff_structure import Track
from forensics.analysers.results import AnalysisResult

from .model import Category, Observation, RuleBook, Severity

book = RuleBook()

# Durations are stored in whole ticks of each box's timescale, and muxers round each one separately.
_ROUNDING_TICKS = 2
_ROUNDING_SECONDS = 0.1
# The longest AAC priming a recorder or encoder writes (Apple's 2,112 samples) plus one frame of end padding
# (1,024 samples): a sound track's coded media may outrun what it shows by this much.
_AAC_PRIMING_MAX = 2112
_AAC_FRAME = 1024


def _seconds(ticks: int | float, scale: int | None) -> float | None:
    return ticks / scale if scale else None


def _tolerance(track: Track, movie_scale: int) -> float:
    tolerance = _ROUNDING_SECONDS + _ROUNDING_TICKS / movie_scale
    if track.media_timescale:
        tolerance += _ROUNDING_TICKS / track.media_timescale
        if track.handler_type == "soun":
            tolerance += (_AAC_PRIMING_MAX + _AAC_FRAME) / track.media_timescale
    return tolerance


def _shown_media(track: Track, movie_scale: int) -> tuple[float, float] | None:
    """(first, last) second of the coded media the track's edit list shows, or None without one."""
    shown = [entry for entry in track.edits or [] if entry["media_time"] != -1]
    if not shown or not track.media_timescale:
        return None
    first = min(entry["media_time"] for entry in shown) / track.media_timescale
    last = max(entry["media_time"] / track.media_timescale + entry["segment_duration"] / movie_scale for entry in shown)
    return first, last


def _track_words(track: Track) -> str:
    kind = {"vide": "video", "soun": "sound"}.get(track.handler_type or "", repr(track.handler_type))
    return f"the {kind} track {track.track_id} (trak at offset {track.offset:,})"


def _track_findings(track: Track, movie_scale: int) -> Iterator[tuple[str, dict]]:
    tolerance = _tolerance(track, movie_scale)
    shown_seconds = _seconds(track.duration or 0, movie_scale)
    media_seconds = _seconds(track.media_duration or 0, track.media_timescale)
    evidence = {
        "track_id": track.track_id,
        "handler": track.handler_type,
        "tkhd:duration": track.duration,
        "mvhd:timescale": movie_scale,
        "mdhd:timescale": track.media_timescale,
        "mdhd:duration": track.media_duration,
    }
    if track.edits:
        edited = sum(entry["segment_duration"] for entry in track.edits) / movie_scale
        evidence["elst:entries"] = track.edits[:10]
        if abs(edited - shown_seconds) > tolerance:
            yield (
                f"the edit list of {_track_words(track)} lasts {edited:.3f} s but its track header says "
                f"{shown_seconds:.3f} s",
                evidence,
            )
    shown = _shown_media(track, movie_scale)
    if media_seconds is None:
        return
    if shown is None and not track.edits and abs(media_seconds - shown_seconds) > tolerance:
        yield (
            f"{_track_words(track)} lasts {shown_seconds:.3f} s by its header but its media lasts "
            f"{media_seconds:.3f} s, with no edit list between them",
            evidence,
        )
    if shown is None:
        return
    first, last = shown
    if media_seconds - last > tolerance:
        yield (
            f"the edit list of {_track_words(track)} stops showing its media at {last:.3f} s, "
            f"{media_seconds - last:.3f} s before the coded media ends ({media_seconds:.3f} s)",
            {**evidence, "hidden_end_seconds": round(media_seconds - last, 3)},
        )
    if track.handler_type == "soun" and first * track.media_timescale > _AAC_PRIMING_MAX + _ROUNDING_TICKS:
        skipped = round(first * track.media_timescale)
        yield (
            f"the edit list of {_track_words(track)} skips the first {skipped:,} samples ({first:.3f} s) of coded "
            f"audio, more than any AAC encoder's priming ({_AAC_PRIMING_MAX:,} samples at most)",
            {**evidence, "hidden_start_samples": skipped},
        )


@book.rule(
    "EM-VIDEO-007",
    "Track and movie durations disagree, or the audio starts after a cut",
    Category.STRUCTURE,
    Severity.WARNING,
    looks_at=(
        "per track: tkhd duration (movie timescale), mdhd timescale and duration and the elst entries "
        "(segment_duration, media_time) against each other and against the mvhd duration; the sound track's first "
        "media_time against the longest AAC priming (2,112 samples). Allowed: 0.1 s plus two ticks of each "
        "timescale for rounding, and for sound tracks 2,112 + 1,024 samples of priming and end padding"
    ),
    innocent=(
        "Players and muxers round each box separately, and some recorders pad the audio at the end; the allowance "
        "covers what genuine recordings show. Editors that trim without re-encoding (QuickTime, FFmpeg '-ss' with "
        "'-c copy', phone 'trim' without export) leave exactly these edit lists: the coded media outlasts what "
        "is shown, or the audio starts after the point where it was cut."
    ),
)
def track_durations_disagree(result: AnalysisResult) -> Iterator[Observation]:
    isobmff = result.isobmff
    if isobmff is None or result.video is None or isobmff.fragmented:
        return
    movie = next((times for times in isobmff.times if times.box == "mvhd" and times.timescale), None)
    tracks = [track for track in isobmff.tracks if track.duration is not None]
    if movie is None or not movie.duration or not tracks:
        return
    scale = movie.timescale
    longest = max(tracks, key=lambda track: track.duration)
    movie_seconds, longest_seconds = movie.duration / scale, longest.duration / scale
    if abs(movie_seconds - longest_seconds) > _ROUNDING_SECONDS + _ROUNDING_TICKS / scale:
        yield Observation(
            evidence={
                "mvhd:timescale": scale,
                "mvhd:duration": movie.duration,
                "longest_track_id": longest.track_id,
                "tkhd:duration": longest.duration,
            },
            explanation=(
                f"The movie header says the movie lasts {movie_seconds:.3f} s, but its longest track, "
                f"{_track_words(longest)}, lasts {longest_seconds:.3f} s by its own header."
            ),
        )
    for track in tracks:
        for sentence, evidence in _track_findings(track, scale):
            yield Observation(evidence=evidence, explanation=f"In the container, {sentence}.")
