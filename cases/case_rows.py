"""How a case reads as a row of the case list: its link, status label, "created … by …" line and assessment badges,
made in Python once for the page's rows. Made by the template's tags, each row cost a URL reversal, a date format, a
status lookup, an included template and translated sentences: about half of the page's rendering."""

from collections.abc import Iterable

from django.utils import timezone
from django.utils.html import escape
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


def case_rows_present(cases: Iterable[Case]) -> None:
    """Give each of `cases` (with `created_by` selected and the BADGES' counts annotated) what its row shows, in the
    active language and time zone: `detail_url`, `status_label`, `created_line` and `assessment_badges`, a list of
    (tone, text)."""
    link_start, link_end = link_parts("cases:detail")
    status_labels = {value: str(label) for value, label in CaseStatus.choices}
    created = _("%(created_at)s by %(username)s")
    # Each (count, number) translated once a page: a page repeats few, and each translation walks the catalogues.
    # The number shows as the template showed it, USE_THOUSAND_SEPARATOR being off.
    badge_texts: dict[tuple[str, int], SafeString] = {}

    def badge_text(count: str, message, n: int) -> SafeString:
        if (count, n) not in badge_texts:
            badge_texts[count, n] = mark_safe(message % {"n": n})
        return badge_texts[count, n]

    for case in cases:
        case.detail_url = f"{link_start}{case.public_id}{link_end}"
        # An unknown value shows as recorded, as get_status_display does.
        case.status_label = status_labels.get(case.status, case.status)
        # What {% blocktranslate %} made of this and of the badges: the translation as it is, the values escaped.
        case.created_line = mark_safe(
            created % {"created_at": escape(_created_at(case)), "username": escape(case.created_by.username)}
        )
        case.assessment_badges = [
            (tone, badge_text(count, message, n)) for count, tone, message in BADGES if (n := getattr(case, count))
        ]


def _created_at(case: Case) -> str:
    # What the template filter `date:"Y-m-d H:i"` shows (in the active time zone), at a tenth of its cost: a case is
    # created in this millennium, so the year has its four digits.
    return f"{timezone.localtime(case.created_at):%Y-%m-%d %H:%M}"
