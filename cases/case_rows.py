"""How cases read as rows of the case list: each row's link, reference, title, status label, item count with its
assessment badges, "created … by …" line and id, written as the table's HTML in Python once for the page's rows.
Written by the template, the 25 rows took some 250 variable lookups and escapes, and before that per-row tags (a URL
reversal, a date format, a status lookup, an included template, translated sentences): most of the page's
rendering."""

from collections.abc import Iterable
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from .evidence_rows import link_parts
from .models import Case, CaseStatus

# The counts of forensics.assessment.FLAGS shown as badges, in this order: (count annotation, tone, message).
BADGES = (
    ("ai_declared", "alert", ngettext_lazy("%(n)s AI-declared", "%(n)s AI-declared", "n")),
    ("signature_broken", "alert", ngettext_lazy("%(n)s signature broken", "%(n)s signatures broken", "n")),
    ("edited", "caution", ngettext_lazy("%(n)s edited", "%(n)s edited", "n")),
    ("metadata_removed", "caution", ngettext_lazy("%(n)s metadata removed", "%(n)s metadata removed", "n")),
)


def case_rows_html(cases: Iterable[Case]) -> SafeString:
    """The case list's table rows (each `<tr>` on its lines, as the list's table places them) for `cases`, with
    `created_by_username`, `item_count` and the BADGES' counts annotated, in the active language and time zone.
    Text that came from a person (reference, title, username, an unknown status) is escaped; translations are
    written as they are, as {% translate %} writes them."""
    link_start, link_end = link_parts("cases:detail")
    status_labels = {value: escape(str(label)) for value, label in CaseStatus.choices}
    created = _("%(created_at)s by %(username)s")
    # Each (count, number) translated once a page: a page repeats few, and each translation walks the catalogues.
    # The number shows as the template showed it, USE_THOUSAND_SEPARATOR being off.
    badge_texts: dict[tuple[str, int], str] = {}

    def badge(count: str, tone: str, message, n: int) -> str:
        if (count, n) not in badge_texts:
            badge_texts[count, n] = f' <span class="badge badge-{tone}">{message % {"n": n}}</span>'
        return badge_texts[count, n]

    # The active time zone, looked up once: `timezone.localtime` looks it up for each value.
    zone = timezone.get_current_timezone()
    rows = []
    for case in cases:
        public_id = str(case.public_id)
        status = escape(case.status)
        badges = "".join(
            badge(count, tone, message, n) for count, tone, message in BADGES if (n := getattr(case, count))
        )
        if badges:
            badges = f'<span class="assessment-counts">{badges}</span>'
        # What the template filter `date:"Y-m-d H:i e"` shows (in the active time zone, named as the case page
        # names it), at a tenth of its cost: a case is created in this millennium, so the year has its four digits;
        # digits, dashes, a colon and a zone's abbreviation need no escaping.
        created_local = case.created_at.astimezone(zone)
        created_at = f"{created_local:%Y-%m-%d %H:%M} {created_local.tzname()}"
        created_line = created % {"created_at": created_at, "username": escape(case.created_by_username)}
        rows.append(
            "\n    <tr>\n"
            f'      <td><a href="{link_start}{public_id}{link_end}">{escape(case.reference)}</a></td>\n'
            f'      <td class="wrap">{escape(case.title)}</td>\n'
            # An unknown value shows as recorded, as get_status_display does.
            f'      <td><span class="status status-{status}">{status_labels.get(case.status, status)}</span></td>\n'
            f"      <td>{case.item_count}{badges}\n</td>\n"
            f"      <td>{created_line}</td>\n"
            f'      <td class="mono small">{public_id}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(rows))
