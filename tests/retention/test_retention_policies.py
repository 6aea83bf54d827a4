"""Retention: each policy with a controllable clock (what is deleted, when, and what remains), legal hold, never
before analysis, duplicates sharing stored bytes, the signed tombstone, and the download that is gone and says why."""

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django_q.models import Schedule

from cases import services
from cases.exceptions import MediaDeletionRefused
from cases.models import EvidenceItem, Organisation
from cases.retention import retention_apply_all, retention_due
from custody.models import CustodyEvent
from custody.verification import custody_verify
from forensics.models import Analysis
from tests.conftest import PASSWORD, jpeg_bytes, received


def _stored(item) -> bool:
    return storages["evidence"].exists(item.storage_key)


def _fresh(item) -> EvidenceItem:
    return EvidenceItem.objects.get(pk=item.pk)


@pytest.fixture
def legal_aid(alpha):
    """alpha as a legal-aid organisation, with the policy such an organisation starts with."""
    organisation = services.organisation_create(name="North Legal Aid", slug="north", kind="legal_aid")
    for role in ("admin", "supervisor", "investigator", "auditor"):
        services.membership_set(organisation=organisation, user=alpha.member(role), role=role)
    case = services.case_create(organisation=organisation, title="image abuse", actor=alpha.investigator)
    return organisation, case


def test_keep_policy_never_deletes_however_long_ago_the_analysis(alpha, analysed, clock):
    # Given a law-enforcement organisation (keep until deleted by hand) and an item analysed long ago
    item = analysed(alpha.case, alpha.investigator)
    assert alpha.organisation.retention_policy == "keep"
    clock.advance(days=3650)

    # When the schedule runs
    deleted = retention_apply_all()

    # Then nothing is deleted
    assert deleted == 0
    assert _stored(item) and _fresh(item).media_held


def test_after_days_policy_deletes_media_only_once_the_days_have_passed_and_keeps_everything_else(
    alpha, analysed, clock
):
    # Given "delete 30 days after analysis" and an analysed item
    services.organisation_retention_set(
        organisation=alpha.organisation, policy="after_days", days=30, actor=alpha.admin
    )
    item = analysed(alpha.case, alpha.investigator)
    findings = Analysis.objects.get(evidence=item).findings

    # When 29 days pass, nothing is due
    clock.advance(days=29)
    assert retention_apply_all() == 0
    assert _stored(item)

    # When the 30th day has passed
    deleted_at = clock.advance(days=1, minutes=1)
    assert retention_apply_all() == 1

    # Then the bytes are gone, and the item, its hashes, findings and custody remain
    item = _fresh(item)
    assert not _stored(item)
    assert item.media_deleted_at == deleted_at
    assert "30 days after analysis" in item.media_deleted_reason
    assert item.sha256 == received(jpeg_bytes()).digests["sha256"]
    assert Analysis.objects.get(evidence=item).findings == findings
    tombstone = CustodyEvent.objects.get(evidence=item, action="media.deleted")
    assert tombstone.actor_label == "system:retention schedule"
    assert tombstone.details["policy"] == {"name": "after_days", "days": 30}
    assert tombstone.details["digests"]["sha256"] == item.sha256
    assert tombstone.details["bytes_removed"] is True
    # And a second run finds nothing more to do
    assert retention_apply_all() == 0


def test_privacy_first_deletes_as_soon_as_analysis_and_an_evidence_report_are_done(
    legal_aid, alpha, analysed, generate
):
    # Given a new legal-aid organisation (privacy first by default) and an analysed item without a report
    organisation, case = legal_aid
    assert organisation.retention_policy == "privacy_first"
    item = analysed(case, alpha.investigator)
    assert retention_due(organisation) == []

    # When its report is generated and the schedule runs
    report = generate(alpha.investigator, case, item)
    deleted = retention_apply_all()

    # Then the media is deleted, and the report (row and signed PDF) remains
    assert deleted == 1
    assert not _stored(item) and not _fresh(item).media_held
    assert storages["reports"].exists(report.storage_key)
    assert CustodyEvent.objects.get(evidence=item, action="media.deleted").details["policy"]["name"] == "privacy_first"


