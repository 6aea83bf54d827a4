"""Template helpers for custody navigation, so templates ask the role table rather than naming roles."""

from django import template

from cases.roles import Reach, Scope

register = template.Library()


@register.filter
def audits_custody(membership) -> bool:
    """Whether the member may open the organisation-wide custody audit page (custody:read on every case)."""
    return membership is not None and membership.reach(Scope.CUSTODY_READ) is Reach.ALL
