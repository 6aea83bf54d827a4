"""Which organisation a request acts in, and the objects its URL names. The membership decides; ids sent by the
client only express a wish, and a new membership never moves a session or a token into another organisation."""

import functools
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from reports.models import Report

from .models import ApiToken, Case, EvidenceDigest, EvidenceItem, Membership
from .roles import Scope

SESSION_KEY = "active_organisation_id"


def memberships_of(user) -> list[Membership]:
    """All of a signed-in user's memberships with their organisations, by organisation name; [] for nobody. Each
    also says whether the user has a confirmed authenticator (`user_enrolled`), which the two-factor gate asks of
    every page request: one query for both."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return []
    return list(_memberships_with_enrolment().filter(user=user))


@functools.cache
def _memberships_with_enrolment() -> QuerySet:
    # Made once a process, each request filtering a copy by its user: resolving the annotation took Django some
    # 0.4 ms a request. Never evaluated itself.
    memberships = Membership.objects.select_related("organisation")
    return memberships.annotate(user_enrolled=authenticator_confirmed(OuterRef("user_id")))


def authenticator_confirmed(user_id) -> Exists:
    """Whether the user (an id, or an OuterRef to one) has a confirmed authenticator: an expression to annotate."""
    return Exists(TOTPDevice.objects.filter(user_id=user_id, confirmed=True))


def membership_choose(memberships: list[Membership], chosen_organisation_id: int | None) -> Membership | None:
    """A session's membership among the user's `memberships`: in the organisation the user chose, else the one
    they joined first; None for none.

    The earliest joined, not the first by name: joining another organisation later never changes where an
    open session acts."""
    chosen = [m for m in memberships if m.organisation_id == chosen_organisation_id]
    if chosen:
        return chosen[0]
    return min(memberships, key=lambda m: (m.created_at, m.id), default=None)


def membership_resolve(user, chosen_organisation_id: int | None) -> Membership | None:
    """`membership_choose` among the memberships of `user`."""
    return membership_choose(memberships_of(user), chosen_organisation_id)


def token_membership(token: ApiToken) -> Membership | None:
    """A token acts only in the organisation it is bound to, and only while its user is a member there."""
    if token.organisation_id is None:
        return None
    return (
        Membership.objects.filter(user_id=token.user_id, organisation_id=token.organisation_id)
        .select_related("organisation")
        .first()
    )


def membership_activate(request, membership: Membership) -> None:
    request.session[SESSION_KEY] = membership.organisation_id
    request.membership = membership


@dataclass
class UrlObjects:
    case: Case | None = None
    evidence: EvidenceItem | None = None
    report: Report | None = None


def url_objects_resolve(membership: Membership, kwargs: dict, scope: Scope) -> UrlObjects:
    """Turn the `case_id`, `evidence_id` and `report_id` of a URL into objects this member may use with `scope`,
    once, before any handler runs (Sentry's convert_args). A foreign id is a 404 exactly like a missing one; a
    visible object the role may not act on with `scope` is a 403."""
    found = UrlObjects()
    if "case_id" in kwargs:
        found.case = _visible(
            Case.objects.for_member(membership).select_related("organisation", "created_by"), kwargs["case_id"]
        )
    if "evidence_id" in kwargs:
        items = EvidenceItem.objects.for_member(membership).select_related(
            "case__organisation", "received_by", "duplicate_of"
        )
        digests = Prefetch("digests", queryset=EvidenceDigest.objects.order_by("algorithm"))
        found.evidence = _visible(items.prefetch_related(digests), kwargs["evidence_id"])
        found.case = found.evidence.case
    if "report_id" in kwargs:
        reports = Report.objects.for_member(membership).select_related(
            "case__organisation", "evidence", "requested_by", "checkpoint"
        )
        found.report = _visible(reports, kwargs["report_id"])
        found.case = found.report.case
    if found.case is not None and not membership.can(scope, found.case):
        raise PermissionDenied(
            _("Your role (%(role)s) cannot do this on case %(reference)s: %(scope)s needs you to be assigned to it.")
            % {
                "role": membership.get_role_display(),
                "reference": found.case.reference,
                "scope": Scope(scope).label.lower(),
            }
        )
    return found


def _visible(queryset, public_id: UUID):
    return get_object_or_404(queryset, public_id=public_id)
