"""A select's options written as HTML in Python: a page's filter selects list a few dozen choices, each of which the
template wrote through three variable lookups, a comparison and two escapes."""

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe


def options_html(choices: Iterable[tuple[str, str]], selected: str) -> SafeString:
    """`<option>`s for (value, label) `choices`, side by side, the one whose value is `selected` marked selected;
    values and labels escaped."""
    return mark_safe(
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>{escape(str(label))}</option>'
            for value, label in choices
        )
    )
