"""A cluster killed mid-batch loses no analysis: the runs its workers held, and the tasks it had taken from Redis,
are queued again once their lease lapses, and another cluster finishes them, each exactly once. A cluster whose
whole process group gets SIGTERM, as systemd stops a service, is gone within seconds."""

import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AnalysisStatus, EvidenceItem
from custody.models import Action, CustodyEvent
from forensics.models import Analysis
from forensics.tasks import analyses_sweep
from tests.conftest import jpeg_bytes

from .conftest import wait_until

pytestmark = pytest.mark.redis

LEASE_SECONDS = 4


def _upload(client, case, count: int) -> list[EvidenceItem]:
    files = [
        SimpleUploadedFile(f"photo-{n}.jpg", jpeg_bytes(colour=(n * 12, 240 - n * 12, 60)), content_type="image/jpeg")
        for n in range(count)
    ]
    response = client.post(f"/api/v1/cases/{case.public_id}/evidence/", {"files": files})
    assert response.status_code == 201, response.content[:300]
    return list(EvidenceItem.objects.filter(public_id__in=[item["id"] for item in response.json()["items"]]))


def _statuses(items) -> list[str]:
    return list(Analysis.objects.filter(evidence__in=items).values_list("status", flat=True))


def test_every_item_ends_with_one_finished_analysis_after_a_cluster_is_killed(
    live_db, client, alpha, start_cluster, settings
):
    # Given twenty uploads being analysed by a cluster whose leases lapse after a few seconds
    settings.TASK_LEASE_SECONDS = LEASE_SECONDS
    lease = {"EVIDENCEMEDIA_TASK_LEASE_SECONDS": str(LEASE_SECONDS)}
    doomed = start_cluster(**lease)
    wait_until(doomed.running, what="the first cluster to start")
    client.force_login(alpha.investigator)
    items = _upload(client, alpha.case, 20)
    wait_until(lambda: _statuses(items).count(AnalysisStatus.DONE) >= 2, what="the first analyses to finish")

    # When the cluster's every process is killed with SIGKILL mid-batch, and another cluster starts
    doomed.signal_group(signal.SIGKILL)
    doomed.process.wait(timeout=10)
    unfinished = len(items) - _statuses(items).count(AnalysisStatus.DONE)
    assert unfinished > 0, "the batch finished before the kill; nothing was tested"
    start_cluster(**lease)

    # Then the sweep queues again what the dead cluster held, and every item ends with one finished analysis
    requeued = []

    def all_finished() -> bool:
        requeued.append(int(analyses_sweep().split()[0]))
        return all(status in (AnalysisStatus.DONE, AnalysisStatus.FAILED) for status in _statuses(items))

    wait_until(all_finished, timeout=240, what="every analysis to finish after the kill")
    assert sum(requeued) > 0, "nothing was lost with the killed cluster; the sweep was not exercised"
    for item in items:
        (analysis,) = Analysis.objects.filter(evidence=item)
        assert analysis.status == AnalysisStatus.DONE or analysis.error, analysis
        finished = CustodyEvent.objects.filter(
            action__in=[Action.ANALYSIS_COMPLETED, Action.ANALYSIS_FAILED], details__analysis=str(analysis.public_id)
        )
        assert finished.count() == 1
        item.refresh_from_db()
        assert item.analysis_status == analysis.status


def test_a_cluster_stops_within_ten_seconds_of_sigterm_to_its_process_group(live_db, client, alpha, start_cluster):
    # Given a cluster at work on a few uploads
    cluster = start_cluster()
    wait_until(cluster.running, what="the cluster to start")
    client.force_login(alpha.investigator)
    items = _upload(client, alpha.case, 4)
    wait_until(lambda: set(_statuses(items)) - {AnalysisStatus.QUEUED}, what="the first analysis to start")

    # When every process of the cluster gets SIGTERM at once, as systemd stops a service
    signalled = time.monotonic()
    cluster.signal_group(signal.SIGTERM)

    # Then the cluster (its first process, which the service manager waits for) has exited within ten seconds
    cluster.process.wait(timeout=10)
    assert time.monotonic() - signalled < 10


def test_a_worker_grown_past_its_memory_ceiling_is_replaced(live_db, client, alpha, start_cluster):
    # Given a cluster whose workers may grow to 1 MiB only (every real worker is larger)
    cluster = start_cluster(EVIDENCEMEDIA_Q_WORKER_MAX_RSS_MB="1")
    client.force_login(alpha.investigator)

    # When it analyses an upload
    (item,) = _upload(client, alpha.case, 1)
    wait_until(lambda: _statuses([item]) == [AnalysisStatus.DONE], what="the analysis to finish")

    # Then the worker that ran it is recycled after the task, and a new one takes its place
    wait_until(lambda: "recycled worker" in cluster.log.read_text(errors="replace"), what="the worker to be recycled")
