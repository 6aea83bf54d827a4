"""The workflows of the three kinds of user, in a real browser against a live server: an investigator creates a
case, uploads a JPEG (dropped) and an MP4 (chosen), watches the analyses finish, reads the findings and downloads a
signed report; a supervisor signs off the review; an outsider sees nothing of it."""

import base64
import io
import re
from fractions import Fraction
from pathlib import Path

import av
import pytest
from django.contrib.auth import get_user_model
from PIL import Image, ImageDraw

from cases import services
from cases.models import Case
from cases.roles import Role
from custody.models import CustodyEvent, ReviewSignOff

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def _jpeg() -> bytes:
    image = Image.new("RGB", (800, 600), (90, 140, 200))
    ImageDraw.Draw(image).ellipse((200, 150, 600, 450), fill=(220, 60, 40))
    exif = image.getexif()
    exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"  # Software: the analysis has a finding to explain
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def _mp4(directory: Path) -> Path:
    path = directory / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(25):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (40, 10 * index, 120)))
            frame.pts, frame.time_base = index, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def people(transactional_db):
    organisation = services.organisation_create(name="Unit North", slug="north", two_factor_required=False)
    users = {}
    for role in (Role.INVESTIGATOR, Role.SUPERVISOR):
        users[role.value] = get_user_model().objects.create_user(f"north-{role.value}", password=PASSWORD)
        services.membership_set(organisation=organisation, user=users[role.value], role=role)
    users["outsider"] = get_user_model().objects.create_user("outsider", password=PASSWORD)
    yield users


def _log_in(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state()
    return context, page


def _drop(page, selector: str, name: str, mime: str, data: bytes) -> None:
    """Drop a file on an element as a browser does: a drop event whose DataTransfer holds the file. The upload
    script is deferred: the drop waits until it has enhanced the zone (a person cannot drop earlier either), or the
    event would reach a page without its listeners."""
    page.wait_for_selector(f"{selector}.enhanced")
    page.evaluate(
        """([selector, name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const zone = document.querySelector(selector);
            zone.dispatchEvent(new DragEvent("dragenter", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [selector, name, mime, base64.b64encode(data).decode()],
    )


def test_investigator_supervisor_and_outsider(browser, live_server, people, screenshot, tmp_path):
    from playwright.sync_api import expect  # installed whenever the browser fixture did not skip

    # The investigator lands on the dashboard and creates a case
    context, page = _log_in(browser, live_server, people["investigator"].username)
    assert page.url.endswith("/dashboard/")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_role("link", name="New case").click()
    page.get_by_label("Title").fill("Threats by text message")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_selector("text=Case EM-")
    case = Case.objects.get(title="Threats by text message")

    # …drops a JPEG, chooses an MP4, and uploads both with a progress bar each
    _drop(page, "[data-dropzone]", "photo.jpg", "image/jpeg", _jpeg())
    page.wait_for_selector("li[data-waiting]")
    page.set_input_files("#files", str(_mp4(tmp_path)))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector(".uploads li.summary")
    assert page.locator(".uploads li.received").count() == 2
    assert page.locator(".uploads li.summary").inner_text() == (
        "2 of 2 files received. Verdicts appear in the table when each analysis finishes."
    )

    # …watches both analyses finish (the live status turns into verdicts without a reload)
    # Waits are locator-based or functions: the Content-Security-Policy refuses the eval a string predicate needs.
    expect(page.locator("#evidence-table .verdict")).to_have_count(2, timeout=30_000)
    page.reload()
    assert page.locator("#evidence-table tbody tr").count() == 2
    assert page.locator("#evidence-table .verdict-attention").count() >= 1
    screenshot(page, "case-detail")

    # …opens the findings of the photo: verdict explained, preview, hashes to copy, filterable metadata
    page.get_by_role("link", name="photo.jpg").click()
    page.wait_for_selector(".verdict-banner")
    assert "Photoshop" in page.locator(".findings").inner_text()
    page.wait_for_function("() => document.querySelector('img[data-preview]').naturalWidth > 0")
    page.get_by_role("button", name="Copy the SHA-256").click()
    expect(page.locator("#copy-status")).to_have_text("SHA-256 copied")
    assert page.evaluate("navigator.clipboard.readText()") == case.evidence.get(original_filename="photo.jpg").sha256
    page.locator("details.metadata-group").first.wait_for()
    page.get_by_label("Filter tags").fill("Photoshop")
    expect(page.locator("#metadata-filter-count")).to_contain_text("match")
    visible = page.locator("table.metadata tbody tr:visible")
    assert visible.count() >= 1 and all("Photoshop" in row for row in visible.all_inner_texts())
    page.get_by_label("Filter tags").fill("")
    assert page.locator("ul.tree li").count() > 3  # the JPEG segment list
    assert page.get_by_role("heading", name="Content credentials (C2PA)").is_visible()
    screenshot(page, "evidence-detail")

    # …generates the signed report and downloads it
    page.get_by_role("button", name="Generate signed PDF report").click()
    page.wait_for_selector(".report-list a")
    with page.expect_download() as download_info:
        page.locator(".report-list a").first.click()
    download = download_info.value
    assert download.suggested_filename == f"{case.reference}-photo.jpg-report.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # …and the dashboard now shows the verdicts, the chart and the activity
    page.get_by_role("link", name="Dashboard").click()
    assert page.locator("svg.chart rect.series-attention").count() >= 1
    assert "Report generated" in page.locator("#activity-heading + ul").inner_text()
    screenshot(page, "dashboard")
    page.get_by_role("link", name="Cases", exact=True).click()
    screenshot(page, "case-list")
    context.close()

    # The supervisor puts the case under review and signs the review off on its custody page
    context, page = _log_in(browser, live_server, people["supervisor"].username)
    page.goto(f"{live_server.url}/cases/{case.public_id}/")
    page.get_by_label("Status").select_option("under_review")
    page.get_by_role("button", name="Change status").click()
    page.get_by_role("link", name="Custody timeline").click()
    page.get_by_label("Comment").fill("Hashes, findings and the custody chain checked against the report.")
    page.get_by_role("button", name="Sign off as reviewed").click()
    page.wait_for_selector("text=signed off")
    screenshot(page, "custody-case")
    context.close()
    assert ReviewSignOff.objects.filter(case=case, signed_by=people["supervisor"]).exists()

    # The outsider sees no organisation, and the case's address tells them nothing
    context, page = _log_in(browser, live_server, people["outsider"].username)
    assert "You are not a member of any organisation" in page.content()
    response = page.goto(f"{live_server.url}/cases/{case.public_id}/")
    assert response.status == 403
    assert case.reference not in page.content() and "Threats" not in page.content()
    screenshot(page, "outsider")
    context.close()
    assert not CustodyEvent.objects.filter(actor=people["outsider"]).exists()
