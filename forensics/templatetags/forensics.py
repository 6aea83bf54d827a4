"""Template tags that render an item's latest analysis: verdict banner, justified findings, tools, metadata,
structure and C2PA provenance."""

from django import template

from forensics.models import Analysis
from forensics.presentation import c2pa_panel, metadata_groups, structure_tree
from forensics.rules.thumbnail import COMPARISON_RULES

register = template.Library()


@register.inclusion_tag("forensics/analysis_panel.html")
def analysis_panel(item) -> dict:
    analysis = Analysis.objects.filter(evidence=item).order_by("-queued_at", "-id").first()
    earlier = Analysis.objects.filter(evidence=item).exclude(pk=getattr(analysis, "pk", None)).count()
    return {
        "item": item,
        "analysis": analysis,
        "earlier_count": earlier,
        "metadata": metadata_groups(analysis.result) if analysis else [],
        "structure": structure_tree(analysis.result) if analysis else None,
        "c2pa": c2pa_panel(analysis.result) if analysis else None,
        # Findings of these rules offer the thumbnail comparison picture while the media is held.
        "comparison_rules": COMPARISON_RULES if item.media_held else (),
    }
