"""Filters for the PDF templates: xhtml2pdf wraps text only at spaces, so long unbroken values need break points."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_WHITESPACE = re.compile(r"(\s+)")


@register.filter
def wrapped(value, width: int = 60) -> SafeString:
    """The value, escaped, with a line break every `width` characters inside runs longer than that.

    Hashes, base64 and URLs would otherwise run past the edge of a table cell and off the page.
    """
    width = int(width)
    pieces = []
    for run in _WHITESPACE.split(str(value)):
        if len(run) <= width:
            pieces.append(escape(run))
        else:
            pieces.append("<br/>".join(escape(run[start : start + width]) for start in range(0, len(run), width)))
    return mark_safe("".join(pieces))
