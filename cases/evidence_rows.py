"""How an evidence item reads as a row of the case page: its link, shortened file name and hash, verdict or analysis
status, assessment badges, date of receipt and "Report" cell, made in Python once for the page's rows. Made by the
template's tags and filters, each row cost two URL reversals, an included template, a date format, three
truncations, translated labels and the item's whole assessment put into words; and prefetching the rows' digests
and reports built two querysets a row: together most of the page's time."""

import uuid
from collections.abc import Callable, Sequence

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from forensics.presentation import assessment_lines
from reports.models import Report, ReportStatus

from .models import AnalysisStatus, DigestAlgorithm, EvidenceDigest, EvidenceItem, Verdict

# Django's message for a shortened text (django.utils.text.add_truncation_text), translated by Django's catalogue:
# passed as a variable, so that makemessages leaves it out of the project's.
_TRUNCATION_TEXT = ("String to return when truncating text", "%(truncated_text)s…")

# Reversed once per page with this id in place of each item's or report's: the rest of a link is the same for all.
_PLACEHOLDER_ID = str(uuid.UUID(int=0))


def evidence_rows_present(items: Sequence[EvidenceItem]) -> None:
    """Give each of `items` what its row shows, in the active language and time zone: `detail_url`,
    `filename_shown`, `sha256_value`, `sha256_shown`, `verdict_label` and `assessment_badges` (with a verdict),
    `analysis_status_label`, `received_shown` and `report_cell`. Reads the items' SHA-256 digests and reports in
    a query each."""
    # Unordered: the digests' own order (by item) would join the items to sort by theirs.
    sha256s = dict(
        EvidenceDigest.objects.filter(item__in=items, algorithm=DigestAlgorithm.SHA256)
        .order_by()
        .values_list("item_id", "value")
    )
    reports: dict[int, list[tuple[uuid.UUID, str]]] = {}
    # Newest first (Report.Meta.ordering), as the item's reports were read.
    for item_id, public_id, status in Report.objects.filter(evidence__in=items).values_list(
        "evidence_id", "public_id", "status"
    ):
        reports.setdefault(item_id, []).append((public_id, status))
    link_start, link_end = link_parts("cases:evidence-detail")
    shown = shortener()
    verdict_labels = {value: str(label) for value, label in Verdict.choices}
    analysis_labels = {value: str(label) for value, label in AnalysisStatus.choices}
    report_cell = _report_cells()
    # The badges of each distinct assessment, put into words once a page: a page repeats few.
    badges: dict[str, SafeString] = {}
    for item in items:
        item.detail_url = f"{link_start}{item.public_id}{link_end}"
        item.filename_shown = shown(item.original_filename, 60)
        # A received item always has its SHA-256 (a missing one failed the page before too).
        item.sha256_value = sha256s[item.pk]
        item.sha256_shown = shown(item.sha256_value, 17)
        # An unknown value shows as recorded, as get_FOO_display does (cases.choice_labels).
        item.analysis_status_label = analysis_labels.get(item.analysis_status, item.analysis_status)
        if item.verdict:
            item.verdict_label = verdict_labels.get(item.verdict, item.verdict)
            key = repr(item.assessment)
            if key not in badges:
                badges[key] = _assessment_badges(item)
            item.assessment_badges = badges[key]
        # What the template filter `date:"Y-m-d H:i e"` shows (in the active time zone, named), at a tenth of its
        # cost: an item is received in this millennium, so the year has its four digits.
        received_local = timezone.localtime(item.received_at)
        item.received_shown = f"{received_local:%Y-%m-%d %H:%M} {received_local.tzname()}"
        item.report_cell = report_cell(reports.get(item.pk, []))


def shortener() -> Callable[[str, int], str]:
    """A function giving what the template filter `truncatechars:length` shows of a text, with the truncation text
    ("…") translated once. A text of ASCII characters, none combining nor changed by Unicode normalisation, is cut
    without walking it."""
    truncate = pgettext(*_TRUNCATION_TEXT)
    kept: dict[int, int] = {}

    def shown(text: str, length: int) -> str:
        if not text.isascii():
            return Truncator(text).chars(length, truncate=truncate)
        if len(text) <= length:
            return text
        if length not in kept:
            kept[length] = calculate_truncate_chars_length(length, truncate)
        return add_truncation_text(text[: kept[length]], truncate)

    return shown


def link_parts(view: str) -> tuple[str, str]:
    """The link to `view` of an object by its public id, before and after the id, escaped as {% url %} shows it."""
    start, end = reverse(view, args=[_PLACEHOLDER_ID]).split(_PLACEHOLDER_ID)
    return escape(start), escape(end)


def _assessment_badges(item: EvidenceItem) -> SafeString:
    # A badge for each remarkable answer (one with a `short` form: AI-declared, edited, signature broken…).
    return mark_safe(
        "".join(
            f' <span class="badge badge-{escape(line.tone)}" data-aspect="{escape(line.aspect)}">'
            f"{escape(line.short)}</span>"
            for line in assessment_lines(item.assessment)
            if line.short
        )
    )


def _report_cells() -> Callable[[list[tuple[uuid.UUID, str]]], SafeString]:
    """A function from an item's reports, (public id, status) newest first, to its "Report" cell: the latest ready
    report's link, with the state of the latest request when that one is not ready; or the latest request's state;
    or a dash. (The template tag `report_link` showed it before.)"""
    link_start, link_end = link_parts("reports:download")
    pdf = _("PDF")
    status_labels = {value: str(label) for value, label in ReportStatus.choices}

    def report_cell(reports: list[tuple[uuid.UUID, str]]) -> SafeString:
        ready = next((n for n, (_public_id, status) in enumerate(reports) if status == ReportStatus.DONE), None)
        if ready is not None:
            cell = f'<a href="{link_start}{reports[ready][0]}{link_end}">{pdf}</a>'
            if ready:  # the latest request is not the ready one
                label = status_labels.get(reports[0][1], reports[0][1])
                cell += f' <span class="muted small">({escape(label.lower())})</span>'
        elif reports:
            cell = f'<span class="muted">{escape(status_labels.get(reports[0][1], reports[0][1]))}</span>'
        else:
            cell = '<span class="muted">—</span>'
        return mark_safe(cell + "\n")

    return report_cell