def test_privacy_first_counts_a_case_report_only_when_generated_after_the_analysis(
    legal_aid, alpha, analysed, generate, clock
):
    organisation, case = legal_aid
    first = analysed(case, alpha.investigator, colour=(1, 2, 3))
    generate(alpha.investigator, case)
    clock.advance(minutes=5)
    # An item analysed after the case report is not covered by it
    later = analysed(case, alpha.investigator, colour=(4, 5, 6))

    assert [due.item.pk for due in retention_due(organisation)] == [first.pk]
    retention_apply_all()
    assert not _fresh(first).media_held and _fresh(later).media_held


def test_legal_hold_suspends_every_deletion_until_lifted(alpha, analysed, clock):
    # Given a due item in a case placed under legal hold
    services.organisation_retention_set(organisation=alpha.organisation, policy="after_days", days=1, actor=alpha.admin)
    item = analysed(alpha.case, alpha.investigator)
    services.case_legal_hold_set(case=alpha.case, hold=True, reason="court order 12/3", actor=alpha.supervisor)
    clock.advance(days=10)

    # When the schedule runs and a supervisor tries by hand
    assert retention_apply_all() == 0
    with pytest.raises(MediaDeletionRefused, match="legal hold"):
        services.evidence_media_delete(item=item, reason="tidy up", actor=alpha.supervisor)

    # Then the media stays; once the hold is lifted the policy applies again
    assert _stored(item)
    services.case_legal_hold_set(case=alpha.case, hold=False, reason="order expired", actor=alpha.supervisor)
    assert retention_apply_all() == 1
    actions = list(CustodyEvent.objects.filter(case=alpha.case).values_list("action", flat=True))
    assert actions.index("legal_hold.set") < actions.index("legal_hold.released") < actions.index("media.deleted")


def test_media_whose_analysis_is_not_done_is_never_deleted(alpha, clock):
    # Given an item whose analysis never ran (still queued) under a one-day policy
    services.organisation_retention_set(organisation=alpha.organisation, policy="after_days", days=1, actor=alpha.admin)
    item = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator).item
    clock.advance(days=400)

    # When the schedule runs, or an administrator deletes by hand
    assert retention_apply_all() == 0
    with pytest.raises(MediaDeletionRefused, match="analysis of this item is not done"):
        services.evidence_media_delete(item=item, reason="by hand", actor=alpha.admin)

    # Then the media is still there
    assert _stored(item) and _fresh(item).media_held


def test_tombstone_is_signed_and_verifies_in_the_chain(alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)

    services.evidence_media_delete(item=item, reason="deleted by hand: victim asked", actor=alpha.supervisor)

    tombstone = CustodyEvent.objects.get(evidence=item, action="media.deleted")
    assert tombstone.actor_label == alpha.supervisor.username
    assert tombstone.details["reason"] == "deleted by hand: victim asked"
    assert tombstone.signature and tombstone.details["policy"]["name"] == "keep"
    verification = custody_verify(alpha.organisation)
    assert verification.ok, verification.summary()


