"""Claimed analyses carry a lease their worker renews; the scheduled sweep queues again the runs whose worker is gone
or whose task was lost, so that no item keeps an analysis queued or running for ever, and none is recorded twice.

(The Redis-broker suite kills a real cluster mid-batch: tests/broker/test_killed_clusters.py.)"""

import importlib
import time
import uuid
from collections.abc import Iterator

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db.migrations import RunPython
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf
from django_q.models import Schedule

from cases import services
from cases.task_runs import MAX_ATTEMPTS, broker_task_arguments, lease_kept
from custody.models import CustodyEvent
from forensics.models import Analysis
from forensics.services import ANALYSE_TASK, analysis_fail, analysis_start
from forensics.tasks import analyses_sweep
from tests.conftest import jpeg_bytes, received


@pytest.fixture
def test_queue(monkeypatch) -> Iterator[Broker]:
    """Tasks go to a broker queue of this test's own, where nothing runs them, instead of running in-process."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"evidencemedia-test-{uuid.uuid4().hex[:12]}")
    broker = get_broker()
    yield broker
    broker.delete_queue()


def _queued(tenant) -> Analysis:
    """An uploaded item's analysis, queued; its task is never sent (the test's transaction does not commit)."""
    item = services.evidence_receive(case=tenant.case, received=received(jpeg_bytes()), actor=tenant.investigator).item
    return Analysis.objects.get(evidence=item)


def _claimed_by_a_worker_that_dies(analysis: Analysis, settings) -> Analysis:
    """Claimed with a lease that lapses at once, as when the claiming worker was killed and renewed nothing."""
    settings.TASK_LEASE_SECONDS = 0
    claimed = analysis_start(analysis_id=analysis.pk)
    settings.TASK_LEASE_SECONDS = 120
    return claimed


def _actions(analysis: Analysis) -> list[str]:
    events = CustodyEvent.objects.filter(details__analysis=str(analysis.public_id)).order_by("sequence")
    return list(events.values_list("action", flat=True))


def test_sweep_queues_again_an_analysis_whose_worker_died_and_it_finishes_once(
    alpha, settings, django_capture_on_commit_callbacks
):
    # Given an analysis claimed by a worker that was then killed
    analysis = _claimed_by_a_worker_that_dies(_queued(alpha), settings)

    # When the scheduled sweep runs, and the task it queues is run
    with django_capture_on_commit_callbacks(execute=True):
        outcome = analyses_sweep()

    # Then the analysis was queued again and finished by the second attempt: one analysis, one completion
    assert outcome == "1 analyses queued again"
    analysis.refresh_from_db()
    assert analysis.status == "done" and analysis.attempts == 2
    assert Analysis.objects.filter(evidence=analysis.evidence).count() == 1
    assert _actions(analysis) == [
        "analysis.queued",
        "analysis.started",
        "analysis.queued",
        "analysis.started",
        "analysis.completed",
    ]
    requeued = CustodyEvent.objects.get(action="analysis.queued", details__reason="worker lost")
    assert requeued.details["after_attempt"] == 1


def test_sweep_leaves_alone_runs_whose_lease_is_live(alpha, django_capture_on_commit_callbacks):
    # Given one analysis being worked on (a live lease) and one freshly queued
    running = analysis_start(analysis_id=_queued(alpha).pk)
    queued = _queued(alpha)

    # When the sweep runs
    with django_capture_on_commit_callbacks(execute=True) as sent:
        outcome = analyses_sweep()

    # Then neither is touched
    assert outcome == "0 analyses queued again" and not sent
    assert Analysis.objects.get(pk=running.pk).status == "running"
    assert Analysis.objects.get(pk=queued.pk).status == "queued"


def test_sweep_sends_again_a_queued_analysis_whose_task_was_lost(
    alpha, settings, test_queue, django_capture_on_commit_callbacks
):
    # Given an uploaded item whose analysis task waits in the broker
    settings.TASK_LEASE_SECONDS = 0  # the queue's lease on the run lapses at once
    with django_capture_on_commit_callbacks(execute=True):
        analysis = _queued(alpha)

    # When the sweep runs while the task waits, then again after the task was lost
    assert analyses_sweep() == "0 analyses queued again"
    test_queue.purge_queue()  # as when the cluster that had taken it from the broker is killed
    with django_capture_on_commit_callbacks(execute=True):
        outcome = analyses_sweep()

    # Then it is sent again only the second time
    assert outcome == "1 analyses queued again"
    assert broker_task_arguments(ANALYSE_TASK) == {analysis.pk}
    assert Analysis.objects.get(pk=analysis.pk).status == "queued"


def test_a_worker_whose_run_was_taken_over_records_nothing(alpha, settings):
    # Given a worker whose lease lapsed, its run queued again by the sweep and claimed by another worker
    queued = _queued(alpha)
    late = _claimed_by_a_worker_that_dies(queued, settings)
    analyses_sweep()
    current = analysis_start(analysis_id=queued.pk)

    # When the first worker comes back and reports its outcome, and then the current worker reports
    late_outcome = analysis_fail(analysis=late, error="from the worker that lost its lease")
    analysis_fail(analysis=current, error="from the worker that holds the run")

    # Then only the current worker's outcome is recorded
    assert late_outcome is None
    assert Analysis.objects.get(pk=queued.pk).error == "from the worker that holds the run"
    assert _actions(queued).count("analysis.failed") == 1


def test_an_analysis_whose_workers_keep_dying_ends_failed_with_a_message(alpha, settings):
    # Given an analysis whose every worker dies (a file that kills the worker, say)
    analysis = _queued(alpha)
    for _ in range(MAX_ATTEMPTS):
        _claimed_by_a_worker_that_dies(analysis, settings)
        assert analyses_sweep() == "1 analyses queued again"

    # When the next delivery of its task comes
    assert analysis_start(analysis_id=analysis.pk) is None

    # Then it ends failed, saying why, and nothing is left to sweep
    analysis.refresh_from_db()
    assert analysis.status == "failed" and analysis.evidence.analysis_status == "failed"
    assert analysis.error == f"Gave up after {MAX_ATTEMPTS} attempts that did not finish."
    assert analyses_sweep() == "0 analyses queued again"


def test_a_working_worker_renews_its_lease_so_the_sweep_leaves_it_alone(alpha, committed_db, test_queue, settings):
    # Given a claimed analysis with a one-second lease
    settings.TASK_LEASE_SECONDS = 1
    analysis = analysis_start(analysis_id=_queued(alpha).pk)
    claimed_until = analysis.lease_expires_at

    # When its worker works for longer than the lease
    with lease_kept(analysis):
        time.sleep(2)
        swept = analyses_sweep()

    # Then the lease was renewed while it worked, and the sweep found the run live
    assert swept == "0 analyses queued again"
    assert Analysis.objects.get(pk=analysis.pk).lease_expires_at > claimed_until
    assert Analysis.objects.get(pk=analysis.pk).status == "running"


def test_reanalysis_closes_an_unfinished_earlier_analysis(alpha, settings):
    # Given an item whose analysis is stuck running (its worker died before leases existed to tell)
    stuck = _claimed_by_a_worker_that_dies(_queued(alpha), settings)

    # When the case is re-analysed
    call_command("reanalyse", "--org", alpha.organisation.slug, "--case", alpha.case.reference, "--now")

    # Then the stuck analysis is closed as superseded, and the item's new analysis finished
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "Superseded by analysis" in stuck.error
    analyses = Analysis.objects.filter(evidence=stuck.evidence)
    assert not analyses.filter(status__in=["queued", "running"]).exists()
    assert analyses.get(reason="reanalysis").status == "done"


@pytest.mark.parametrize(
    ("migration", "func"),
    [
        ("forensics.migrations.0002_analysis_lease_and_sweep_schedule", "forensics.tasks.analyses_sweep"),
        ("reports.migrations.0002_report_lease_and_sweep_schedule", "reports.tasks.reports_sweep"),
    ],
)
def test_the_sweeps_are_scheduled_every_minute(db, migration, func):
    # The migration's own operation is run: another test file's transactional test on the same worker may have
    # flushed the rows migrations made, so the table alone does not say what a fresh install gets.
    Schedule.objects.filter(func=func).delete()
    [schedule] = [op for op in importlib.import_module(migration).Migration.operations if isinstance(op, RunPython)]

    schedule.code(django_apps, None)

    assert Schedule.objects.filter(func=func, schedule_type=Schedule.MINUTES, minutes=1, repeats=-1).exists()


def test_a_failure_is_recorded_with_the_installations_directories_named_not_spelled_out(settings, tmp_path):
    from cases.task_runs import failure_words

    data = tmp_path / "data"
    settings.DATA_DIR = data
    settings.KEYS_DIR = data / "keys"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {
            **settings.STORAGES["reports"],
            "OPTIONS": {**settings.STORAGES["reports"]["OPTIONS"], "location": data / "reports"},
        },
    }

    words = failure_words(FileNotFoundError(2, "No such file or directory", str(data / "reports" / "ab" / "cd")))
    other = failure_words(PermissionError(13, "Permission denied", str(data / "keys" / "master")))

    assert words == "FileNotFoundError: [Errno 2] No such file or directory: '<reports store>/ab/cd'"
    assert other == "PermissionError: [Errno 13] Permission denied: '<keys directory>/master'"
    assert failure_words(ValueError(f"bad value near {data}/x")) == "ValueError: bad value near <data directory>/x"
