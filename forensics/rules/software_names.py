"""Names of editing, conversion and generator software, matched case-insensitively in metadata strings."""

from __future__ import annotations

import re

# ExifTool tag names that record the program which wrote or processed the file.
SOFTWARE_TAGS = (
    "Software",
    "ProcessingSoftware",
    "CreatorTool",
    "HistorySoftwareAgent",
    "Encoder",
    "EncodedBy",
    "WriterName",
    "ReaderName",
    "ExifSoftware",
)

# (pattern, canonical name). Order matters: the first match names the program, so the more specific
# pattern ("Photoshop Lightroom") comes before the general one ("Photoshop").
EDITORS: tuple[tuple[str, str], ...] = (
    (r"lightroom", "Adobe Lightroom"),
    (r"camera raw", "Adobe Camera Raw"),
    (r"photoshop", "Adobe Photoshop"),
    (r"adobe bridge", "Adobe Bridge"),
    (r"premiere", "Adobe Premiere"),
    (r"after effects", "Adobe After Effects"),
    (r"media encoder", "Adobe Media Encoder"),
    (r"\bgimp\b", "GIMP"),
    (r"acd ?systems|acdsee", "ACDSee (ACD Systems)"),
    (r"quicktime", "Apple QuickTime"),
    (r"imovie", "Apple iMovie"),
    (r"final cut", "Apple Final Cut"),
    (r"noise ninja", "Noise Ninja"),
    (r"ofotonow", "OfotoNow"),
    (r"nikon transfer", "Nikon Transfer"),
    (r"capture nx|nikon capture", "Nikon Capture"),
    (r"olympus master|camedia master", "Olympus Master"),
    (r"idimager", "IDimager"),
    (r"frontier\d*|\bfdi v", "Fujifilm Frontier minilab software"),
    (r"digital central lab", "Kodak Digital Central lab software"),
    (r"finepix ?viewer", "Fujifilm FinePix Viewer"),
    (r"dcs photo desk", "Kodak DCS Photo Desk"),
    (r"picasa", "Google Picasa"),
    (r"paint ?shop", "Corel PaintShop Pro"),
    (r"paint\.net", "Paint.NET"),
    (r"pixelmator", "Pixelmator"),
    (r"affinity photo", "Affinity Photo"),
    (r"snapseed", "Snapseed"),
    (r"picsart", "PicsArt"),
    (r"facetune", "Facetune"),
    (r"meitu", "Meitu"),
    (r"faceapp", "FaceApp"),
    (r"\bcanva\b", "Canva"),
    (r"imagemagick", "ImageMagick"),
    (r"graphicsmagick", "GraphicsMagick"),
    (r"windows photo|photo gallery|microsoft office picture", "Microsoft photo software"),
    (r"digital photo professional", "Canon Digital Photo Professional"),
    (r"capture one", "Capture One"),
    (r"darktable", "darktable"),
    (r"rawtherapee", "RawTherapee"),
    (r"luminar", "Luminar"),
    (r"topaz", "Topaz"),
    (r"\blavf|\blavc|ffmpeg", "FFmpeg (libavformat/libavcodec)"),
    (r"handbrake", "HandBrake"),
    (r"davinci resolve", "DaVinci Resolve"),
    (r"mainconcept", "MainConcept"),
    (r"\bgpac\b|mp4box", "GPAC MP4Box"),
)

GENERATORS: tuple[tuple[str, str], ...] = (
    (r"firefly", "Adobe Firefly"),
    (r"midjourney", "Midjourney"),
    (r"dall[-· ]?e", "OpenAI DALL-E"),
    (r"chatgpt|gpt-4o|openai", "OpenAI"),
    (r"novelai", "NovelAI"),
    (r"stable diffusion|stablediffusion", "Stable Diffusion"),
    (r"comfyui", "ComfyUI"),
    (r"invokeai", "InvokeAI"),
    (r"fooocus", "Fooocus"),
    (r"\bimagen\b|\bgemini\b", "Google Imagen/Gemini"),
    (r"bing image creator|microsoft designer", "Microsoft Designer/Bing Image Creator"),
    (r"leonardo\.ai", "Leonardo.Ai"),
)

# Libraries and programs that announce themselves in a JPEG COM segment (JPEGsnoop's list of known
# comment signatures), beyond the editors above. "AppleMark" is written by Apple's image I/O on export.
COMMENT_WRITERS: tuple[tuple[str, str], ...] = (
    (r"^CREATOR: gd-jpeg", "GD graphics library"),
    (r"LEAD Technologies", "LEADTOOLS imaging library"),
    (r"JPEGmini", "JPEGmini"),
    (r"Intel\(R\) JPEG Library", "Intel JPEG Library"),
    (r"Handmade Software", "Image Alchemy (Handmade Software)"),
    (r"^AppleMark", "Apple image export (QuickTime/Preview)"),
    (r"jpeg-recompress|jpegoptim|mozjpeg", "a JPEG optimiser"),
    (r"Created with The GIMP|Created with GIMP", "GIMP"),
    (r"^File written by Adobe Photoshop", "Adobe Photoshop"),
)

_EDITOR_PATTERNS = tuple((re.compile(pattern, re.IGNORECASE), name) for pattern, name in EDITORS)
_GENERATOR_PATTERNS = tuple((re.compile(pattern, re.IGNORECASE), name) for pattern, name in GENERATORS)


_COMMENT_PATTERNS = tuple((re.compile(pattern, re.IGNORECASE), name) for pattern, name in COMMENT_WRITERS)


def comment_writer_named(text: str) -> str | None:
    """The program a JPEG comment names: a known comment signature first, else an editor's name."""
    stripped = text.strip()
    return next((name for pattern, name in _COMMENT_PATTERNS if pattern.search(stripped)), None) or editor_named(
        stripped
    )


def editor_named(text: str) -> str | None:
    """The editing/conversion program a metadata string names, if any."""
    return next((name for pattern, name in _EDITOR_PATTERNS if pattern.search(text)), None)


def generator_named(text: str) -> str | None:
    """The image/video generator a metadata string names, if any."""
    return next((name for pattern, name in _GENERATOR_PATTERNS if pattern.search(text)), None)
