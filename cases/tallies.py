"""The dashboard's counts of evidence items, kept as the items change: per organisation (models.EvidenceTally), what
a member who sees every case is shown, and per case (models.CaseEvidenceTally), summed over the cases a member who
sees only some of them is involved in.

The services that create an item or change its analysis status, verdict or assessment call `tally_move` in their
own transaction, under the organisation lock every writer of the organisation takes, so the tallies change with
the items or not at all. `tally_recount` counts the items themselves: what the tallies must always equal.
"""

from collections import Counter
from datetime import UTC, date

from django.db.models import F, QuerySet, Sum

from forensics.assessment import FLAGS

from .models import CaseEvidenceTally, EvidenceItem, EvidenceTally

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


def tally_move(*, organisation_id: int, case_id: int, before: TallyKey | None, after: TallyKey | None) -> None:
    """Count an item of this case out of the `before` tally (None: it is new) and into the `after` one."""
    if before == after:
        return
    for model, owner in (
        (EvidenceTally, {"organisation_id": organisation_id}),
        (CaseEvidenceTally, {"case_id": case_id}),
    ):
        if before is not None:
            _tally_add(model, owner, before, -1)
        if after is not None:
            _tally_add(model, owner, after, 1)


def _tally_add(model, owner: dict, key: TallyKey, delta: int) -> None:
    state = dict(zip(KEY_FIELDS, key, strict=True))
    if not model.objects.filter(**owner, **state).update(count=F("count") + delta):
        model.objects.create(**owner, **state, count=delta)


def tally_counts(organisation_id: int, *, since: date | None = None) -> Counter:
    """{tally key: items} over the organisation's tallies (those received on or after `since`, if given)."""
    tallies = EvidenceTally.objects.filter(organisation_id=organisation_id)
    if since is not None:
        tallies = tallies.filter(received_on__gte=since)
    return _summed(tallies)


def case_tally_counts(cases: QuerySet) -> Counter:
    """{tally key: items} summed over the tallies of these cases."""
    return _summed(CaseEvidenceTally.objects.filter(case__in=cases.values("pk")))


def _summed(tallies: QuerySet) -> Counter:
    rows = tallies.exclude(count=0).values_list(*KEY_FIELDS).annotate(items=Sum("count")).order_by()
    return Counter({tuple(row[:-1]): row[-1] for row in rows})


def tally_recount(organisation_id: int) -> Counter:
    """{tally key: items} counted from the organisation's items themselves."""
    return _counted(EvidenceItem.objects.filter(case__organisation_id=organisation_id))


def case_tally_recount(cases: QuerySet) -> Counter:
    """{tally key: items} counted from these cases' items themselves."""
    return _counted(EvidenceItem.objects.filter(case__in=cases.values("pk")))


def _counted(items: QuerySet) -> Counter:
    return Counter(tally_key(**values) for values in items.values(*STATE_FIELDS).iterator())


def tally_rebuild(organisation_id: int) -> None:
    """Replace the organisation's tallies and its cases' by a recount (after a bulk load that bypassed the
    services)."""
    EvidenceTally.objects.filter(organisation_id=organisation_id).delete()
    CaseEvidenceTally.objects.filter(case__organisation_id=organisation_id).delete()
    items = EvidenceItem.objects.filter(case__organisation_id=organisation_id)
    per_case = Counter(
        (values.pop("case_id"), tally_key(**values)) for values in items.values("case_id", *STATE_FIELDS).iterator()
    )
    per_organisation = Counter()
    for (_case_id, key), count in per_case.items():
        per_organisation[key] += count
    EvidenceTally.objects.bulk_create(
        EvidenceTally(organisation_id=organisation_id, count=count, **dict(zip(KEY_FIELDS, key, strict=True)))
        for key, count in per_organisation.items()
    )
    CaseEvidenceTally.objects.bulk_create(
        (
            CaseEvidenceTally(case_id=case_id, count=count, **dict(zip(KEY_FIELDS, key, strict=True)))
            for (case_id, key), count in per_case.items()
        ),
        batch_size=5000,
    )
