"""Template tags for report controls on the evidence and case pages: status, download links, generate buttons."""

from django import template

from cases.models import Case, EvidenceItem
from cases.roles import Scope

from ..models import Report
from ..services import PENDING_ANALYSIS, case_analysis_pending

register = template.Library()

RECENT_SHOWN = 5


def _can_generate(context, case: Case) -> bool:
    membership = context.get("membership")
    return membership is not None and membership.can(Scope.EVIDENCE_UPLOAD, case)


@register.inclusion_tag("reports/report_panel.html", takes_context=True)
def report_panel(context, item: EvidenceItem) -> dict:
    """The evidence page's report section: recent reports of the item and, for those who may, a generate button."""
    reports = Report.objects.filter(evidence=item).select_related("requested_by")[:RECENT_SHOWN]
    return {
        "item": item,
        "reports": reports,
        "can_generate": _can_generate(context, item.case),
        "analysis_pending": item.analysis_status in PENDING_ANALYSIS,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("reports/case_reports_panel.html", takes_context=True)
def case_reports_panel(context, case: Case) -> dict:
    """The case page's case-report section."""
    reports = Report.objects.filter(case=case, evidence=None).select_related("requested_by")[:RECENT_SHOWN]
    can_generate = _can_generate(context, case)
    return {
        "case": case,
        "reports": reports,
        "can_generate": can_generate,
        # Asked only of those offered the button: a case report is refused while an item is being analysed.
        "analysis_pending": can_generate and case_analysis_pending(case),
        "csrf_token": context.get("csrf_token"),
    }
