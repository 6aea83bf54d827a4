"""A file's size in words, one way everywhere it is shown (evidence page, custody timelines, PDF reports)."""

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


def size_words(size: int) -> str:
    """The readable size and the exact count, as "8.1 KB (8,256 bytes)"; under 1 KB the count alone, "139 bytes"."""
    readable = filesizeformat(size)
    if size < 1024:
        return readable
    return _("%(size)s (%(bytes)s bytes)") % {"size": readable, "bytes": f"{size:,}"}
