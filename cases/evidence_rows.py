"""How an evidence item reads as a row of the case page: its link, shortened file name and hash, verdict or analysis
status, assessment badges, date of receipt and "Report" cell, made in Python once for the page's rows. Made by the
template's tags and filters, each row cost two URL reversals, an included template, a date format, translated labels
and the item's whole assessment put into words: most of the page's rendering."""

import uuid
from collections.abc import Iterable

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from forensics.presentation import assessment_lines
from reports.models import ReportStatus

from .models import AnalysisStatus, EvidenceItem, Verdict

# Reversed once per page with this id in place of each item's or report's: the rest of a link is the same for all.
_PLACEHOLDER_ID = str(uuid.UUID(int=0))


def evidence_rows_present(items: Iterable[EvidenceItem]) -> None:
    """Give each of `items` (with their digests and reports prefetched, reports newest first) what its row shows, in
    the active language and time zone: `detail_url`, `filename_shown`, `sha256_shown`, `verdict_label`,
    `assessment_badges`, `analysis_status_label`, `received_shown` and `report_cell`."""
    link_start, link_end = _link_parts("cases:evidence-detail")
    verdict_labels = {value: str(label) for value, label in Verdict.choices}
    analysis_labels = {value: str(label) for value, label in AnalysisStatus.choices}
    report_cell = _report_cells()
    # The badges of each distinct assessment, put into words once a page: a page repeats few.
    badges: dict[str, SafeString] = {}
    for item in items:
        item.detail_url = f"{link_start}{item.public_id}{link_end}"
        item.filename_shown = truncated(item.original_filename, 60)
        item.sha256_shown = truncated(item.sha256, 17)
        # An unknown value shows as recorded, as get_FOO_display does (cases.choice_labels).
        item.analysis_status_label = analysis_labels.get(item.analysis_status, item.analysis_status)
        if item.verdict:
            item.verdict_label = verdict_labels.get(item.verdict, item.verdict)
            key = repr(item.assessment)
            if key not in badges:
                badges[key] = _assessment_badges(item)
            item.assessment_badges = badges[key]
        # What the template filter `date:"Y-m-d H:i"` shows (in the active time zone), at a tenth of its cost: an
        # item is received in this millennium, so the year has its four digits.
        item.received_shown = f"{timezone.localtime(item.received_at):%Y-%m-%d %H:%M}"
        item.report_cell = report_cell(list(item.reports.all()))


def truncated(text: str, length: int) -> str:
    """What the template filter `truncatechars:length` shows of `text`; a text of ASCII characters (which are
    neither combining nor changed by normalisation) no longer than `length` is shown as it is."""
    if len(text) <= length and text.isascii():
        return text
    return Truncator(text).chars(length)


def _link_parts(view: str) -> tuple[str, str]:
    """The link to `view` of an object by its public id, before and after the id, escaped as {% url %} shows it."""
    start, end = reverse(view, args=[_PLACEHOLDER_ID]).split(_PLACEHOLDER_ID)
    return escape(start), escape(end)


def _assessment_badges(item: EvidenceItem) -> SafeString:
    # What forensics' `notable_assessment` filter gave the template to place: a badge for each remarkable answer.
    return mark_safe(
        "".join(
            f' <span class="badge badge-{escape(line.tone)}" data-aspect="{escape(line.aspect)}">'
            f"{escape(line.short)}</span>"
            for line in assessment_lines(item.assessment)
            if line.short
        )
    )


def _report_cells():
    """A function from an item's reports (newest first) to its "Report" cell, as the template
    reports/report_link.html showed it: the latest ready report's link, with the latest request's state when that
    one is not ready, or the latest request's state, or a dash."""
    link_start, link_end = _link_parts("reports:download")
    pdf = _("PDF")
    status_labels = {value: str(label) for value, label in ReportStatus.choices}

    def report_cell(reports: list) -> SafeString:
        latest = reports[0] if reports else None
        ready = next((report for report in reports if report.status == ReportStatus.DONE), None)
        if ready:
            cell = f'<a href="{link_start}{ready.public_id}{link_end}">{pdf}</a>'
            if latest != ready:
                label = status_labels.get(latest.status, latest.status)
                cell += f' <span class="muted small">({escape(label.lower())})</span>'
        elif latest:
            cell = f'<span class="muted">{escape(status_labels.get(latest.status, latest.status))}</span>'
        else:
            cell = '<span class="muted">—</span>'
        return mark_safe(cell + "\n")

    return report_cell
