"""Layout in a real browser: no page of an administrator (the longest menu) scrolls sideways on a phone, a table
wider than the phone keeps its wrapping columns readable, the streams table of a video gives the encoder strings the
room, and the form fields of the members page are as wide as one another."""

import pytest

from cases import services
from cases.demo_media import camera_jpeg_create, generated_mp4_create
from cases.upload import receive_path
from forensics.models import Analysis
from tests.e2e.conftest import PHONE
from tests.e2e.live_unit import log_in, unit  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_no_page_scrolls_sideways_on_a_phone_for_an_administrator(browser, live_server, unit):  # noqa: F811
    # Given an administrator (five menu links) on a phone, on pages whose tables have a visually hidden header
    context, page = log_in(browser, live_server, unit.member("admin"))
    page.set_viewport_size(PHONE)
    for path in ("/dashboard/", "/cases/", "/organisation/members/", "/account/", "/invitations/"):
        page.goto(f"{live_server.url}{path}")
        # Then the page is as wide as the phone: the menu wraps and wide tables scroll inside their frame
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    context.close()


def test_wrapping_columns_keep_their_width_in_a_table_wider_than_a_phone(browser, live_server, unit):  # noqa: F811
    context, page = log_in(browser, live_server, unit.member("admin"))
    page.set_viewport_size(PHONE)
    # The case title and the member's username may break anywhere, but not down to a letter a line
    page.goto(f"{live_server.url}/cases/")
    assert page.locator("table.case-list td.wrap").first.bounding_box()["width"] >= 120
    page.goto(f"{live_server.url}/organisation/members/")
    assert page.locator("td.wrap", has_text="east-investigator").bounding_box()["width"] >= 120
    context.close()


def test_the_e_mail_field_is_as_wide_as_the_other_fields_of_its_form(browser, live_server, unit):  # noqa: F811
    context, page = log_in(browser, live_server, unit.member("admin"))
    page.goto(f"{live_server.url}/organisation/members/")
    form = page.locator("form", has=page.locator("input[type=email]"))
    email = form.locator("input[type=email]").bounding_box()["width"]
    password = form.locator("input[type=password]").bounding_box()["width"]
    assert email == password
    context.close()


def test_the_encoder_strings_of_a_video_get_the_widest_column(browser, live_server, unit, tmp_path):  # noqa: F811
    # Given an analysed video, whose encoder (x264) writes a long string of its options into the bitstream
    item = services.evidence_receive(
        case=unit.case, received=receive_path(generated_mp4_create(tmp_path)), actor=unit.member("investigator")
    ).item
    context, page = log_in(browser, live_server, unit.member("investigator"))
    page.goto(f"{live_server.url}/evidence/{item.public_id}/")
    row = page.locator(".streams tbody tr").first
    widths = [cell.bounding_box()["width"] for cell in row.locator("th, td").all()]
    # Then that string has the widest column, rather than the stream's number taking 30% of the table
    assert "x264" in row.locator("td").last.inner_text()
    assert widths[-1] == max(widths), widths
    context.close()


def test_the_verification_answer_fits_a_phone(browser, live_server, tmp_path, transactional_db):
    # Given anyone on a phone who uploads a file that is not a report
    not_a_report = tmp_path / "report.pdf"
    not_a_report.write_bytes(b"not a PDF at all")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/reports/verify/")
    page.set_input_files("input[type=file]", str(not_a_report))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()

    # Then the answer, with the uploaded file's 64-digit SHA-256, wraps within the phone's width
    assert "Not a report" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_the_two_factor_qr_code_scales_down_whole_on_a_phone(browser, live_server, unit):  # noqa: F811
    context, page = log_in(browser, live_server, unit.member("admin"))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/account/two-factor/")
    code = page.locator(".qr svg")
    natural = int(code.get_attribute("width"))
    box = code.bounding_box()
    drawn = code.locator("g").bounding_box()  # the modules, as drawn (overflow included)

    # The code is narrower than its natural size there, and what is drawn shrinks with it: the whole code, smaller,
    # not its top left corner cut out of it
    assert box["width"] < natural
    assert drawn["width"] <= box["width"] + 1 and drawn["height"] <= box["height"] + 1
    context.close()


def test_evidence_and_case_pages_do_not_scroll_sideways_on_a_phone(browser, live_server, unit, tmp_path):  # noqa: F811
    # Given an analysed video and an analysed photo (its analysis made under an older rule set, so that the page
    # offers to analyse it again), with their 64-digit hashes, findings, metadata and custody timelines
    investigator = unit.member("investigator")
    video, photo = (
        services.evidence_receive(case=unit.case, received=receive_path(made), actor=investigator).item
        for made in (generated_mp4_create(tmp_path), camera_jpeg_create(tmp_path))
    )
    Analysis.objects.filter(evidence=photo).update(ruleset_version="2025.1+dp.00000000")
    context, page = log_in(browser, live_server, investigator)
    page.set_viewport_size(PHONE)
    for path in (f"/evidence/{video.public_id}/", f"/evidence/{photo.public_id}/", f"/cases/{unit.case.public_id}/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    # and the photo's page offers to analyse it again
    page.goto(f"{live_server.url}/evidence/{photo.public_id}/")
    assert page.get_by_role("button", name="Analyse again with the current rule set").is_visible()
    context.close()
