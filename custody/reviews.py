"""Supervisor review: the "reviewed" sign-off on a case awaiting review, written with its ledger event; the case
leaves the review queues (its status becomes "reviewed")."""

import hashlib

from django.db import transaction
from django.utils.translation import gettext as _

from cases.exceptions import Refused
from cases.models import Case, CaseStatus, Organisation

from .ledger import custody_event_record
from .models import Action, ReviewSignOff


class CaseNotUnderReview(Refused):
    status_code = 409

    def __init__(self, case: Case):
        super().__init__(
            _("Case %(reference)s is %(status)s, not under review; set it to under review before signing off.")
            % {"reference": case.reference, "status": str(case.get_status_display()).lower()}
        )


@transaction.atomic
def review_sign_off(*, case: Case, comment: str, actor) -> ReviewSignOff:
    """Sign off `case` as reviewed by `actor`: its status goes from under review to reviewed, and the status, the
    sign-off and its `review.signed_off` event (which records both statuses) commit together."""
    # The organisation row first, as every ledger append takes it: locking the case first could deadlock.
    Organisation.objects.lock(case.organisation_id)
    case = Case.objects.select_related("organisation").get(pk=case.pk)
    if case.status != CaseStatus.UNDER_REVIEW:
        raise CaseNotUnderReview(case)
    event = custody_event_record(
        organisation=case.organisation,
        action=Action.REVIEW_SIGNED_OFF,
        actor=actor,
        case=case,
        details={
            "comment_sha256": hashlib.sha256(comment.encode()).hexdigest(),
            "length": len(comment),
            "from": CaseStatus.UNDER_REVIEW.value,
            "to": CaseStatus.REVIEWED.value,
        },
    )
    case.status = CaseStatus.REVIEWED
    case.save(update_fields=["status", "updated_at"])
    sign_off = ReviewSignOff(
        organisation=case.organisation,
        case=case,
        signed_by=actor,
        comment=comment,
        signed_at=event.recorded_at,
        event=event,
    )
    sign_off.save()
    return sign_off
