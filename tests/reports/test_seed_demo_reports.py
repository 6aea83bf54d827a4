"""`seed_demo` leaves every demo item with a signed report, as a new user would expect, and only once."""

import io

from django.core.files.storage import storages
from django.core.management import call_command

from cases.models import EvidenceItem
from custody.models import CustodyEvent
from reports.models import Report
from reports.verification import report_verify_file


def test_seed_demo_generates_one_genuine_report_per_demo_item(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()

    call_command("seed_demo", stdout=io.StringIO())
    reports = {report.evidence_id: report for report in Report.objects.all()}
    call_command("seed_demo", stdout=io.StringIO())

    items = EvidenceItem.objects.all()
    assert items.count() == 6
    assert set(reports) == {item.pk for item in items}
    assert Report.objects.count() == 6  # the second run added none
    assert all(report.status == "done" and report.evidence.verdict for report in reports.values())
    assert CustodyEvent.objects.filter(action="report.generated").count() == 6
    some = next(iter(reports.values()))
    with storages["reports"].open(some.storage_key, "rb") as stored:
        assert report_verify_file(stored).genuine
