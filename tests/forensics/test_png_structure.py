"""Our PNG chunk walk and the stealth-parameter decoder, on PNGs generated with Pillow."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from forensics.analysers.png_stealth import stealth_parameters_read
from forensics.analysers.png_structure import MAX_INFLATED_TEXT, png_structure_read

from .conftest import picture


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_stable_diffusion_parameters_are_read_from_the_text_chunk(sd_png: Path) -> None:
    result = png_structure_read(sd_png)

    assert result.complete
    assert (result.width, result.height) == (64, 64)
    assert result.text("parameters").startswith("a red fox in snow\nNegative prompt: blurry")


def test_compressed_text_is_inflated_but_capped(tmp_path: Path) -> None:
    # given a zTXt chunk that inflates far beyond the cap (a zip bomb in miniature)
    path = tmp_path / "bomb.png"
    picture(8, 8).save(path)
    data = path.read_bytes()
    bomb = _chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * (MAX_INFLATED_TEXT * 2)))
    path.write_bytes(data[:33] + bomb + data[33:])

    # when the chunks are walked
    result = png_structure_read(path)

    # then the text is cut at the cap and marked as truncated
    comment = result.texts[0]
    assert comment.keyword == "Comment"
    assert comment.truncated
    assert len(comment.text) < MAX_INFLATED_TEXT


def test_bytes_after_iend_and_text_after_idat_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "late.png"
    picture(8, 8).save(path)
    data = path.read_bytes()
    iend = data.rindex(b"IEND") - 4
    late_text = _chunk(b"tEXt", b"Software\x00postprocessor")
    path.write_bytes(data[:iend] + late_text + data[iend:] + b"PAYLOAD")

    result = png_structure_read(path)

    assert result.chunks_after_idat == ["tEXt"]
    assert result.texts[0].after_idat
    assert result.bytes_after_iend == 7
    assert result.iend_end == path.stat().st_size - 7


def test_corrupted_chunk_fails_its_crc(sd_png: Path) -> None:
    data = bytearray(sd_png.read_bytes())
    position = data.index(b"a red fox")
    data[position] ^= 0x20
    sd_png.write_bytes(bytes(data))

    result = png_structure_read(sd_png)

    assert result.crc_errors == [position - len(b"tEXtparameters\x00") - 4]


def test_truncated_png_stops_with_an_issue(sd_png: Path) -> None:
    sd_png.write_bytes(sd_png.read_bytes()[:-20])

    result = png_structure_read(sd_png)

    assert not result.complete
    assert result.issues[0].code == "truncated_chunk"


def test_stealth_parameters_hidden_in_alpha_bits_are_decoded(tmp_path: Path) -> None:
    # given an RGBA image whose alpha LSBs carry the web UI's stealth format, column by column
    text = "Steps: 20, Sampler: Euler, Seed: 7"
    payload = text.encode()
    bits = "".join(f"{byte:08b}" for byte in b"stealth_pnginfo") + f"{len(payload) * 8:032b}"
    bits += "".join(f"{byte:08b}" for byte in payload)
    width, height = 32, 32
    image = Image.new("RGBA", (width, height), (10, 20, 30, 254))
    for index, bit in enumerate(bits):
        x, y = divmod(index, height)
        image.putpixel((x, y), (10, 20, 30, 254 | int(bit)))
    path = tmp_path / "stealth.png"
    image.save(path)

    # when the pixels are checked
    found = stealth_parameters_read(path)

    # then the hidden text comes back
    assert found.channel == "alpha"
    assert found.signature == "stealth_pnginfo"
    assert found.text == text


def test_ordinary_png_has_no_stealth_parameters(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    picture(32, 32).convert("RGBA").save(path, pnginfo=PngInfo())

    assert stealth_parameters_read(path) is None
