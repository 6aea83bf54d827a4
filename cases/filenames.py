"""Making client-supplied text (a file name, a declared type) safe to keep as data: nothing invisible or unbounded."""

import unicodedata

MAX_FILENAME_LENGTH = 1024


def text_as_data(text: str, limit: int) -> str:
    """Return the text with control and format characters (NUL, CR/LF, bidi overrides) written as escapes.

    The result is only ever stored and displayed (escaped by the templates), never used to build a path.
    """
    visible = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in {"Cc", "Cf", "Cs"} else ch for ch in text)
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"


def filename_as_data(name: str) -> str:
    visible = text_as_data(name, MAX_FILENAME_LENGTH)
    return visible if visible.strip() else "(no name)"
