"""Generator parameters hidden in pixel least-significant bits ("stealth PNG info" of the Stable Diffusion web UI)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .common import clip_text, decode_text

STEALTH_PARSER_VERSION = "png-stealth/1"

MAX_PIXELS = 40_000_000  # larger images are not decoded for this check
MAX_PAYLOAD_BITS = 8 * (4 << 20)
MAX_INFLATED = 4 << 20
_SIGNATURE_BITS = len("stealth_pnginfo") * 8
_LENGTH_BITS = 32
_SIGNATURES = {
    "alpha": {b"stealth_pnginfo": False, b"stealth_pngcomp": True},
    "rgb": {b"stealth_rgbinfo": False, b"stealth_rgbcomp": True},
}


@dataclass
class StealthParameters:
    """Text found in the LSBs; `channel` is "alpha" or "rgb", `signature` the marker that opened it."""

    channel: str
    signature: str
    compressed: bool
    text: str


def stealth_parameters_read(path: str | Path) -> StealthParameters | None:
    """Decode stealth parameters the way the web UI writes them (column by column); None if absent."""
    with Image.open(path) as image:
        width, height = image.size
        if width * height > MAX_PIXELS or width * height * 3 < _SIGNATURE_BITS + _LENGTH_BITS:
            return None
        # Transposing turns the writer's column-major pixel order into tobytes()' row order.
        if image.mode == "RGBA":
            alpha = image.getchannel("A").transpose(Image.Transpose.TRANSPOSE).tobytes()
            found = _decode(alpha, "alpha")
            if found is not None:
                return found
        if image.mode in ("RGB", "RGBA"):
            rgb = image.convert("RGB").transpose(Image.Transpose.TRANSPOSE).tobytes()
            return _decode(rgb, "rgb")
    return None


def _decode(samples: bytes, channel: str) -> StealthParameters | None:
    signature = _bits_to_bytes(samples[:_SIGNATURE_BITS])
    compressed = _SIGNATURES[channel].get(signature)
    if compressed is None:
        return None
    length_bits = samples[_SIGNATURE_BITS : _SIGNATURE_BITS + _LENGTH_BITS]
    payload_bits = int("".join(str(sample & 1) for sample in length_bits), 2)
    if payload_bits > MAX_PAYLOAD_BITS:
        return None
    start = _SIGNATURE_BITS + _LENGTH_BITS
    payload = _bits_to_bytes(samples[start : start + payload_bits])
    if compressed:
        inflater = zlib.decompressobj(wbits=31)  # gzip framing
        try:
            payload = inflater.decompress(payload, MAX_INFLATED)
        except zlib.error:
            return None
    return StealthParameters(
        channel=channel,
        signature=signature.decode("ascii"),
        compressed=compressed,
        text=clip_text(decode_text(payload)),
    )


def _bits_to_bytes(samples: bytes) -> bytes:
    bits = "".join(str(sample & 1) for sample in samples)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits) - len(bits) % 8, 8))
