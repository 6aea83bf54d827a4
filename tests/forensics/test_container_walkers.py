"""The RIFF (AVI, WAV, WebP), EBML (Matroska, WebM) and GIF walkers: silent on files FFmpeg and Pillow write,
and on damaged copies made here a finding that names the offset and what was expected there."""

from __future__ import annotations

import csv
import random
import struct
import subprocess
import time
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from PIL import Image

from forensics.analysers import analyse_file
from forensics.analysers.ebml_structure import ebml_structure_read
from forensics.analysers.filetype import sniff_container
from forensics.analysers.gif_structure import gif_structure_read
from forensics.analysers.riff_structure import MAX_CHUNKS, WALK_SECONDS, riff_structure_read
from forensics.analysers.tiff_structure import tiff_structure_read
from forensics.examination import PARTLY_EXAMINED, examination_lines
from forensics.presentation import structure_tree
from forensics.rules import evaluate
from reports.content import structure_summary

from .conftest import exiftool_write, picture

WALKER_RULES = {"EM-STRUCT-018", "EM-STRUCT-019", "EM-STRUCT-020"}


def ffmpeg(path: Path, *arguments: str) -> Path:
    """Write `path` with the real FFmpeg from its lavfi test sources."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *arguments, str(path)], check=True)
    return path


def _video_sources(seconds: int = 2) -> list[str]:
    return [
        "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
    ]  # fmt: skip


@pytest.fixture
def avi(tmp_path: Path) -> Path:
    return ffmpeg(tmp_path / "clip.avi", *_video_sources(), "-c:v", "mpeg4", "-c:a", "pcm_s16le")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return ffmpeg(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=duration=1", "-metadata", "title=tone")


@pytest.fixture
def mkv(tmp_path: Path) -> Path:
    return ffmpeg(tmp_path / "clip.mkv", *_video_sources(), "-c:v", "libx264", "-c:a", "aac")


def _webps(tmp_path: Path) -> list[Path]:
    image = picture(64, 48)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    variants = {
        "lossy.webp": {"quality": 80},
        "lossless.webp": {"lossless": True},
        "exif.webp": {"exif": exif.tobytes()},
        "xmp.webp": {"xmp": b'<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>'},
        "icc.webp": {"icc_profile": b"\x00" * 128},
    }
    paths = []
    for name, options in variants.items():
        image.save(tmp_path / name, **options)
        paths.append(tmp_path / name)
    Image.new("RGBA", (33, 17), (1, 2, 3, 100)).save(tmp_path / "alpha.webp")
    frames = [picture(20, 20).rotate(angle) for angle in (0, 90, 180)]
    frames[0].save(tmp_path / "animated.webp", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return [*paths, tmp_path / "alpha.webp", tmp_path / "animated.webp"]


def _gifs(tmp_path: Path) -> list[Path]:
    picture(64, 48).save(tmp_path / "still.gif")
    frames = [picture(20, 20).rotate(angle) for angle in (0, 90, 180)]
    frames[0].save(
        tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"hi"
    )
    ffmpeg(tmp_path / "ffmpeg.gif", "-f", "lavfi", "-i", "testsrc=size=80x60:rate=5:duration=1")
    return [tmp_path / "still.gif", tmp_path / "animated.gif", tmp_path / "ffmpeg.gif"]


def _damaged(source: Path, name: str, edit) -> Path:
    data = bytearray(source.read_bytes())
    edit(data)
    target = source.with_name(name)
    target.write_bytes(bytes(data))
    return target


def _finding(path: Path, rule_id: str):
    evaluation = evaluate(analyse_file(path))
    findings = [finding for finding in evaluation.findings if finding.rule_id == rule_id]
    assert findings, [finding.rule_id for finding in evaluation.findings]
    assert evaluation.verdict_code != "ok"
    return findings[0]


# --- valid files: no finding ---------------------------------------------------------------------------------


def test_ffmpeg_avi_wav_and_pillow_webp_walk_clean(tmp_path: Path, avi: Path, wav: Path) -> None:
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", "-f", "wav", "-"],
            check=True,
            capture_output=True,
        ).stdout
    )
    for path in [avi, wav, streamed, *_webps(tmp_path)]:
        structure = riff_structure_read(path)
        assert structure.issues == [], path.name
        assert structure.bytes_after_riff == 0

    avi_structure = riff_structure_read(avi)
    assert avi_structure.form_type == "AVI "
    assert [index.kind for index in avi_structure.indexes] == ["idx1"]
    assert avi_structure.indexes[0].checked > 50 and avi_structure.indexes[0].mismatches == 0
    assert riff_structure_read(wav).wave_format.sample_rate == 44100
    assert riff_structure_read(tmp_path / "exif.webp").webp.flags == ["exif"]
    assert riff_structure_read(tmp_path / "lossless.webp").webp.encoding == "VP8L"


def test_ffmpeg_matroska_webm_and_live_webm_walk_clean(tmp_path: Path, mkv: Path) -> None:
    webm = ffmpeg(tmp_path / "clip.webm", *_video_sources(), "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus")
    live = tmp_path / "live.webm"
    live.write_bytes(
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                *_video_sources(),
                "-c:v",
                "libvpx",
                "-an",
                "-f",
                "webm",
                "-live",
                "1",
                "-",
            ],
            check=True,
            capture_output=True,
        ).stdout
    )
    for path in (mkv, webm, live):
        structure = ebml_structure_read(path)
        assert structure.issues == [], path.name
        assert structure.muxing_app.startswith("Lavf") and structure.writing_app.startswith("Lavf")
        assert structure.cluster_count >= 1 and structure.block_count > 40
    assert ebml_structure_read(mkv).doc_type == "matroska"
    assert ebml_structure_read(live).segment_size is None  # a live recording's unknown size
    assert [track.codec_id for track in ebml_structure_read(webm).tracks] == ["V_VP8", "A_OPUS"]


def test_unknown_size_clusters_as_browser_recorders_write_them_walk_clean(tmp_path: Path, mkv: Path) -> None:
    clusters = [element for element in ebml_structure_read(mkv).elements if element.type == "Cluster"]

    def open_every_cluster(data: bytearray) -> None:
        for cluster in clusters:
            at = cluster.offset + 4  # the Cluster ID takes four bytes; its size follows
            width = 9 - data[at].bit_length()
            data[at : at + width] = bytes([0xFF >> (width - 1)]) + b"\xff" * (width - 1)  # "unknown" of that width

    opened = _damaged(mkv, "recorder.mkv", open_every_cluster)
    structure = ebml_structure_read(opened)

    assert len(clusters) >= 1 and structure.issues == []
    assert [element.size for element in structure.elements if element.type == "Cluster"] == [None] * len(clusters)
    assert structure.cluster_count == len(clusters) and "Cues" in [element.type for element in structure.elements]


def test_pillow_and_ffmpeg_gifs_walk_clean(tmp_path: Path) -> None:
    for path in _gifs(tmp_path):
        structure = gif_structure_read(path)
        assert structure.issues == [], path.name
        assert structure.trailer_offset == path.stat().st_size - 1
    animated = gif_structure_read(tmp_path / "animated.gif")
    assert animated.frame_count == 3 and animated.comments == ["hi"] and animated.applications == ["NETSCAPE2.0"]


def test_valid_generated_containers_raise_no_walker_finding(tmp_path: Path, avi: Path, wav: Path, mkv: Path) -> None:
    for path in [avi, wav, mkv, *_webps(tmp_path), *_gifs(tmp_path)]:
        result = analyse_file(path)
        assert {run.name for run in result.runs if run.status == "ok"} & {"riff", "ebml", "gif"}, path.name
        assert not WALKER_RULES & {finding.rule_id for finding in evaluate(result).findings}, path.name


def test_container_of_matroska_bytes_is_ebml(mkv: Path) -> None:
    assert sniff_container(mkv.read_bytes()[:64]) == "ebml"
    assert analyse_file(mkv, original_filename="clip.mkv").file_type.extension_matches is True


# --- RIFF damage ---------------------------------------------------------------------------------------------


def test_truncated_avi_names_the_missing_end(avi: Path) -> None:
    size = avi.stat().st_size
    cut = _damaged(avi, "cut.avi", lambda data: data.__delitem__(slice(size // 2, None)))

    finding = _finding(cut, "EM-STRUCT-018")

    assert f"should end at offset {size:,}" in finding.explanation
    assert f"it ends at offset {size // 2:,}" in finding.explanation
    assert {problem["code"] for problem in finding.evidence["structure:problems"]} >= {"riff_truncated"}


def test_corrupted_chunk_size_names_the_chunk_and_its_parent(avi: Path) -> None:
    structure = riff_structure_read(avi)
    strh = next(chunk for chunk in structure.chunks if chunk.type == "strh")
    damaged = _damaged(avi, "size.avi", lambda data: struct.pack_into("<I", data, strh.offset + 4, 0x10000))

    finding = _finding(damaged, "EM-STRUCT-018")

    assert f"Chunk 'strh' at offset {strh.offset:,} declares 65,536 bytes" in finding.explanation
    assert "expected it to end by the end of LIST 'strl'" in finding.explanation
    assert finding.evidence["structure:problems"][0]["offset"] == strh.offset


def test_idx1_entry_pointing_outside_movi_is_reported(avi: Path) -> None:
    structure = riff_structure_read(avi)
    idx1 = next(chunk for chunk in structure.chunks if chunk.type == "idx1")
    movi = next(chunk for chunk in structure.chunks if chunk.type == "LIST:movi")
    damaged = _damaged(avi, "index.avi", lambda data: struct.pack_into("<I", data, idx1.offset + 8 + 8, movi.size + 64))

    walked = riff_structure_read(damaged)
    finding = _finding(damaged, "EM-STRUCT-018")

    assert walked.indexes[0].mismatches == 1
    assert f"entry 0 at offset {idx1.offset + 8:,}" in finding.explanation
    assert "outside the 'movi' list" in finding.explanation


def test_idx1_entry_naming_the_wrong_chunk_is_reported(avi: Path) -> None:
    structure = riff_structure_read(avi)
    idx1 = next(chunk for chunk in structure.chunks if chunk.type == "idx1")
    damaged = _damaged(avi, "index.avi", lambda data: struct.pack_into("<I", data, idx1.offset + 8 + 12, 7))

    finding = _finding(damaged, "EM-STRUCT-018")

    assert "of 7 bytes at offset" in finding.explanation and "found b'" in finding.explanation


def test_bytes_after_the_riff_size_are_reported_with_their_offset(wav: Path) -> None:
    size = wav.stat().st_size
    damaged = _damaged(wav, "appended.wav", lambda data: data.extend(b"hidden payload"))

    finding = _finding(damaged, "EM-STRUCT-018")

    assert riff_structure_read(damaged).bytes_after_riff == 14
    assert f"14 bytes follow the end of the RIFF chunk at offset {size:,}" in finding.explanation


def test_vp8x_flag_without_its_chunk_is_reported(tmp_path: Path) -> None:
    Image.new("RGBA", (33, 17), (1, 2, 3, 100)).save(tmp_path / "alpha.webp")
    damaged = _damaged(tmp_path / "alpha.webp", "flag.webp", lambda data: data.__setitem__(20, data[20] | 0x08))

    finding = _finding(damaged, "EM-STRUCT-018")

    assert "sets the EXIF flag; expected a 'EXIF' chunk" in finding.explanation


def test_exif_chunk_the_vp8x_header_does_not_declare_is_reported(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    picture(64, 48).save(tmp_path / "exif.webp", exif=exif.tobytes())
    damaged = _damaged(tmp_path / "exif.webp", "flag.webp", lambda data: data.__setitem__(20, data[20] & ~0x08))

    assert [issue.code for issue in riff_structure_read(damaged).issues] == ["chunk_without_vp8x_flag"]


def test_rf64_wav_reads_its_sizes_from_ds64(tmp_path: Path) -> None:
    rf64 = ffmpeg(tmp_path / "long.wav", "-f", "lavfi", "-i", "sine=duration=1", "-rf64", "always")
    size = rf64.stat().st_size
    cut = _damaged(rf64, "cut.wav", lambda data: data.__delitem__(slice(size - 100, None)))

    structure = riff_structure_read(rf64)

    assert rf64.read_bytes()[:4] == b"RF64" and structure.issues == []
    assert structure.riff_size == size - 8 and [chunk.type for chunk in structure.chunks][-1] == "data"
    assert f"should end at offset {size:,}" in _finding(cut, "EM-STRUCT-018").explanation


def test_wav_without_its_pad_byte_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    chunks = (
        b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"note"
        + struct.pack("<I", 3)
        + b"abc"
        + b"data"
        + struct.pack("<I", 4)
        + b"\x80" * 4
    )
    path = tmp_path / "unpadded.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)

    structure = riff_structure_read(path)

    assert [issue.code for issue in structure.issues] == ["missing_pad_byte"]
    assert "data" in [chunk.type for chunk in structure.chunks]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) % 2)


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _opendml_avi(ix_offset: int, frame_offsets: list[int]) -> bytes:
    """A small AVI with an OpenDML super index in its stream header and a standard 'ix00' index in 'movi'."""
    super_index = struct.pack("<HBBI4s12x", 4, 0, 0, 1, b"00dc") + struct.pack("<QII", ix_offset, 24 + 8 * 3 + 8, 3)
    standard = struct.pack("<HBBI4sQI", 2, 0, 1, 3, b"00dc", 0, 0) + b"".join(
        struct.pack("<II", offset + 8, 10) for offset in frame_offsets
    )
    frames = [_chunk(b"00dc", bytes(range(10))) for _ in range(3)]
    hdrl = _list(
        b"hdrl", _chunk(b"avih", bytes(56)), _list(b"strl", _chunk(b"strh", bytes(56)), _chunk(b"indx", super_index))
    )
    body = b"AVI " + hdrl + _list(b"movi", *frames, _chunk(b"ix00", standard))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _valid_opendml_avi() -> bytes:
    draft = _opendml_avi(0, [0, 0, 0])
    frames = [index for index in range(len(draft)) if draft.startswith(b"00dc\x0a", index)]
    return _opendml_avi(draft.index(b"ix00"), frames)


def test_opendml_indexes_are_checked_against_the_chunks_they_point_to(tmp_path: Path) -> None:
    path = tmp_path / "opendml.avi"
    path.write_bytes(_valid_opendml_avi())

    structure = riff_structure_read(path)

    assert [(index.kind, index.checked, index.mismatches) for index in structure.indexes] == [
        ("indx", 1, 0),
        ("ix00", 3, 0),
    ]
    assert structure.issues == []


def test_opendml_super_index_pointing_past_the_file_is_reported(tmp_path: Path) -> None:
    data = bytearray(_valid_opendml_avi())
    entry = data.index(b"indx") + 8 + 24
    struct.pack_into("<Q", data, entry, len(data) + 100)
    path = tmp_path / "opendml.avi"
    path.write_bytes(bytes(data))

    finding = _finding(path, "EM-STRUCT-018")

    assert f"expects an 'ix##' chunk of 56 bytes (header included) at offset {len(data) + 100:,}" in finding.explanation
    assert "beyond the end of the file" in finding.explanation


# --- EBML damage ---------------------------------------------------------------------------------------------


def test_truncated_matroska_names_the_segment_overrun(mkv: Path) -> None:
    size = mkv.stat().st_size
    cut = _damaged(mkv, "cut.mkv", lambda data: data.__delitem__(slice(size * 2 // 3, None)))

    finding = _finding(cut, "EM-STRUCT-019")

    assert "Segment at offset" in finding.explanation
    assert f"expected it to end by the end of the file at offset {size * 2 // 3:,}" in finding.explanation


def test_ebml_size_overflowing_its_parent_is_reported(mkv: Path) -> None:
    info = next(element for element in ebml_structure_read(mkv).elements if element.type == "Info")
    size_start = info.offset + 4  # Info has a four-byte ID
    # An eight-byte size (marker 0x01) just short of "unknown": far more than the Segment holds.
    overflow = b"\x01" + b"\xff" * 6 + b"\xfe"

    damaged = _damaged(mkv, "overflow.mkv", lambda data: data.__setitem__(slice(size_start, size_start + 8), overflow))
    finding = _finding(damaged, "EM-STRUCT-019")

    assert f"Info at offset {info.offset:,} declares" in finding.explanation
    assert "expected it to end by the end of its parent Segment" in finding.explanation


def test_cue_pointing_at_no_cluster_is_reported(mkv: Path) -> None:
    cue = next(element for element in ebml_structure_read(mkv).elements if element.type == "CueClusterPosition")
    # CueClusterPosition: one-byte ID 0xF1, one-byte size, then the position; point it at the Segment's first byte.
    damaged = _damaged(
        mkv,
        "cues.mkv",
        lambda data: data.__setitem__(slice(cue.offset + 2, cue.offset + 2 + cue.size), bytes(cue.size)),
    )

    finding = _finding(damaged, "EM-STRUCT-019")

    assert f"a Cue point at offset {cue.offset:,}, expects Cluster" in finding.explanation


# --- GIF damage ----------------------------------------------------------------------------------------------


def test_truncated_gif_and_bytes_after_its_trailer_are_reported(tmp_path: Path) -> None:
    still = _gifs(tmp_path)[0]
    size = still.stat().st_size
    cut = _damaged(still, "cut.gif", lambda data: data.__delitem__(slice(size - 20, None)))
    appended = _damaged(still, "appended.gif", lambda data: data.extend(b"PK\x03\x04 payload"))

    assert "expected" in _finding(cut, "EM-STRUCT-020").explanation
    assert f"12 bytes follow the trailer at offset {size - 1:,}" in _finding(appended, "EM-STRUCT-020").explanation


# --- TIFF ----------------------------------------------------------------------------------------------------


def _tiffs(tmp_path: Path) -> list[Path]:
    image = picture(300, 200)
    image.save(tmp_path / "plain.tif")
    image.save(tmp_path / "lzw.tif", compression="tiff_lzw")
    image.save(tmp_path / "jpeg.tif", compression="jpeg")
    pages = [picture(50, 40).rotate(angle) for angle in (0, 90, 180)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    image.save(tmp_path / "tagged.tif")
    exiftool_write(tmp_path / "tagged.tif", "-Make=Canon", "-DateTimeOriginal=2020:01:01 10:00:00", "-GPSLatitude=10")
    ffmpeg(tmp_path / "ffmpeg.tiff", "-f", "lavfi", "-i", "testsrc=size=160x120", "-frames:v", "1")
    return [*(tmp_path / name for name in ("plain.tif", "lzw.tif", "jpeg.tif", "pages.tif", "tagged.tif")),
            tmp_path / "ffmpeg.tiff"]  # fmt: skip


def test_pillow_exiftool_and_ffmpeg_tiffs_walk_clean(tmp_path: Path) -> None:
    for path in _tiffs(tmp_path):
        assert tiff_structure_read(path).issues == [], path.name
        assert "EM-STRUCT-021" not in {finding.rule_id for finding in evaluate(analyse_file(path)).findings}
    assert [ifd.type for ifd in tiff_structure_read(tmp_path / "pages.tif").ifds] == ["IFD0", "IFD1", "IFD2"]
    assert [ifd.type for ifd in tiff_structure_read(tmp_path / "tagged.tif").ifds] == ["IFD0", "ExifIFD", "GPSIFD"]


def test_tiff_ifd_loop_and_ifd_outside_the_file_are_reported(tmp_path: Path) -> None:
    _tiffs(tmp_path)
    pages = tmp_path / "pages.tif"
    ifd1 = tiff_structure_read(pages).ifds[1]
    next_pointer = ifd1.offset + ifd1.size - 4
    looped = _damaged(pages, "loop.tif", lambda data: struct.pack_into("<I", data, next_pointer, 8))
    outside = _damaged(pages, "outside.tif", lambda data: struct.pack_into("<I", data, next_pointer, 10**8))

    assert f"IFD1's next-IFD pointer at offset {next_pointer:,} points IFD2 back to offset 8" in (
        _finding(looped, "EM-STRUCT-021").explanation
    )
    assert "points IFD2 to offset 100,000,000; expected an IFD inside the file" in (
        _finding(outside, "EM-STRUCT-021").explanation
    )


def test_tiff_strip_past_the_end_of_a_truncated_file_is_reported(tmp_path: Path) -> None:
    _tiffs(tmp_path)
    plain = tmp_path / "plain.tif"  # Pillow writes the IFD first, then the strips
    size = plain.stat().st_size
    cut = _damaged(plain, "cut.tif", lambda data: data.__delitem__(slice(size - 1000, None)))

    finding = _finding(cut, "EM-STRUCT-021")

    assert "of IFD0 spans offsets" in finding.explanation
    assert f"expected it inside the file, which ends at offset {size - 1000:,}" in finding.explanation


def test_raw_tiff_variants_go_to_the_tiff_walk(tmp_path: Path) -> None:
    """Panasonic RW2 ('IIU\\0') and Olympus ORF ('IIRO') are TIFF with their own magic; a Pillow TIFF given those
    headers walks like the TIFF it is, and a damaged one is reported."""
    _tiffs(tmp_path)
    plain = tmp_path / "plain.tif"
    rw2 = _damaged(plain, "raw.rw2", lambda data: data.__setitem__(slice(0, 4), b"IIU\x00"))
    orf = _damaged(plain, "raw.orf", lambda data: data.__setitem__(slice(0, 4), b"IIRO"))
    broken = _damaged(rw2, "broken.rw2", lambda data: struct.pack_into("<I", data, 4, 10**8))

    assert sniff_container(rw2.read_bytes()[:16]) == sniff_container(orf.read_bytes()[:16]) == "tiff"
    assert [ifd.type for ifd in tiff_structure_read(rw2).ifds] == ["IFD0"] and tiff_structure_read(orf).issues == []
    assert "points IFD0 to offset 100,000,000" in _finding(broken, "EM-STRUCT-021").explanation


# --- bounds --------------------------------------------------------------------------------------------------


def test_walkers_never_raise_on_mutated_files(tmp_path: Path, avi: Path, wav: Path, mkv: Path) -> None:
    generator = random.Random(12)
    walkers = {avi: riff_structure_read, wav: riff_structure_read, mkv: ebml_structure_read}
    walkers |= {path: riff_structure_read for path in _webps(tmp_path)[:2]}
    walkers |= {path: gif_structure_read for path in _gifs(tmp_path)[1:2]}
    walkers |= {path: tiff_structure_read for path in _tiffs(tmp_path)[3:5]}
    for source, walk in walkers.items():
        original = source.read_bytes()
        for number in range(40):
            data = bytearray(original)
            if number % 3 == 0:
                del data[generator.randrange(len(data)) :]
            for _ in range(generator.randint(1, 6)):
                position = generator.randrange(len(data) - 4)
                data[position : position + 4] = generator.choice(
                    [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x01\xff"]
                )
            mutated = tmp_path / f"mutated{source.suffix}"
            mutated.write_bytes(bytes(data))
            walk(mutated)  # must not raise


def test_a_file_of_countless_tiny_chunks_stops_within_the_walk_bound(tmp_path: Path) -> None:
    body = b"WAVE" + b"JUNK\x00\x00\x00\x00" * (MAX_CHUNKS + 1)
    path = tmp_path / "hostile.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)

    started = time.monotonic()
    structure = riff_structure_read(path)

    assert time.monotonic() - started < WALK_SECONDS + 3
    assert [issue.code for issue in structure.issues] == ["walk_limit"]
    findings = {finding.rule_id: finding for finding in evaluate(analyse_file(path)).findings}
    assert "EM-STRUCT-018" not in findings  # not damage: the walk stopped
    assert findings["EM-STRUCT-013"].evidence["structure:walk_limits"][0]["parser"] == "riff"


@pytest.mark.parametrize(
    ("walker", "limit", "make", "parser", "check"),
    [
        ("riff_structure", "MAX_CHUNKS", "avi", "riff", "RIFF chunks (AVI, WebP, WAV)"),
        ("ebml_structure", "MAX_ELEMENTS", "mkv", "ebml", "Matroska and WebM elements"),
        ("gif_structure", "MAX_BLOCKS", "gif", "gif", "GIF blocks"),
        ("tiff_structure", "MAX_IFDS", "tiff", "tiff", "TIFF and DNG directories"),
    ],
)
def test_a_walk_stopped_at_its_limit_is_said_incomplete_and_partly_examined(
    tmp_path: Path, monkeypatch, request, walker: str, limit: str, make: str, parser: str, check: str
) -> None:
    # Given a file FFmpeg or Pillow wrote, and the walker's limit lowered under what the file holds
    if make == "gif":
        path = _gifs(tmp_path)[1]
    elif make == "tiff":
        path = tmp_path / "pages.tif"
        pages = [picture(32, 24).rotate(angle) for angle in (0, 90, 180)]
        pages[0].save(path, save_all=True, append_images=pages[1:])
    else:
        path = request.getfixturevalue(make)
    monkeypatch.setattr(f"forensics.analysers.{walker}.{limit}", 2)

    result = analyse_file(path)
    findings = {finding.rule_id: finding for finding in evaluate(result).findings}

    # Then the analysis says it stopped, where and in which walk, and calls nothing damaged
    assert WALKER_RULES.isdisjoint(findings) and "EM-STRUCT-021" not in findings
    stopped = findings["EM-STRUCT-013"]
    assert [stop["parser"] for stop in stopped.evidence["structure:walk_limits"]] == [parser]
    assert f"the {parser} walk stopped at its limit: " in stopped.explanation
    assert stopped.explanation.endswith("; the rest of the file was not examined.")
    # and "What was examined" says the walk was partial, not that the file was examined
    line = {line.check: line for line in examination_lines(result.to_dict())}[check]
    assert (line.state, line.state_words) == (PARTLY_EXAMINED, "partly examined: stopped at its limit")
    assert line.reason.endswith("; the rest of the file was not examined")


# --- presentation --------------------------------------------------------------------------------------------


def test_evidence_page_tree_and_report_show_the_new_structures(avi: Path, mkv: Path) -> None:
    avi_result, mkv_result = analyse_file(avi).to_dict(), analyse_file(mkv).to_dict()

    avi_tree, mkv_tree = structure_tree(avi_result), structure_tree(mkv_result)

    assert avi_tree.kind == "RIFF chunks (AVI, WAV, WebP)"
    assert [node.name for node in avi_tree.nodes] == ["RIFF:AVI "]
    assert [node.name for node in avi_tree.nodes[0].children][:1] == ["LIST:hdrl"]
    assert mkv_tree.kind == "Matroska/WebM elements" and [node.name for node in mkv_tree.nodes] == ["EBML", "Segment"]
    page = render_to_string("forensics/_structure_nodes.html", {"nodes": mkv_tree.nodes, "top": True})
    assert "<strong>Segment</strong>" in page and "/Segment/Info/MuxingApp" in page
    summary = structure_summary(mkv_result)["container"]
    assert summary["title"] == "Matroska/WebM elements"
    assert "/Segment/Info" in [unit["path"] for unit in summary["units"]]


# --- the shared corpus ---------------------------------------------------------------------------------------

# The issue's bound for one hostile file, ExifTool and MediaInfo included.
SECONDS_PER_FILE = 10.0


def test_every_malformed_riff_file_of_the_corpus_gets_a_structural_finding_in_time(corpus: Path) -> None:
    rows = [
        row for row in csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8")) if row["label"] == "malformed"
    ]
    riff = [corpus / row["path"] for row in rows if (corpus / row["path"]).read_bytes()[:4] == b"RIFF"]
    if not riff:
        pytest.skip("the corpus holds no malformed RIFF files")

    unflagged, slow = [], []
    for path in riff:
        started = time.monotonic()
        evaluation = evaluate(analyse_file(path))
        if time.monotonic() - started > SECONDS_PER_FILE:
            slow.append(path.name)
        if "EM-STRUCT-018" not in {finding.rule_id for finding in evaluation.findings}:
            unflagged.append(path.name)

    assert unflagged == [] and slow == []
