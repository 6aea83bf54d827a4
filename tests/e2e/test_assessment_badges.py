"""The assessment in a real browser: an AI-declared JPEG (IPTC digital source type, no C2PA), a Photoshop-edited
JPEG and a camera-like JPEG, analysed for real, show different badges on the case page, counts in the case list
and the dashboard, and their answers at the top of the evidence page; a report's status turns into its download
link on the page without a reload."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django_q.conf import Conf

from cases import services
from cases.demo_media import ai_declared_jpeg_create, camera_jpeg_create, edited_jpeg_create
from cases.roles import Role
from cases.upload import receive_path
from reports.models import Report, ReportStatus
from reports.services import report_request
from reports.tasks import report_generate

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


@pytest.fixture
def analysed_case(transactional_db, tmp_path):
    """A case holding the three files, each received and analysed (the test cluster runs tasks in-process)."""
    organisation = services.organisation_create(name="Unit East", slug="east", two_factor_required=False)
    investigator = get_user_model().objects.create_user("east-investigator", password=PASSWORD)
    services.membership_set(organisation=organisation, user=investigator, role=Role.INVESTIGATOR)
    case = services.case_create(organisation=organisation, title="Images sent to the victim", actor=investigator)
    camera = camera_jpeg_create(tmp_path)
    for path in (ai_declared_jpeg_create(tmp_path), edited_jpeg_create(tmp_path, camera), camera):
        services.evidence_receive(case=case, received=receive_path(path), actor=investigator)
    yield case, investigator


def _log_in(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return context, page


def _row(page, filename: str):
    return page.locator("#evidence-table tbody tr", has=page.get_by_role("link", name=filename, exact=True))


def test_badges_tell_ai_declared_edited_and_clean_files_apart(browser, live_server, analysed_case, screenshot):
    from playwright.sync_api import expect

    case, investigator = analysed_case
    context, page = _log_in(browser, live_server, investigator.username)

    # The case page: one badge for the AI-declared file, one for the edited one, none for the camera-like one
    page.goto(f"{live_server.url}/cases/{case.public_id}/")
    expect(_row(page, "firefly-output.jpg").locator(".badge")).to_have_text(["AI-declared"])
    expect(_row(page, "IMG_0412-edited.jpg").locator(".badge")).to_have_text(["Edited"])
    expect(_row(page, "IMG_0412.JPG").locator(".badge")).to_have_count(0)
    # All three carry the same amber verdict: the badges are what tells them apart
    expect(page.locator("#evidence-table .verdict-attention")).to_have_count(3)
    screenshot(page, "assessment-case-detail")

    # The case list counts them, and filters on them
    page.goto(f"{live_server.url}/cases/")
    row = page.locator("table.case-list tbody tr", has_text=case.reference)
    expect(row.locator(".badge")).to_have_text(["1 AI-declared", "1 edited"])
    page.get_by_label("Has an item assessed as").select_option("ai_declared")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.case-list tbody tr")).to_have_count(1)

    # The dashboard counts AI-declared and edited items and links to the cases holding them
    page.goto(f"{live_server.url}/dashboard/")
    counts = page.locator("#assessment-counts li")
    expect(counts.filter(has_text="AI-declared").locator(".count")).to_have_text("1")
    expect(counts.filter(has_text="Edited").locator(".count")).to_have_text("1")
    screenshot(page, "assessment-dashboard")

    # The evidence pages open with the four answers
    page.goto(f"{live_server.url}/cases/{case.public_id}/")
    page.get_by_role("link", name="firefly-output.jpg").click()
    answer = page.locator(".assessment-list li[data-aspect='synthetic_media']")
    expect(answer).to_have_class(re.compile("assess-alert"))
    expect(answer).to_contain_text("declared by Adobe Firefly")
    expect(page.locator(".key-facts")).to_contain_text("Adobe Firefly")
    screenshot(page, "assessment-evidence-ai")
    page.go_back()
    page.get_by_role("link", name="IMG_0412-edited.jpg").click()
    expect(page.locator(".assessment-list li[data-aspect='editing']")).to_contain_text(
        "evidence of editing software (Adobe Photoshop)"
    )
    page.go_back()
    page.get_by_role("link", name="IMG_0412.JPG").click()
    expect(page.locator(".assessment-list .assess-alert, .assessment-list .assess-caution")).to_have_count(0)
    expect(page.locator(".assessment-list li[data-aspect='metadata']")).to_contain_text("present")
    expect(page.locator(".key-facts")).to_contain_text("2024-03-14T21:07:33.42+01:00")
    context.close()


def test_report_status_turns_into_its_download_link_without_a_reload(browser, live_server, analysed_case, monkeypatch):
    from playwright.sync_api import expect

    case, investigator = analysed_case
    item = case.evidence.get(original_filename="IMG_0412.JPG")
    # Given a report that waits in the queue (the broker holds it; no worker runs it yet)
    monkeypatch.setattr(Conf, "SYNC", False)
    report = report_request(actor=investigator, case=case, evidence=item)
    assert Report.objects.get(pk=report.pk).status == ReportStatus.QUEUED
    context, page = _log_in(browser, live_server, investigator.username)
    page.goto(f"{live_server.url}/evidence/{item.public_id}/")
    waiting = page.locator(f"[data-live-report='{report.public_id}']")
    expect(waiting).to_contain_text("queued")
    expect(waiting.locator("[data-live-hint]")).to_be_hidden()  # no "reload the page" while it updates itself

    # When a worker generates it (in a thread of its own, as a worker would: the signer runs an event loop, and
    # Playwright's already runs in this one)
    outcome = []

    def work() -> None:
        try:
            outcome.append(report_generate(report.pk))
        finally:
            connections.close_all()  # as a worker closes its own: left open, it kept the test database from dropping

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=120)
    assert outcome == ["done"]

    # Then the page offers the download by itself, under the case reference and the file's name
    link = page.get_by_role("link", name="Report ready: download the signed PDF")
    expect(link).to_be_visible(timeout=20_000)
    with page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == f"{case.reference}-IMG_0412.JPG-report.pdf"
    context.close()
