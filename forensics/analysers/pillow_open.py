"""Opening a picture with Pillow without its decompression-bomb check, which reports through the warning filters.

Pillow warns of a picture between its MAX_IMAGE_PIXELS and twice it through `warnings`, whose filters are the whole
process's: turning that warning into an error, or silencing it, for one picture did so for every thread beside it
(the analysers of other files, a worker's other requests), and restoring the filters could undo another thread's
change. The callers bound the pixels themselves, from the size the header gives.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, UnidentifiedImageError


def image_opened_unchecked(source: Path | BinaryIO, pillow_format: str) -> ImageFile.ImageFile:
    """What `Image.open(source, formats=[pillow_format])` opens (the same plugin, header test and errors), without
    the decompression-bomb check. A path is opened here and owned by the image (closed once it is loaded, or with
    it), as Image.open does; a stream is read from its start."""
    if pillow_format not in Image.OPEN:
        Image.init()
    factory, accept = Image.OPEN[pillow_format]
    owned = isinstance(source, Path)
    stream = open(source, "rb") if owned else source  # noqa: SIM115 - the image owns it from here
    name = os.fspath(source) if owned else ""
    try:
        stream.seek(0)
        accepted = not accept or accept(stream.read(16))
        if accepted and not isinstance(accepted, str):  # a string is Pillow's "not this format, because..."
            stream.seek(0)
            try:
                image = factory(stream, name)
            except (SyntaxError, IndexError, TypeError, struct.error):  # what Image.open takes for "not this format"
                pass
            else:
                image._exclusive_fp = owned
                return image
        raise UnidentifiedImageError(f"cannot identify image file {name!r}" if owned else "cannot identify image data")
    except BaseException:
        if owned:
            stream.close()
        raise
