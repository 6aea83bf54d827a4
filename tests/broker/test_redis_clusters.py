"""Analyses queued on upload are run by task clusters on the Redis broker, each exactly once: when a task is
delivered again, and when two clusters (two machines) take tasks from the same queue at once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.models import Task
from django_q.tasks import async_task

from cases.models import AnalysisStatus, EvidenceItem
from custody.models import Action, CustodyEvent
from forensics.models import Analysis
from tests.conftest import jpeg_bytes

from .conftest import wait_until

pytestmark = pytest.mark.redis

ANALYSE = "forensics.tasks.analyse_evidence"


def _upload(client, case, *colours) -> list[EvidenceItem]:
    files = [
        SimpleUploadedFile(f"photo-{n}.jpg", jpeg_bytes(colour=colour), content_type="image/jpeg")
        for n, colour in enumerate(colours)
    ]
    response = client.post(f"/api/v1/cases/{case.public_id}/evidence/", {"files": files})
    assert response.status_code == 201, response.content[:300]
    return list(EvidenceItem.objects.filter(public_id__in=[item["id"] for item in response.json()["items"]]))


def _done(analyses) -> bool:
    return all(a.status == AnalysisStatus.DONE for a in Analysis.objects.filter(pk__in=[a.pk for a in analyses]))


def _results(expected: int) -> bool:
    return Task.objects.filter(func=ANALYSE).count() >= expected


def _ledger(analysis: Analysis, action: Action) -> int:
    return CustodyEvent.objects.filter(action=action, details__analysis=str(analysis.public_id)).count()


def test_uploaded_item_is_analysed_by_a_cluster_on_redis(live_db, client, alpha, start_cluster):
    # Given a task cluster on the Redis broker
    cluster = start_cluster()
    client.force_login(alpha.investigator)

    # When an investigator uploads a photo
    (item,) = _upload(client, alpha.case, (10, 20, 30))

    # Then the cluster takes the analysis from Redis and completes it, with its verdict on the item
    analysis = Analysis.objects.get(evidence=item)
    wait_until(lambda: _done([analysis]), what="the analysis to finish")
    item.refresh_from_db()
    assert item.analysis_status == AnalysisStatus.DONE
    assert item.verdict
    assert _ledger(analysis, Action.ANALYSIS_COMPLETED) == 1
    # (the cluster logs a task just after recording its result)
    wait_until(lambda: _results(1) and cluster.processed() == 1, what="the cluster to record the task")


def test_a_task_delivered_again_completes_once(live_db, client, alpha, start_cluster):
    # Given an uploaded item whose analysis task reaches the queue twice more (as after a lost acknowledgement)
    client.force_login(alpha.investigator)
    (item,) = _upload(client, alpha.case, (40, 50, 60))
    analysis = Analysis.objects.get(evidence=item)
    async_task(ANALYSE, analysis.pk, group="analysis")
    async_task(ANALYSE, analysis.pk, group="analysis")

    # When a cluster works through the queue
    start_cluster()
    wait_until(lambda: _done([analysis]) and _results(3), what="three deliveries to be handled")

    # Then the analysis ran once; the other deliveries found it finished and left it alone
    analysis.refresh_from_db()
    assert analysis.attempts == 1
    assert _ledger(analysis, Action.ANALYSIS_STARTED) == 1
    assert _ledger(analysis, Action.ANALYSIS_COMPLETED) == 1
    outcomes = sorted(Task.objects.filter(func=ANALYSE).values_list("result", flat=True))
    assert outcomes.count(analysis.verdict) == 1
    assert outcomes.count("skipped: finished or held by another worker") == 2


def test_two_clusters_on_one_queue_process_each_analysis_once(live_db, client, alpha, start_cluster):
    # Given two clusters, as on two machines, taking tasks from the same Redis queue
    first, second = start_cluster(), start_cluster()
    client.force_login(alpha.investigator)

    # When six photos are uploaded and every analysis task is delivered twice
    items = _upload(client, alpha.case, *[(n * 30, 200 - n * 30, 90) for n in range(6)])
    analyses = list(Analysis.objects.filter(evidence__in=items))
    for analysis in analyses:
        async_task(ANALYSE, analysis.pk, group="analysis")
    wait_until(lambda: _done(analyses) and _results(12), timeout=180, what="twelve deliveries to be handled")

    # Then both clusters took part, and each analysis started and completed exactly once
    wait_until(lambda: first.processed() + second.processed() == 12, what="both clusters to log their tasks")
    assert first.processed() > 0 and second.processed() > 0
    assert not Task.objects.filter(func=ANALYSE, success=False).exists()  # no task failed (a deadlock, say)
    for analysis in analyses:
        analysis.refresh_from_db()
        assert analysis.status == AnalysisStatus.DONE
        assert analysis.attempts == 1
        assert _ledger(analysis, Action.ANALYSIS_STARTED) == 1
        assert _ledger(analysis, Action.ANALYSIS_COMPLETED) == 1
