"""Our own reading of coded video and audio bytes: H.264 and H.265 NAL units (parameter sets with profile, level,
size and VUI; SEI user-data-unregistered messages such as x264's and x265's version and settings strings), the
user data of MPEG-4 Part 2 streams, and the encoder string FFmpeg's AAC encoder writes into its first frame.

The input is a stream's codec configuration (avcC/hvcC, as FFmpeg reports it) and the first packet's bytes; every
reader is bounded and returns what it could read from damaged input instead of raising."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

MAX_NAL_UNITS = 256
MAX_SEI_TEXT = 4096
X264_UUID = "dc45e9bd-e6d9-48b7-962c-d820d923eeef"
X265_UUID = "2ca2de09-b517-47db-bb55-a4fe7fd7e8a2"
# Encoder names as the encoders spell them at the start of their user data, and the family they belong to.
_ENCODER_TEXT = (
    (re.compile(rb"x264 - core (\d+)[^\x00]*"), "x264"),
    (re.compile(rb"x265 \(build (\d+)\)[^\x00]*"), "x265"),
    (re.compile(rb"Lavc(\d+\.\d+\.\d+)"), "FFmpeg libavcodec"),
    (re.compile(rb"XviD(\d+)"), "Xvid"),
    (re.compile(rb"DivX(\d+)[^\x00]{0,40}"), "DivX"),
)
# The encoders above that are software (the bitstream may also carry an unknown UUID's "unregistered SEI").
SOFTWARE_ENCODERS = frozenset(name for _, name in _ENCODER_TEXT)
_MPEG4_USER_DATA = b"\x00\x00\x01\xb2"


@dataclass
class ParameterSet:
    """The fields of an H.264 or H.265 sequence parameter set that say how, and by what kind of encoder, a stream
    was coded."""

    codec: str
    profile_idc: int | None = None
    level_idc: int | None = None
    constraint_flags: int | None = None
    tier: str | None = None
    chroma_format_idc: int | None = None
    bit_depth: int | None = None
    width: int | None = None
    height: int | None = None
    max_ref_frames: int | None = None
    pic_order_cnt_type: int | None = None
    frame_mbs_only: bool | None = None
    vui: dict[str, int | bool] = field(default_factory=dict)
    entropy_coding: str | None = None  # H.264 PPS: CABAC or CAVLC
    short_term_ref_pic_sets: int | None = None  # H.265: num_short_term_ref_pic_sets
    long_term_ref_pics: int | None = None  # H.265: num_long_term_ref_pics_sps
    coding_tools: dict[str, int | bool | tuple[int, int]] = field(default_factory=dict)  # H.265 block sizes, flags
    complete: bool = False  # the parse reached the end of the fields it reads (for H.265, of the VUI)
    notes: list[str] = field(default_factory=list)  # where and why a parse stopped early


@dataclass
class EncoderSignature:
    """A software encoder's own words in the bitstream: where they were found and what they say."""

    encoder: str  # x264, x265, FFmpeg libavcodec, Xvid, DivX, or "unregistered SEI" for an unknown UUID
    version: str | None
    text: str
    found_in: str  # "video SEI", "video user data", "audio fill element", "codec configuration SEI"
    uuid: str | None = None

    @property
    def settings(self) -> str | None:
        """x264/x265 print their options after "options: "."""
        _, _, options = self.text.partition("options: ")
        return options or None


@dataclass
class BitstreamFacts:
    parameter_sets: list[ParameterSet] = field(default_factory=list)
    signatures: list[EncoderSignature] = field(default_factory=list)
    nal_types: list[int] = field(default_factory=list)  # NAL unit types of the first packet, in order


def bitstream_read(codec: str, extradata: bytes, first_packet: bytes, *, audio: bool = False) -> BitstreamFacts:
    """Facts from one stream's configuration bytes and first packet. Never raises on malformed input."""
    facts = BitstreamFacts()
    try:
        if audio:
            _signatures_in_text(facts, first_packet[:65536], "audio fill element")
        elif codec in ("h264", "hevc"):
            _read_h26x(facts, codec, extradata, first_packet)
        elif codec == "mpeg4":
            for block in (extradata, first_packet[:65536]):
                for start in _find_all(block, _MPEG4_USER_DATA):
                    end = block.find(b"\x00\x00\x01", start + 4)
                    _signatures_in_text(facts, block[start + 4 : end if end > 0 else None], "video user data")
    except (IndexError, ValueError):
        pass  # damaged input: keep what was read
    return facts


