"""Making a client-supplied file name safe to keep as data: nothing invisible, nothing unbounded."""

import unicodedata

MAX_FILENAME_LENGTH = 1024


def filename_as_data(name: str) -> str:
    """Return the name with control and format characters (NUL, CR/LF, bidi overrides) written as escapes.

    The result is only ever stored and displayed (escaped by the templates), never used to build a path.
    """
    visible = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in {"Cc", "Cf", "Cs"} else ch for ch in name)
    if not visible.strip():
        return "(no name)"
    if len(visible) > MAX_FILENAME_LENGTH:
        return visible[: MAX_FILENAME_LENGTH - 1] + "…"
    return visible
