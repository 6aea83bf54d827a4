"""How the dashboard's lists read: the items in progress, the cases needing review and the recent custody activity,
each line's links, shortened file name, label, date and sentence made in Python once for the page's few dozen
lines. Made by the template's tags, each line cost one or two URL reversals, a date format, a truncation and a
translated sentence: together more than the rest of the page's rendering."""

from collections.abc import Iterable

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from custody.models import CustodyEvent

from .evidence_rows import link_parts, shortener
from .models import AnalysisStatus, Case, EvidenceItem


def in_progress_present(items: Iterable[EvidenceItem]) -> None:
    """Give each of `items` (with `case` selected) `detail_url`, `filename_shown` and `analysis_status_label` (in
    lower case), in the active language."""
    link_start, link_end = link_parts("cases:evidence-detail")
    shown = shortener()
    # An unknown value shows as recorded, as get_analysis_status_display does (cases.choice_labels).
    labels = {value: str(label) for value, label in AnalysisStatus.choices}
    for item in items:
        item.detail_url = f"{link_start}{item.public_id}{link_end}"
        item.filename_shown = shown(item.original_filename, 40)
        item.analysis_status_label = labels.get(item.analysis_status, item.analysis_status).lower()


def review_present(cases: Iterable[Case]) -> None:
    """Give each of `cases` `detail_url`, `custody_url` and `since_line` ("since" the day it was last updated), in
    the active language and time zone."""
    detail_start, detail_end = link_parts("cases:detail")
    custody_start, custody_end = link_parts("custody:case")
    since = _("since %(updated_at)s")
    for case in cases:
        case.detail_url = f"{detail_start}{case.public_id}{detail_end}"
        case.custody_url = f"{custody_start}{case.public_id}{custody_end}"
        # What {% blocktranslate %} made of it: the translation as it is, the value (the template filter
        # `date:"Y-m-d"` in the active time zone) escaped.
        case.since_line = mark_safe(since % {"updated_at": escape(f"{timezone.localtime(case.updated_at):%Y-%m-%d}")})


def activity_present(events: Iterable[CustodyEvent]) -> None:
    """Give each of `events` (with `case` and `evidence` selected) `recorded_shown`, `action_label`, `by_line`, and
    with a case `case_url`, with an item `evidence_url` and `filename_shown`, in the active language and time
    zone."""
    case_start, case_end = link_parts("cases:detail")
    item_start, item_end = link_parts("cases:evidence-detail")
    shown = shortener()
    by = _("by %(actor_label)s")
    for event in events:
        # What the template filter `date:"m-d H:i e"` shows, in the active time zone (named).
        recorded_local = timezone.localtime(event.recorded_at)
        event.recorded_shown = f"{recorded_local:%m-%d %H:%M} {recorded_local.tzname()}"
        event.action_label = event.get_action_display()
        event.by_line = mark_safe(by % {"actor_label": escape(event.actor_label)})
        if event.case:
            event.case_url = f"{case_start}{event.case.public_id}{case_end}"
        if event.evidence:
            event.evidence_url = f"{item_start}{event.evidence.public_id}{item_end}"
            event.filename_shown = shown(event.evidence.original_filename, 28)