def _find_all(data: bytes, needle: bytes) -> list[int]:
    found, position = [], data.find(needle)
    while position >= 0 and len(found) < MAX_NAL_UNITS:
        found.append(position)
        position = data.find(needle, position + 1)
    return found


def _signatures_in_text(facts: BitstreamFacts, data: bytes, found_in: str, identifier: str | None = None) -> bool:
    for pattern, encoder in _ENCODER_TEXT:
        if match := pattern.search(data):
            text = match.group(0)[:MAX_SEI_TEXT].decode("latin-1")
            facts.signatures.append(
                EncoderSignature(encoder, match.group(1).decode("latin-1"), text, found_in, identifier)
            )
            return True
    return False


def _read_h26x(facts: BitstreamFacts, codec: str, extradata: bytes, first_packet: bytes) -> None:
    hevc = codec == "hevc"
    configured = _configuration_nal_units(extradata, hevc)
    in_packet = _packet_nal_units(first_packet)
    facts.nal_types = [_nal_type(unit, hevc) for unit in in_packet[:64]]
    for unit, source in [(u, "codec configuration") for u in configured] + [(u, "video") for u in in_packet]:
        kind = _nal_type(unit, hevc)
        rbsp = _rbsp(unit[2 if hevc else 1 :])
        if (not hevc and kind == 7) or (hevc and kind == 33):
            facts.parameter_sets.append(_hevc_sps(rbsp) if hevc else _avc_sps(rbsp))
        elif not hevc and kind == 8 and facts.parameter_sets:
            _avc_pps(rbsp, facts.parameter_sets[-1])
        elif (not hevc and kind == 6) or (hevc and kind in (39, 40)):
            _read_sei(facts, rbsp, f"{source} SEI")


def _nal_type(unit: bytes, hevc: bool) -> int:
    if not unit:
        return -1
    return (unit[0] >> 1) & 0x3F if hevc else unit[0] & 0x1F


def _configuration_nal_units(extradata: bytes, hevc: bool) -> list[bytes]:
    """NAL units of an avcC/hvcC record (or Annex B extradata, as raw H.264 streams carry it)."""
    if extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return _annex_b_units(extradata)
    units: list[bytes] = []
    if not hevc and len(extradata) >= 7 and extradata[0] == 1:
        position = 5
        for count_mask in (0x1F, 0xFF):
            if position >= len(extradata):
                break  # a record cut short: keep the units read so far
            count = extradata[position] & count_mask
            position += 1
            for _ in range(count):
                length = int.from_bytes(extradata[position : position + 2], "big")
                units.append(extradata[position + 2 : position + 2 + length])
                position += 2 + length
        return units
    if hevc and len(extradata) >= 23:
        position = 23
        for _ in range(extradata[22]):
            if position + 3 > len(extradata):
                break
            position += 1
            count = int.from_bytes(extradata[position : position + 2], "big")
            position += 2
            for _ in range(count):
                length = int.from_bytes(extradata[position : position + 2], "big")
                units.append(extradata[position + 2 : position + 2 + length])
                position += 2 + length
                if len(units) >= MAX_NAL_UNITS:
                    return units
    return units


def _packet_nal_units(packet: bytes) -> list[bytes]:
    """NAL units of a packet: 4-byte length prefixes (MP4, MOV, Matroska) or Annex B start codes (AVI, raw)."""
    if packet.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return _annex_b_units(packet)
    units, position = [], 0
    while position + 4 <= len(packet) and len(units) < MAX_NAL_UNITS:
        length = int.from_bytes(packet[position : position + 4], "big")
        if length == 0:
            break
        units.append(packet[position + 4 : position + 4 + length])  # the last may be cut by the read cap
        position += 4 + length
    return units


def _annex_b_units(data: bytes) -> list[bytes]:
    starts = [position + 3 for position in _find_all(data, b"\x00\x00\x01")]
    return [data[start : (starts[i + 1] - 3) if i + 1 < len(starts) else None] for i, start in enumerate(starts)]


