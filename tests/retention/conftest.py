"""Fixtures for retention, fixity and export: a controllable clock, items received and analysed as the task
cluster would, and reports generated through their task."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import EvidenceItem
from reports.models import Report
from reports.services import report_request
from tests.conftest import jpeg_bytes, received


class Clock:
    """django.utils.timezone.now, frozen at a moment that the test moves forward."""

    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def analysed(django_capture_on_commit_callbacks):
    """Receive bytes into a case and run the analysis, as the cluster does once the upload commits."""

    def receive(case, actor, data: bytes | None = None, colour=(200, 30, 30)) -> EvidenceItem:
        with django_capture_on_commit_callbacks(execute=True):
            receipt = services.evidence_receive(
                case=case, received=received(data or jpeg_bytes(colour=colour)), actor=actor
            )
        item = EvidenceItem.objects.get(pk=receipt.item.pk)
        assert item.analysis_status == "done"
        return item

    return receive


@pytest.fixture
def generate(django_capture_on_commit_callbacks):
    """Request a report and run its task, as the cluster does once the request commits."""

    def run(actor, case, evidence=None) -> Report:
        with django_capture_on_commit_callbacks(execute=True):
            report = report_request(actor=actor, case=case, evidence=evidence)
        report = Report.objects.get(pk=report.pk)
        assert report.status == "done", report.error
        return report

    return run
