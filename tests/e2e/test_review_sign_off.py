"""A supervisor signs off a case under review on its custody page, in a real browser: the form is first, the case
becomes reviewed and leaves the dashboard's review queue and the audit's, and the ledger's new entry reads as a
sentence whose signed entry opens behind its toggle."""

import pytest

from cases import services
from custody.models import CustodyEvent
from tests.e2e.live_unit import log_in, unit  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_supervisor_sign_off_leaves_the_review_queue(browser, live_server, unit):  # noqa: F811
    from playwright.sync_api import expect

    case = unit.case
    services.case_status_change(case=case, status="under_review", actor=unit.member("supervisor"))
    context, page = log_in(browser, live_server, unit.member("supervisor"))

    queue = page.locator("section[aria-labelledby=review-heading]")
    expect(queue).to_contain_text(case.reference)
    queue.get_by_role("link", name="custody and sign-off").click()
    page.get_by_label("Review comment").fill("Hashes, findings and custody checked against the report.")
    page.get_by_role("button", name="Sign off as reviewed").click()

    expect(page.locator(".messages")).to_contain_text(f"Review of {case.reference} signed off")
    expect(page.locator(".heading .status")).to_have_text("Reviewed")
    expect(page.get_by_role("button", name="Sign off as reviewed")).to_have_count(0)
    entry = page.locator("li.entry").filter(has_text="signed off the review of the case")
    expect(entry).to_contain_text("east-supervisor signed off the review of the case.")
    expect(entry.locator("pre")).to_be_hidden()
    entry.locator("summary").click()
    expect(entry.locator("pre")).to_contain_text('"action": "review.signed_off"')

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("section[aria-labelledby=review-heading]")).to_contain_text("No case is under review.")
    page.get_by_role("link", name="Custody audit").click()
    awaiting = page.locator("section[aria-labelledby=review-heading] table")
    expect(awaiting).to_contain_text("No case is under review.")
    context.close()
    case.refresh_from_db()
    assert case.status == "reviewed"
    assert CustodyEvent.objects.filter(case=case, action="review.signed_off", actor=unit.member("supervisor")).exists()
