"""Our reading of H.265 sequence parameter sets through the VUI (h26x_bitstream), on streams libx265 writes here with
the colour, range and frame rate asked of it, on a parameter set written field by field with every branch x265 does
not take (sub-layers, scaling lists, PCM, short-term reference sets predicted from one another, long-term
references, HRD with sub-picture parameters), each checked against FFmpeg's own reading of the same bytes; on
Apple's hardware-coded parameter sets of the shared corpus; and on damaged bytes, which must never raise."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from forensics.analysers import analyse_file
from forensics.analysers.h26x_bitstream import bitstream_read
from forensics.analysers.video_probe import video_probe_read
from forensics.analysers.video_traits import video_traits

from .conftest import CORPUS

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="FFmpeg is not installed")

APPLE_HEIC = sorted((CORPUS / "images" / "camera-original").glob("*.[Hh][Ee][Ii][Cc]"))


def x265(path: Path, rate: str, params: str, *extra: str) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={rate}:duration=1", "-an",
            "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"{params}:log-level=error", *extra,
            *(["-tag:v", "hvc1"] if path.suffix == ".mp4" else []), str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def ffmpeg_reading(stream: Path) -> dict[str, int]:
    """FFmpeg's own reading (its trace_headers filter) of a stream's parameter sets and headers: field name -> value,
    and 'errors' for the lines it reports as errors."""
    trace = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "debug", "-y", "-i", str(stream), "-c", "copy", "-bsf:v",
         "trace_headers", "-f", "rawvideo", str(stream.with_suffix(".copy"))],  # a muxer that needs no picture size
        capture_output=True, text=True, check=False,
    ).stderr  # fmt: skip
    fields = {
        match[1]: int(match[2]) for match in re.finditer(r"\] \d+\s+(\w+(?:\[[\d\]\[]+)?)\s+[01]+ = (-?\d+)", trace)
    }
    fields["errors"] = len(re.findall(r"out of range|Failed to read", trace))
    return fields


class SpsWriter:
    """An SPS written field by field, as ITU-T H.265 7.3.2.2 orders them."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, count: int, value: int) -> None:
        self.bits += [(value >> (count - 1 - i)) & 1 for i in range(count)]

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() - 1, 0)
        self.u(code.bit_length(), code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def profile_tier_level(self) -> None:
        """Main profile at level 3.1 with a second temporal sub-layer, whose profile and level are also sent."""
        self.u(8, 0x01), self.u(32, 0x60000000), self.u(48, 0x9 << 44), self.u(8, 93)
        self.u(2, 0b11), self.u(14, 0)  # sub-layer 0: profile and level present; reserved bits
        self.u(8, 0x01), self.u(32, 0x60000000), self.u(48, 0x9 << 44), self.u(8, 90)

    def nal_unit(self, nal_type: int) -> bytes:
        """NAL header, then the RBSP with its trailing bits and emulation-prevention bytes."""
        bits = self.bits + [1] + [0] * (-(len(self.bits) + 1) % 8)
        rbsp = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
        unit, zeros = bytearray([nal_type << 1, 1]), 0
        for byte in rbsp:
            if zeros >= 2 and byte <= 3:
                unit.append(3)
                zeros = 0
            unit.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        return bytes(unit)


def annex_b(*units: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in units)


def nal_units_of_type(data: bytes, nal_type: int) -> list[bytes]:
    """The NAL units of one type in an Annex B stream, without the zero byte of the next 4-byte start code."""
    return [unit.rstrip(b"\x00") for unit in data.split(b"\x00\x00\x01") if unit and unit[0] >> 1 == nal_type]


def every_branch_sps(*, extra_flag_pair: bool = False) -> bytes:
    """An SPS taking every branch of the syntax; with extra_flag_pair, set 2 carries the flag pair a reader that
    kept set 1's zero POC delta would expect, so the fields no longer line up with the end of the SPS."""
    sps = SpsWriter()
    sps.u(4, 0), sps.u(3, 1), sps.u(1, 1)  # VPS id, two temporal sub-layers, nesting
    sps.profile_tier_level()
    sps.ue(0), sps.ue(1), sps.ue(320), sps.ue(240), sps.u(1, 0), sps.ue(0), sps.ue(0)  # 4:2:0, 320x240, 8 bits
    sps.ue(4)  # log2_max_pic_order_cnt_lsb_minus4: 8-bit POC LSBs
    sps.u(1, 1)
    for _ in range(2):  # ordering info for each sub-layer
        sps.ue(4), sps.ue(2), sps.ue(0)
    sps.ue(0), sps.ue(3), sps.ue(0), sps.ue(3), sps.ue(1), sps.ue(1)  # 8..64 coding blocks, 4..32 transforms
    sps.u(1, 1), sps.u(1, 1)  # scaling lists, sent in the SPS
    for size_id in range(4):
        for matrix_id in range(0, 6, 3 if size_id == 3 else 1):
            if matrix_id % 2:
                sps.u(1, 0), sps.ue(1)  # copied from the list before
                continue
            sps.u(1, 1)
            if size_id > 1:
                sps.se(8)
            for index in range(min(64, 1 << (4 + (size_id << 1)))):
                sps.se(1 if index % 3 == 0 else 0)
    sps.u(1, 1), sps.u(1, 1), sps.u(1, 1)  # AMP, SAO, PCM
    sps.u(4, 7), sps.u(4, 7), sps.ue(0), sps.ue(1), sps.u(1, 1)
    sps.ue(4)  # four short-term reference picture sets
    sps.ue(2), sps.ue(1)  # set 0, explicit: -1, -3 and +2
    sps.ue(0), sps.u(1, 1), sps.ue(1), sps.u(1, 1), sps.ue(1), sps.u(1, 1)
    # Set 1 predicted from set 0 with deltaRps -2: -3, -5, 0 (never a reference: dropped) and -2 itself, so it holds
    # three pictures; set 2, predicted from set 1 with deltaRps +1, must then read four flag pairs, not five.
    sps.u(1, 1), sps.u(1, 1), sps.ue(1)
    sps.u(1, 1), sps.u(1, 0), sps.u(1, 1), sps.u(1, 1), sps.u(1, 1)
    sps.u(1, 1), sps.u(1, 0), sps.ue(0)
    sps.u(1, 1), sps.u(1, 1), sps.u(1, 0), sps.u(1, 0), sps.u(1, 1)
    if extra_flag_pair:
        sps.u(1, 1)
    sps.u(1, 0), sps.ue(1), sps.ue(0), sps.ue(0), sps.u(1, 1)  # set 3, explicit: -1
    sps.u(1, 1), sps.ue(2), sps.u(8, 17), sps.u(1, 1), sps.u(8, 200), sps.u(1, 0)  # two long-term references
    sps.u(1, 1), sps.u(1, 0)  # temporal MVP, no strong intra smoothing
    sps.u(1, 1)  # VUI
    sps.u(1, 1), sps.u(8, 255), sps.u(16, 4), sps.u(16, 3)  # aspect ratio 4:3 samples
    sps.u(1, 1), sps.u(1, 0)  # overscan
    sps.u(1, 1), sps.u(3, 5), sps.u(1, 1), sps.u(1, 1), sps.u(8, 9), sps.u(8, 16), sps.u(8, 9)  # full-range BT.2020 PQ
    sps.u(1, 1), sps.ue(2), sps.ue(2)  # chroma sample location
    sps.u(1, 0), sps.u(1, 0), sps.u(1, 1)  # neutral chroma, field_seq, frame-field info
    sps.u(1, 1), sps.ue(0), sps.ue(0), sps.ue(4), sps.ue(4)  # default display window
    sps.u(1, 1), sps.u(32, 1001), sps.u(32, 60000), sps.u(1, 1), sps.ue(1)  # 59.94 Hz, POC proportional
    sps.u(1, 1), sps.u(1, 1), sps.u(1, 1), sps.u(1, 1)  # HRD: NAL and VCL, sub-picture parameters
    sps.u(8, 23), sps.u(5, 4), sps.u(1, 1), sps.u(5, 4), sps.u(4, 2), sps.u(4, 3), sps.u(4, 3)
    sps.u(5, 23), sps.u(5, 23), sps.u(5, 23)
    sps.u(1, 0), sps.u(1, 0), sps.u(1, 1)  # sub-layer 0: variable rate, low delay, so one CPB and no count
    for _ in range(2):
        sps.ue(999), sps.ue(4999), sps.ue(499), sps.ue(99), sps.u(1, 1)
    sps.u(1, 0), sps.u(1, 1), sps.ue(0), sps.ue(1)  # sub-layer 1: fixed rate within the sequence, two CPBs
    for _ in range(2 * 2):
        sps.ue(999), sps.ue(4999), sps.ue(499), sps.ue(99), sps.u(1, 0)
    sps.u(1, 1), sps.u(3, 0b011), sps.ue(0), sps.ue(2), sps.ue(1), sps.ue(15), sps.ue(15)  # bitstream restriction
    sps.u(1, 0)  # no extensions
    return sps.nal_unit(33)


def video_parameter_set() -> bytes:
    """The VPS (7.3.2.1) FFmpeg needs before it reads an SPS: one layer, two temporal sub-layers."""
    vps = SpsWriter()
    vps.u(4, 0), vps.u(2, 0b11), vps.u(6, 0), vps.u(3, 1), vps.u(1, 1), vps.u(16, 0xFFFF)
    vps.profile_tier_level()
    vps.u(1, 1)
    for _ in range(2):
        vps.ue(4), vps.ue(2), vps.ue(0)
    vps.u(6, 0), vps.ue(0), vps.u(1, 0), vps.u(1, 0)  # max layer id, layer sets, no timing, no extension
    return vps.nal_unit(32)


@pytest.mark.parametrize(
    ("rate", "params", "extra", "colour", "full_range", "timing"),
    [
        (
            "30000/1001",
            "colorprim=bt709:transfer=bt709:colormatrix=bt709:range=full",
            (),
            (1, 1, 1),
            True,
            (1001, 30000),
        ),
        (
            "25",
            "colorprim=bt470bg:transfer=smpte170m:colormatrix=smpte170m:range=limited",
            (),
            (5, 6, 6),
            False,
            (1, 25),
        ),
        (
            "50",
            "colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:hrd=1:vbv-bufsize=800:vbv-maxrate=800",
            ("-pix_fmt", "yuv420p10le"),
            (9, 16, 9),
            False,
            (1, 50),
        ),
    ],
)
def test_x265_vui_is_read_as_the_encoder_was_asked(
    tmp_path: Path, rate: str, params: str, extra: tuple, colour: tuple, full_range: bool, timing: tuple
) -> None:
    video = x265(tmp_path / "x265.mp4", rate, params, *extra)

    stream = video_probe_read(video).first("video")
    (sps,) = stream.bitstream.parameter_sets
    vui = sps.vui

    assert sps.complete and sps.notes == []  # read to the SPS's own trailing bits
    assert (vui["colour_primaries"], vui["transfer_characteristics"], vui["matrix_coefficients"]) == colour
    assert vui["video_full_range"] is full_range
    assert (vui["num_units_in_tick"], vui["time_scale"]) == timing
    assert vui.get("nal_hrd", False) is ("hrd=1" in params)  # x265 writes NAL HRD parameters when asked
    assert (sps.width, sps.height, sps.bit_depth) == (320, 240, 10 if extra else 8)
    assert stream.color["color_range"] == ("pc" if full_range else "tv")  # FFmpeg's decoder reads the same VUI


def test_a_parameter_set_with_every_branch_is_read_as_ffmpeg_reads_it(tmp_path: Path) -> None:
    unit = every_branch_sps()
    stream = tmp_path / "units.hevc"
    stream.write_bytes(annex_b(video_parameter_set(), unit))
    ffmpeg = ffmpeg_reading(stream)

    (sps,) = bitstream_read("hevc", annex_b(unit), b"").parameter_sets

    assert ffmpeg["errors"] == 0 and ffmpeg["num_short_term_ref_pic_sets"] == 4
    assert ffmpeg["vui_time_scale"] == 60000 and ffmpeg["sps_extension_present_flag"] == 0
    assert sps.complete and sps.notes == []
    assert (sps.short_term_ref_pic_sets, sps.long_term_ref_pics) == (4, 2)
    assert (sps.profile_idc, sps.level_idc, sps.width, sps.height) == (1, 93, 320, 240)
    assert sps.coding_tools["scaling_list"] and sps.coding_tools["pcm"]
    assert sps.coding_tools["log2_coding_block_sizes"] == (3, 6)
    assert (sps.vui["sar_width"], sps.vui["sar_height"], sps.vui["chroma_sample_loc_top"]) == (4, 3, 2)
    assert (sps.vui["num_units_in_tick"], sps.vui["time_scale"], sps.vui["num_ticks_poc_diff_one"]) == (1001, 60000, 2)
    assert sps.vui["video_full_range"] and sps.vui["colour_primaries"] == ffmpeg["colour_primaries"] == 9
    assert sps.vui["nal_hrd"] and sps.vui["vcl_hrd"] and sps.vui["default_display_window_bottom"] == 4
    assert sps.vui["max_bytes_per_pic_denom"] == 2 and sps.vui["log2_max_mv_length_vertical"] == 15


def test_fields_that_do_not_end_with_the_sps_are_reported(tmp_path: Path) -> None:
    """Set 2 given the flag pair a reader would expect had it kept set 1's zero POC delta: FFmpeg reads another
    frame rate from these bytes; ours stops with a note instead of reporting one."""
    unit = every_branch_sps(extra_flag_pair=True)
    stream = tmp_path / "units.hevc"
    stream.write_bytes(annex_b(video_parameter_set(), unit))
    ffmpeg = ffmpeg_reading(stream)

    (sps,) = bitstream_read("hevc", annex_b(unit), b"").parameter_sets

    assert ffmpeg.get("vui_time_scale") != 60000 or ffmpeg["errors"]
    assert not sps.complete
    assert sps.notes == ["the fields read do not end where the SPS does: a field was misread or is damaged"]


def test_x265_multi_pass_reference_sets_are_read_as_ffmpeg_reads_them(tmp_path: Path) -> None:
    """x265 puts the reference sets its first pass found common into the SPS of its second pass. The x265 of this
    Debian writes a first set FFmpeg rejects; whatever it writes, our reader agrees with FFmpeg's on the number of
    sets and on whether they can be read, and says where it stopped."""
    for number in (1, 2):
        params = f"pass={number}:stats={tmp_path / 'stats.log'}:multi-pass-opt-rps=1:bframes=3"
        x265(tmp_path / f"pass{number}.hevc", "25", params, "-b:v", "200k")
    stream = tmp_path / "pass2.hevc"
    sps_unit = nal_units_of_type(stream.read_bytes(), 33)[0]
    ffmpeg = ffmpeg_reading(stream)

    (sps,) = bitstream_read("hevc", annex_b(sps_unit), b"").parameter_sets

    assert sps.short_term_ref_pic_sets == ffmpeg["num_short_term_ref_pic_sets"] > 1
    assert sps.complete is (ffmpeg["errors"] == 0)
    if not sps.complete:
        assert sps.notes[0].startswith("st_ref_pic_set(")


def test_vui_timing_of_hevc_encodes_becomes_a_compared_trait(tmp_path: Path) -> None:
    """x265 asked for no VUI timing writes an SPS whose fields do not end where it does (FFmpeg's reader stops at
    its rbsp_stop_one_bit too): there the trait is left out, not called "absent", so nothing is compared."""
    colour = "colorprim=bt709:transfer=bt709:colormatrix=bt709:range=full"
    with_timing = x265(tmp_path / "timing.mp4", "25", colour)
    without = x265(tmp_path / "no-timing.mp4", "25", f"{colour}:no-vui-timing-info=1")
    ffmpeg = ffmpeg_reading(without)

    timed, untimed = (analyse_file(path) for path in (with_timing, without))
    traits = video_traits(timed.video, timed.isobmff)
    untimed_traits = video_traits(untimed.video, untimed.isobmff)

    assert traits["vui_timing"] == "present" and traits["colour"] == "bt709/bt709/bt709, range pc"
    assert ffmpeg["errors"] and ffmpeg["vui_timing_info_present_flag"] == 0
    assert "vui_timing" not in untimed_traits and untimed_traits["colour"] == traits["colour"]
    assert untimed.video.first("video").bitstream.parameter_sets[0].notes == [
        "the fields read do not end where the SPS does: a field was misread or is damaged"
    ]


@pytest.mark.skipif(not APPLE_HEIC, reason=f"shared media corpus not found at {CORPUS}")
def test_apple_hardware_parameter_sets_of_the_corpus_are_read_through_the_vui() -> None:
    """The corpus holds no HEVC video; its iPhone HEIC photos carry the parameter sets of Apple's hardware HEVC
    encoder in their hvcC property, with scaling lists x265 does not write."""
    for path in APPLE_HEIC:
        data = path.read_bytes()
        at = data.find(b"hvcC")
        record = data[at + 4 : at - 4 + int.from_bytes(data[at - 4 : at], "big")]

        (sps,) = bitstream_read("hevc", record, b"").parameter_sets

        assert sps.complete and sps.notes == [], path.name
        assert sps.coding_tools["scaling_list"] and sps.vui["video_full_range"] is True, path.name
        assert "time_scale" not in sps.vui, path.name  # a still image: no timing


def test_truncated_and_scrambled_parameter_sets_never_raise(tmp_path: Path) -> None:
    plain = x265(tmp_path / "plain.hevc", "25", "colorprim=bt709")
    generator = random.Random(12)

    for unit in (every_branch_sps(), nal_units_of_type(plain.read_bytes(), 33)[0]):
        for length in range(1, len(unit)):
            (sps,) = bitstream_read("hevc", annex_b(unit[:length]), b"").parameter_sets
            assert not sps.complete and sps.notes[0].startswith("the SPS ends inside"), length
        for _ in range(300):
            scrambled = bytearray(unit)
            for _ in range(generator.randint(1, 6)):
                scrambled[generator.randrange(2, len(scrambled))] = generator.randrange(256)
            (sps,) = bitstream_read("hevc", annex_b(bytes(scrambled)), b"").parameter_sets
            assert sps.complete or sps.notes
    long_codes = bytes([0x42, 0x01, 0x01, 0x01, 0x60]) + bytes(200)

    (sps,) = bitstream_read("hevc", annex_b(long_codes), b"").parameter_sets

    assert not sps.complete and sps.notes
