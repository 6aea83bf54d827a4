"""Template helpers for custody navigation, so templates ask the role table rather than naming roles."""

from django import template
from django.db.models import Count, Window

from cases.roles import Reach, Scope

from ..fixity import open_fixity_alarms

register = template.Library()


@register.filter
def audits_custody(membership) -> bool:
    """Whether the member may open the organisation-wide custody audit page (custody:read on every case)."""
    return membership is not None and membership.reach(Scope.CUSTODY_READ) is Reach.ALL


@register.inclusion_tag("custody/_fixity_alarm_banner.html")
def fixity_alarm_banner(membership) -> dict:
    """The alarm banner for files whose latest fixity check failed, shown to those who audit custody."""
    if not audits_custody(membership):
        return {"count": 0}
    # The latest alarm's finding and ledger entry and, on its row, how many there are: one query on every page that
    # shows the banner, reading only what the banner says (the whole alarm and entry took Django 0.3 ms more).
    latest = (
        open_fixity_alarms(membership.organisation)
        .annotate(open_alarms=Window(Count("*")))
        .values("finding", "event__sequence", "open_alarms")
        .first()
    )
    if latest is None:
        return {"count": 0}
    return {"count": latest["open_alarms"], "finding": latest["finding"], "sequence": latest["event__sequence"]}
