"""The dashboard's tallies (cases.tallies), per organisation and per case, always equal a recount of the items:
after uploads, real analyses, a failed analysis, a re-analysis and a media deletion, in two organisations; and the
dashboards that read them, the administrator's and an investigator's, show what counting the items shows."""

import importlib

from django.apps import apps as django_apps

from cases import services
from cases.demo_media import ai_declared_jpeg_create, camera_jpeg_create, edited_jpeg_create
from cases.models import AnalysisStatus, Case, CaseEvidenceTally, EvidenceItem, EvidenceTally, Verdict
from cases.tallies import case_tally_counts, case_tally_recount, tally_counts, tally_recount
from cases.upload import receive_path
from forensics.services import analysis_fail, analysis_queue, analysis_start
from tests.conftest import PASSWORD, jpeg_bytes, received


def _receive(tenant, path, capture, *, analyse: bool) -> EvidenceItem:
    with capture(execute=analyse):
        receipt = services.evidence_receive(case=tenant.case, received=receive_path(path), actor=tenant.investigator)
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def _assert_tallies_equal_recount(*tenants) -> None:
    for tenant in tenants:
        recount = tally_recount(tenant.organisation.pk)
        assert tally_counts(tenant.organisation.pk) == recount
        assert sum(recount.values()) == EvidenceItem.objects.filter(case__organisation=tenant.organisation).count()
        for case in Case.objects.filter(organisation=tenant.organisation):
            one = Case.objects.filter(pk=case.pk)
            assert case_tally_counts(one) == case_tally_recount(one), case
        everyone = Case.objects.filter(organisation=tenant.organisation)
        assert case_tally_counts(everyone) == recount


def test_tallies_equal_a_recount_after_uploads_analyses_and_changes(
    client, alpha, beta, tmp_path, django_capture_on_commit_callbacks
):
    # Given items received and analysed for real in alpha (AI-declared, edited, camera-like) and one left queued,
    # and an item analysed in beta
    camera = camera_jpeg_create(tmp_path)
    analysed = [
        _receive(alpha, path, django_capture_on_commit_callbacks, analyse=True)
        for path in (ai_declared_jpeg_create(tmp_path), edited_jpeg_create(tmp_path, camera), camera)
    ]
    queued = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(colour=(9, 9, 9))), actor=alpha.investigator
    ).item
    _receive(beta, camera, django_capture_on_commit_callbacks, analyse=True)
    assert {item.analysis_status for item in analysed} == {AnalysisStatus.DONE}
    assert any(item.assessment["synthetic_media"]["state"] == "declared" for item in analysed)
    _assert_tallies_equal_recount(alpha, beta)

    # When the queued item's analysis fails, an analysed item is queued again, and another's media is deleted
    analysis_fail(analysis=analysis_start(analysis_id=queued.analyses.get().pk), error="test: the tool crashed")
    analysis_queue(item=analysed[0], reason="re-analysis", actor=alpha.supervisor)
    services.evidence_media_delete(item=analysed[1], reason="test", actor=alpha.admin)

    # Then the tallies still equal a recount in both organisations
    assert EvidenceItem.objects.get(pk=queued.pk).analysis_status == AnalysisStatus.FAILED
    assert EvidenceItem.objects.get(pk=analysed[0].pk).analysis_status == AnalysisStatus.QUEUED
    _assert_tallies_equal_recount(alpha, beta)

    # And the administrator's dashboard (from the tallies) counts what the items say, beta's queued item aside
    services.evidence_receive(case=beta.case, received=received(jpeg_bytes()), actor=beta.investigator)
    client.login(username=alpha.admin.username, password=PASSWORD)
    page = client.get("/dashboard/")
    items = EvidenceItem.objects.filter(case__organisation=alpha.organisation)
    _assert_dashboard_counts(page, items)
    assert page.context["item_total"] == 4
    # And its in-progress list (read through the partial index of queued and running items) holds the re-queued item
    assert [item.pk for item in page.context["in_progress"]] == [analysed[0].pk]
    assert f"{4} items received" in page.context["chart"].summary


def test_an_investigators_dashboard_counts_the_items_of_their_cases_only(
    client, alpha, beta, tmp_path, django_capture_on_commit_callbacks
):
    # Given an analysed item and a queued one in the investigator's case, an analysed item in a case of the
    # supervisor's they are not involved in, one in a case they are assigned to, and one in beta
    camera = camera_jpeg_create(tmp_path)
    _receive(alpha, ai_declared_jpeg_create(tmp_path), django_capture_on_commit_callbacks, analyse=True)
    services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    other = services.case_create(organisation=alpha.organisation, title="not theirs", actor=alpha.supervisor)
    assigned = services.case_create(organisation=alpha.organisation, title="assigned", actor=alpha.supervisor)
    services.case_assign(case=assigned, investigators=[alpha.investigator], actor=alpha.supervisor)
    for case in (other, assigned):
        with django_capture_on_commit_callbacks(execute=True):
            services.evidence_receive(case=case, received=receive_path(camera), actor=alpha.supervisor)
    _receive(beta, camera, django_capture_on_commit_callbacks, analyse=True)
    _assert_tallies_equal_recount(alpha, beta)

    # When the investigator opens the dashboard
    client.login(username=alpha.investigator.username, password=PASSWORD)
    page = client.get("/dashboard/")

    # Then it counts, from the tallies of their cases, what counting the items of their cases shows
    mine = EvidenceItem.objects.filter(case__in=[alpha.case, assigned])
    _assert_dashboard_counts(page, mine)
    assert page.context["item_total"] == 3
    assert f"{3} items received" in page.context["chart"].summary


def _assert_dashboard_counts(page, items) -> None:
    statuses = {key: n for _, key, n in page.context["by_status"]}
    assert statuses == {status: items.filter(analysis_status=status).count() for status in AnalysisStatus.values}
    verdicts = {key: n for _, key, n in page.context["by_verdict"]}
    assert verdicts == {verdict: items.filter(verdict=verdict).count() for verdict in Verdict.values}
    flags = {key: n for _, key, n in page.context["by_assessment"]}
    assert flags["ai_declared"] == items.filter(assessment__synthetic_media__state="declared").count() == 1
    assert flags["edited"] == items.filter(assessment__editing__state="found").count()
    assert flags["signature_broken"] == items.filter(assessment__provenance__state="broken").count()
    assert flags["metadata_removed"] == items.filter(assessment__metadata__state="removed").count()


def test_migration_counts_the_items_received_before_it(alpha, beta, tmp_path, django_capture_on_commit_callbacks):
    # Given items received in two organisations, and their tallies lost
    _receive(alpha, camera_jpeg_create(tmp_path), django_capture_on_commit_callbacks, analyse=True)
    services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    services.evidence_receive(case=beta.case, received=received(jpeg_bytes()), actor=beta.investigator)
    EvidenceTally.objects.all().delete()
    CaseEvidenceTally.objects.all().delete()

    # When the migrations' counting runs
    importlib.import_module("cases.migrations.0011_evidence_tally").tallies_count(django_apps, None)
    importlib.import_module("cases.migrations.0014_case_evidence_tally").case_tallies_count(django_apps, None)

    # Then each organisation's and each case's tallies equal a recount of its items
    _assert_tallies_equal_recount(alpha, beta)
