"""Template tags that render an item's latest analysis: verdict banner, justified findings, what was examined, tools,
metadata, structure, video and audio streams and C2PA provenance; and filters that put an item's stored assessment
and EXIF dates into words."""

from django import template

from forensics.examination import examination_lines, incomplete_count
from forensics.models import Analysis
from forensics.presentation import (
    assessment_lines,
    c2pa_panel,
    category_label,
    iso_dates,
    metadata_groups,
    stream_lines,
    structure_tree,
)
from forensics.rules import ruleset_version
from forensics.rules.thumbnail import COMPARISON_RULES

register = template.Library()


@register.inclusion_tag("forensics/analysis_panel.html", takes_context=True)
def analysis_panel(context, item, analysis: Analysis | None, can_reanalyse: bool = False) -> dict:
    """The panel of `analysis`, the item's latest, read by the page (for its key facts) with `analyses`, the number
    of the item's analyses; with the form that analyses the item again when `can_reanalyse`."""
    examination = examination_lines(analysis.result) if analysis else []
    return {
        "csrf_token": context.get("csrf_token"),
        "item": item,
        "analysis": analysis,
        "can_reanalyse": can_reanalyse,
        "current_ruleset": ruleset_version() if can_reanalyse else "",
        "earlier_count": analysis.analyses - 1 if analysis else 0,
        "examination": examination,
        "incomplete": incomplete_count(examination),
        "metadata": metadata_groups(analysis.result) if analysis else [],
        "structure": structure_tree(analysis.result) if analysis else None,
        "streams": stream_lines(analysis.result) if analysis else [],
        "c2pa": c2pa_panel(analysis.result) if analysis else None,
        # Findings of these rules offer the thumbnail comparison picture while the media is held.
        "comparison_rules": COMPARISON_RULES if item.media_held else (),
    }


@register.filter
def assessment(item) -> list:
    """The item's assessment as plain-language lines (forensics.presentation.AssessmentLine); [] before its first
    analysis finishes."""
    return assessment_lines(item.assessment)


@register.filter(name="iso_dates")
def iso_dates_filter(value) -> str:
    return iso_dates(str(value))


register.filter("category_label", category_label)
