"""The dashboard's counts of an organisation's evidence items, kept as the items change (models.EvidenceTally).

The services that create an item or change its analysis status, verdict or assessment call `tally_move` in their
own transaction, under the organisation lock every writer of the organisation takes, so the tallies change with
the items or not at all. `tally_recount` counts the items themselves: what the tallies must always equal.
"""

from collections import Counter
from datetime import UTC, date

from django.db.models import F, Sum

from forensics.assessment import FLAGS

from .models import EvidenceItem, EvidenceTally

# One tally row's state: (received_on, analysis_status, verdict, ai_declared, edited, signature_broken,
# metadata_removed).
TallyKey = tuple
KEY_FIELDS = ("received_on", "analysis_status", "verdict", *FLAGS)
STATE_FIELDS = ("received_at", "analysis_status", "verdict", "assessment")


def tally_key(*, received_at, analysis_status: str, verdict: str, assessment: dict) -> TallyKey:
    """The tally an item in this state is counted in; the flags as `cases.views.assessment_is` reads them."""
    flags = []
    for aspect, state in FLAGS.values():
        answer = assessment.get(aspect) if isinstance(assessment, dict) else None
        flags.append(isinstance(answer, dict) and answer.get("state") == state)
    return (received_at.astimezone(UTC).date(), analysis_status, verdict, *flags)


def item_state(item_id: int) -> dict:
    """The stored fields an item's tally depends on, read fresh (the caller's copy of the item may be older)."""
    return EvidenceItem.objects.filter(pk=item_id).values(*STATE_FIELDS).get()


def tally_move(*, organisation_id: int, before: TallyKey | None, after: TallyKey | None) -> None:
    """Count an item out of the `before` tally (None: it is new) and into the `after` one."""
    if before == after:
        return
    if before is not None:
        _tally_add(organisation_id, before, -1)
    if after is not None:
        _tally_add(organisation_id, after, 1)


def _tally_add(organisation_id: int, key: TallyKey, delta: int) -> None:
    state = dict(zip(KEY_FIELDS, key, strict=True))
    tallies = EvidenceTally.objects.filter(organisation_id=organisation_id, **state)
    if not tallies.update(count=F("count") + delta):
        EvidenceTally.objects.create(organisation_id=organisation_id, count=delta, **state)


def tally_counts(organisation_id: int, *, since: date | None = None) -> Counter:
    """{tally key: items} over the organisation's tallies (those received on or after `since`, if given)."""
    tallies = EvidenceTally.objects.filter(organisation_id=organisation_id).exclude(count=0)
    if since is not None:
        tallies = tallies.filter(received_on__gte=since)
    rows = tallies.values_list(*KEY_FIELDS).annotate(items=Sum("count")).order_by()
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def tally_recount(organisation_id: int) -> Counter:
    """{tally key: items} counted from the organisation's items themselves."""
    items = EvidenceItem.objects.filter(case__organisation_id=organisation_id)
    return Counter(tally_key(**values) for values in items.values(*STATE_FIELDS).iterator())


def tally_rebuild(organisation_id: int) -> None:
    """Replace the organisation's tallies by a recount (after a bulk load that bypassed the services)."""
    EvidenceTally.objects.filter(organisation_id=organisation_id).delete()
    EvidenceTally.objects.bulk_create(
        EvidenceTally(organisation_id=organisation_id, count=count, **dict(zip(KEY_FIELDS, key, strict=True)))
        for key, count in tally_recount(organisation_id).items()
    )