def test_identical_bytes_stay_stored_while_another_item_still_holds_them(alpha, analysed, clock):
    # Given the same bytes received in two cases, the second under legal hold
    services.organisation_retention_set(organisation=alpha.organisation, policy="after_days", days=1, actor=alpha.admin)
    other_case = services.case_create(organisation=alpha.organisation, title="second", actor=alpha.investigator)
    first = analysed(alpha.case, alpha.investigator)
    second = analysed(other_case, alpha.investigator)
    assert first.storage_key == second.storage_key
    services.case_legal_hold_set(case=other_case, hold=True, reason="trial", actor=alpha.supervisor)
    clock.advance(days=2)

    # When the schedule runs
    assert retention_apply_all() == 1

    # Then the first item has its tombstone but the shared bytes stay for the second
    tombstone = CustodyEvent.objects.get(evidence=first, action="media.deleted")
    assert tombstone.details["bytes_removed"] is False
    assert tombstone.details["bytes_still_held_by"] == [str(second.public_id)]
    assert not _fresh(first).media_held and _stored(second)

    # And once the hold is lifted the second goes too, and with it the bytes
    services.case_legal_hold_set(case=other_case, hold=False, reason="verdict", actor=alpha.supervisor)
    assert retention_apply_all() == 1
    assert CustodyEvent.objects.get(evidence=second, action="media.deleted").details["bytes_removed"] is True
    assert not _stored(second)


def test_download_of_deleted_media_is_gone_and_says_when_and_why(client, alpha, analysed):
    item = analysed(alpha.case, alpha.investigator)
    services.evidence_media_delete(item=item, reason="deleted by hand: victim asked", actor=alpha.admin)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    download = client.get(f"/evidence/{item.public_id}/download/")
    page = client.get(f"/evidence/{item.public_id}/").content.decode()
    api = client.get(f"/api/v1/evidence/{item.public_id}/").json()

    deleted_on = _fresh(item).media_deleted_at.strftime("%Y-%m-%d %H:%M")
    assert download.status_code == 410
    assert f"Media deleted on {deleted_on}" in download.content.decode()
    assert "victim asked" in download.content.decode()
    assert f"Media deleted on {deleted_on}" in page and "Download original" not in page
    assert api["media_held"] is False and api["media_deleted_at"] and "victim asked" in api["media_deleted_reason"]
    assert not CustodyEvent.objects.filter(evidence=item, action="media.downloaded").exists()


def test_purge_media_dry_run_shows_what_the_run_then_deletes(alpha, analysed, clock, capsys):
    services.organisation_retention_set(organisation=alpha.organisation, policy="after_days", days=7, actor=alpha.admin)
    item = analysed(alpha.case, alpha.investigator)
    clock.advance(days=8)

    call_command("purge_media", "--dry-run")
    shown = capsys.readouterr().out
    assert str(item.public_id) in shown and "would delete the media of 1 item(s)" in shown
    assert _stored(item)

    call_command("purge_media")
    assert "deleted the media of 1 item(s)" in capsys.readouterr().out
    assert not _stored(item)
    assert CustodyEvent.objects.get(evidence=item, action="media.deleted").actor_label == "system:purge_media command"


def test_createorganisation_kind_chooses_the_starting_policy(db, capsys):
    call_command("createorganisation", "South Legal Aid", "--slug", "south", "--kind", "legal_aid")
    call_command("createorganisation", "County Police", "--slug", "county", "--kind", "law_enforcement")

    assert Organisation.objects.get(slug="south").retention_policy == "privacy_first"
    assert Organisation.objects.get(slug="county").retention_policy == "keep"
    assert "Privacy first" in capsys.readouterr().out


def test_retention_schedule_is_installed(db):
    assert Schedule.objects.filter(func="cases.retention.retention_apply_all", repeats=-1).exists()


def test_reanalysis_of_deleted_media_is_refused_and_says_why(client, alpha, analysed):
    # Given an item whose media was deleted after analysis
    item = analysed(alpha.case, alpha.investigator)
    services.evidence_media_delete(item=item, reason="victim asked", actor=alpha.supervisor)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    # When a re-analysis is asked for
    response = client.post(f"/api/v1/evidence/{item.public_id}/analyses/")

    # Then it is refused with the deletion named, and the earlier result stands
    assert response.status_code == 409
    assert "Media deleted on" in response.json()["detail"]
    assert _fresh(item).analysis_status == "done"
    assert item.analyses.count() == 1