def _rbsp(payload: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


def _read_sei(facts: BitstreamFacts, rbsp: bytes, found_in: str) -> None:
    position = 0
    while position + 2 <= len(rbsp) and rbsp[position] != 0x80:
        payload_type = payload_size = 0
        while rbsp[position] == 0xFF:
            payload_type += 255
            position += 1
        payload_type += rbsp[position]
        position += 1
        while rbsp[position] == 0xFF:
            payload_size += 255
            position += 1
        payload_size += rbsp[position]
        position += 1
        payload = rbsp[position : position + payload_size]
        if payload_type == 5 and len(payload) >= 16:  # user data unregistered: a UUID, then the sender's bytes
            identifier = str(uuid.UUID(bytes=payload[:16]))
            if not _signatures_in_text(facts, payload[16:], found_in, identifier):
                text = payload[16:MAX_SEI_TEXT].decode("latin-1")
                printable = "".join(ch for ch in text if ch.isprintable())
                if len(printable) >= 8:
                    facts.signatures.append(EncoderSignature("unregistered SEI", None, printable, found_in, identifier))
        position += payload_size


class _Bits:
    """An RBSP read bit by bit, with Exp-Golomb codes; reading past the end raises IndexError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def u(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.position >> 3]
            value = (value << 1) | ((byte >> (7 - (self.position & 7))) & 1)
            self.position += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value % 2 else -(value // 2)


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def _avc_sps(rbsp: bytes) -> ParameterSet:
    sps = ParameterSet("h264")
    bits = _Bits(rbsp)
    try:
        sps.profile_idc, sps.constraint_flags, sps.level_idc = bits.u(8), bits.u(8), bits.u(8)
        bits.ue()
        sps.chroma_format_idc, sps.bit_depth = 1, 8
        if sps.profile_idc in _HIGH_PROFILES:
            sps.chroma_format_idc = bits.ue()
            if sps.chroma_format_idc == 3:
                bits.u(1)
            sps.bit_depth = bits.ue() + 8
            bits.ue()
            bits.u(1)
            if bits.u(1):  # scaling matrices
                for index in range(8 if sps.chroma_format_idc != 3 else 12):
                    if bits.u(1):
                        _skip_scaling_list(bits, 16 if index < 6 else 64)
        bits.ue()  # log2_max_frame_num
        sps.pic_order_cnt_type = bits.ue()
        if sps.pic_order_cnt_type == 0:
            bits.ue()
        elif sps.pic_order_cnt_type == 1:
            bits.u(1)
            bits.se()
            bits.se()
            for _ in range(min(bits.ue(), 255)):
                bits.se()
        sps.max_ref_frames = bits.ue()
        bits.u(1)
        width_mbs, height_units = bits.ue() + 1, bits.ue() + 1
        sps.frame_mbs_only = bool(bits.u(1))
        if not sps.frame_mbs_only:
            bits.u(1)
        bits.u(1)  # direct_8x8_inference
        crop = [bits.ue() for _ in range(4)] if bits.u(1) else [0, 0, 0, 0]
        crop_x = 1 if sps.chroma_format_idc in (0, 3) else 2
        crop_y = (2 if sps.chroma_format_idc == 1 else 1) * (2 - int(sps.frame_mbs_only))
        sps.width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
        sps.height = height_units * 16 * (2 - int(sps.frame_mbs_only)) - crop_y * (crop[2] + crop[3])
        if bits.u(1):
            sps.vui = _avc_vui(bits)
        sps.complete = True
    except IndexError:
        sps.notes.append("the SPS ends before the end of its VUI")
    except ValueError as error:
        sps.notes.append(str(error))
    return sps


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last


def _vui_picture_fields(bits: _Bits, vui: dict[str, int | bool]) -> None:
    """The start of vui_parameters(), the same in H.264 (E.1.1) and H.265 (E.2.1): aspect ratio, overscan, video
    signal type with its colour description, chroma sample location."""
    if bits.u(1):
        vui["aspect_ratio_idc"] = bits.u(8)
        if vui["aspect_ratio_idc"] == 255:
            vui["sar_width"], vui["sar_height"] = bits.u(16), bits.u(16)
    if bits.u(1):
        vui["overscan_appropriate"] = bool(bits.u(1))
    if bits.u(1):
        vui["video_format"] = bits.u(3)
        vui["video_full_range"] = bool(bits.u(1))
        if bits.u(1):
            vui["colour_primaries"] = bits.u(8)
            vui["transfer_characteristics"] = bits.u(8)
            vui["matrix_coefficients"] = bits.u(8)
    if bits.u(1):
        vui["chroma_sample_loc_top"], vui["chroma_sample_loc_bottom"] = bits.ue(), bits.ue()


def _avc_vui(bits: _Bits) -> dict[str, int | bool]:
    vui: dict[str, int | bool] = {}
    _vui_picture_fields(bits, vui)
    if bits.u(1):
        vui["num_units_in_tick"], vui["time_scale"] = bits.u(32), bits.u(32)
        vui["fixed_frame_rate"] = bool(bits.u(1))
    hrd = False
    for key in ("nal_hrd", "vcl_hrd"):
        if bits.u(1):
            vui[key] = hrd = True
            _skip_hrd(bits)
    if hrd:
        bits.u(1)
    vui["pic_struct_present"] = bool(bits.u(1))
    if bits.u(1):
        bits.u(1)
        for _ in range(4):
            bits.ue()
        vui["max_num_reorder_frames"], vui["max_dec_frame_buffering"] = bits.ue(), bits.ue()
    return vui


def _skip_hrd(bits: _Bits) -> None:
    count = bits.ue() + 1
    bits.u(8)
    for _ in range(min(count, 32)):
        bits.ue()
        bits.ue()
        bits.u(1)
    bits.u(20)


def _avc_pps(rbsp: bytes, sps: ParameterSet) -> None:
    bits = _Bits(rbsp)
    try:
        bits.ue()
        bits.ue()
        sps.entropy_coding = "CABAC" if bits.u(1) else "CAVLC"
    except (IndexError, ValueError):
        pass


def _hevc_sps(rbsp: bytes) -> ParameterSet:
    """ITU-T H.265 7.3.2.2.1 up to the end of vui_parameters() (E.2.1); the range extensions after it are not read.
    A field outside the range the standard allows, or the end of the bytes, stops the reading with a note naming
    the part of the SPS it stopped in."""
    sps = ParameterSet("hevc")
    bits = _Bits(rbsp)
    part = "profile_tier_level"
    try:
        bits.u(4)  # sps_video_parameter_set_id
        sub_layers = bits.u(3)
        if sub_layers > 6:
            raise ValueError(f"sps_max_sub_layers_minus1 {sub_layers} above 6")
        bits.u(1)
        _hevc_profile_tier_level(bits, sps, sub_layers)
        part = "picture format"
        bits.ue()  # sps_seq_parameter_set_id
        sps.chroma_format_idc = bits.ue()
        if sps.chroma_format_idc == 3:
            bits.u(1)  # separate_colour_plane_flag
        width, height = bits.ue(), bits.ue()
        if bits.u(1):  # conformance window, in chroma samples
            sub_x = 2 if sps.chroma_format_idc in (1, 2) else 1
            sub_y = 2 if sps.chroma_format_idc == 1 else 1
            left, right, top, bottom = (bits.ue() for _ in range(4))
            width -= sub_x * (left + right)
            height -= sub_y * (top + bottom)
        sps.width, sps.height = width, height
        sps.bit_depth = bits.ue() + 8
        sps.coding_tools["bit_depth_chroma"] = bits.ue() + 8
        log2_max_poc_lsb = _ue_at_most(bits, 12, "log2_max_pic_order_cnt_lsb_minus4") + 4
        part = "sub_layer_ordering_info"
        ordering_for_each_layer = bits.u(1)
        for _ in range(0 if ordering_for_each_layer else sub_layers, sub_layers + 1):
            sps.coding_tools["max_dec_pic_buffering"] = _ue_at_most(bits, 15, "sps_max_dec_pic_buffering_minus1") + 1
            sps.coding_tools["max_num_reorder_pics"] = bits.ue()
            bits.ue()  # sps_max_latency_increase_plus1
        part = "block sizes"
        min_coding_block = bits.ue() + 3
        sps.coding_tools["log2_coding_block_sizes"] = (min_coding_block, min_coding_block + bits.ue())
        min_transform_block = bits.ue() + 2
        sps.coding_tools["log2_transform_block_sizes"] = (min_transform_block, min_transform_block + bits.ue())
        sps.coding_tools["max_transform_hierarchy_depth_inter"] = bits.ue()
        sps.coding_tools["max_transform_hierarchy_depth_intra"] = bits.ue()
        part = "scaling_list_data"
        sps.coding_tools["scaling_list"] = bool(bits.u(1))
        if sps.coding_tools["scaling_list"] and bits.u(1):
            _skip_hevc_scaling_list_data(bits)
        part = "amp, sao and pcm flags"
        sps.coding_tools["amp"] = bool(bits.u(1))
        sps.coding_tools["sample_adaptive_offset"] = bool(bits.u(1))
        sps.coding_tools["pcm"] = bool(bits.u(1))
        if sps.coding_tools["pcm"]:
            bits.u(8)  # PCM sample bit depths
            bits.ue()
            bits.ue()
            bits.u(1)
        part = "st_ref_pic_set"
        sps.short_term_ref_pic_sets = _ue_at_most(bits, 64, "num_short_term_ref_pic_sets")
        sets: list[tuple[list[int], list[int]]] = []
        for index in range(sps.short_term_ref_pic_sets):
            part = f"st_ref_pic_set({index})"
            sets.append(_hevc_st_ref_pic_set(bits, sets))
        part = "long-term reference pictures"
        sps.long_term_ref_pics = 0
        if bits.u(1):
            sps.long_term_ref_pics = _ue_at_most(bits, 32, "num_long_term_ref_pics_sps")
            for _ in range(sps.long_term_ref_pics):
                bits.u(log2_max_poc_lsb + 1)  # lt_ref_pic_poc_lsb_sps and used_by_curr_pic_lt_sps_flag
        sps.coding_tools["temporal_mvp"] = bool(bits.u(1))
        sps.coding_tools["strong_intra_smoothing"] = bool(bits.u(1))
        part = "vui_parameters"
        if bits.u(1):
            _hevc_vui(bits, sps.vui, sub_layers)
        part = "the end of the SPS"
        sps.complete = bool(bits.u(1)) or _trailing_bits_follow(bits)  # extensions present, or the SPS ends here
        if not sps.complete:
            sps.notes.append("the fields read do not end where the SPS does: a field was misread or is damaged")
    except IndexError:
        sps.notes.append(f"the SPS ends inside {part}")
    except ValueError as error:
        sps.notes.append(f"{part}: {error}")
    return sps


def _trailing_bits_follow(bits: _Bits) -> bool:
    """rbsp_trailing_bits(): a one bit, zero bits to the byte boundary, then only cabac_zero_words (zero bytes)."""
    if bits.u(1) != 1 or bits.u(-bits.position % 8) != 0:
        return False
    return not any(bits.data[bits.position >> 3 :])


def _ue_at_most(bits: _Bits, limit: int, name: str) -> int:
    value = bits.ue()
    if value > limit:
        raise ValueError(f"{name} {value} above the {limit} the standard allows")
    return value


def _hevc_profile_tier_level(bits: _Bits, sps: ParameterSet, sub_layers: int) -> None:
    bits.u(2)  # general_profile_space
    sps.tier = "High" if bits.u(1) else "Main"
    sps.profile_idc = bits.u(5)
    bits.u(32)  # compatibility flags
    sps.constraint_flags = bits.u(48) >> 40  # progressive, interlaced, non-packed, frame-only and 4 more
    sps.level_idc = bits.u(8)
    present = [(bits.u(1), bits.u(1)) for _ in range(sub_layers)]
    if sub_layers:
        bits.u(2 * (8 - sub_layers))
    for profile_present, level_present in present:
        bits.u(88 if profile_present else 0)
        bits.u(8 if level_present else 0)


def _skip_hevc_scaling_list_data(bits: _Bits) -> None:
    for size_id in range(4):
        for _ in range(0, 6, 3 if size_id == 3 else 1):
            if not bits.u(1):  # scaling_list_pred_mode_flag: copied from another list
                bits.ue()
                continue
            if size_id > 1:
                bits.se()  # scaling_list_dc_coef_minus8
            for _ in range(min(64, 1 << (4 + (size_id << 1)))):
                bits.se()


def _hevc_st_ref_pic_set(bits: _Bits, previous: list[tuple[list[int], list[int]]]) -> tuple[list[int], list[int]]:
    """One st_ref_pic_set() of the SPS (7.3.7) as its negative and positive POC deltas, which a later set predicted
    from it needs (7.4.8)."""
    if previous and bits.u(1):  # inter_ref_pic_set_prediction_flag: built from the set before it
        reference_negative, reference_positive = previous[-1]
        delta_rps = (1 - 2 * bits.u(1)) * (bits.ue() + 1)
        use_delta = []
        for _ in range(len(reference_negative) + len(reference_positive) + 1):
            used = bits.u(1)
            use_delta.append(bool(used or bits.u(1)))
        count = len(reference_negative)
        candidates = [(delta + delta_rps, use_delta[j]) for j, delta in enumerate(reference_negative)]
        candidates += [(delta + delta_rps, use_delta[count + j]) for j, delta in enumerate(reference_positive)]
        candidates.append((delta_rps, use_delta[-1]))
        negative = sorted((poc for poc, use in candidates if use and poc < 0), reverse=True)
        positive = sorted(poc for poc, use in candidates if use and poc > 0)
    else:
        negative_count, positive_count = bits.ue(), bits.ue()
        if negative_count + positive_count > 16:
            raise ValueError(f"{negative_count} + {positive_count} reference pictures, above 16")
        negative, positive, poc = [], [], 0
        for _ in range(negative_count):
            poc -= bits.ue() + 1
            negative.append(poc)
            bits.u(1)
        poc = 0
        for _ in range(positive_count):
            poc += bits.ue() + 1
            positive.append(poc)
            bits.u(1)
    if len(negative) + len(positive) > 16:
        raise ValueError(f"a predicted set of {len(negative) + len(positive)} reference pictures, above 16")
    return negative, positive


def _hevc_vui(bits: _Bits, vui: dict[str, int | bool], sub_layers: int) -> None:
    """vui_parameters() of E.2.1, with the same keys as the H.264 VUI where the field is the same."""
    _vui_picture_fields(bits, vui)
    vui["neutral_chroma"] = bool(bits.u(1))
    vui["field_seq"] = bool(bits.u(1))
    vui["frame_field_info_present"] = bool(bits.u(1))
    if bits.u(1):
        for side in ("left", "right", "top", "bottom"):
            vui[f"default_display_window_{side}"] = bits.ue()
    if bits.u(1):
        vui["num_units_in_tick"], vui["time_scale"] = bits.u(32), bits.u(32)
        vui["poc_proportional_to_timing"] = bool(bits.u(1))
        if vui["poc_proportional_to_timing"]:
            vui["num_ticks_poc_diff_one"] = bits.ue() + 1
        if bits.u(1):
            _skip_hevc_hrd(bits, vui, sub_layers)
    if bits.u(1):  # bitstream_restriction_flag
        bits.u(3)
        vui["min_spatial_segmentation_idc"] = bits.ue()
        vui["max_bytes_per_pic_denom"] = bits.ue()
        vui["max_bits_per_min_cu_denom"] = bits.ue()
        vui["log2_max_mv_length_horizontal"] = bits.ue()
        vui["log2_max_mv_length_vertical"] = bits.ue()


def _skip_hevc_hrd(bits: _Bits, vui: dict[str, int | bool], sub_layers: int) -> None:
    """hrd_parameters(1, sps_max_sub_layers_minus1) of E.2.2, read for its presence flags and skipped."""
    nal, vcl = bool(bits.u(1)), bool(bits.u(1))
    vui["nal_hrd"], vui["vcl_hrd"] = nal, vcl
    sub_picture = False
    if nal or vcl:
        sub_picture = bool(bits.u(1))
        if sub_picture:
            bits.u(19)  # tick divisor, DU removal delay length, in-pic-timing flag, DU output delay length
        bits.u(8)  # bit_rate_scale, cpb_size_scale
        if sub_picture:
            bits.u(4)
        bits.u(15)  # three delay lengths
    for _ in range(sub_layers + 1):
        fixed_within_sequence = bits.u(1) or bits.u(1)  # fixed_pic_rate_general_flag implies the second flag
        low_delay = False
        if fixed_within_sequence:
            bits.ue()  # elemental_duration_in_tc_minus1
        else:
            low_delay = bool(bits.u(1))
        cpb_count = _ue_at_most(bits, 31, "cpb_cnt_minus1") + 1 if not low_delay else 1
        for _ in range(int(nal) + int(vcl)):
            for _ in range(cpb_count):
                bits.ue()
                bits.ue()
                if sub_picture:
                    bits.ue()
                    bits.ue()
                bits.u(1)
