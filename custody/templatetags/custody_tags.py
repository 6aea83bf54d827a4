"""Template helpers for custody navigation, so templates ask the role table rather than naming roles."""

from django import template

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
    alarms = open_fixity_alarms(membership.organisation)
    return {"count": alarms.count(), "latest": alarms.first()}
