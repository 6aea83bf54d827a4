"""The upload list in a real browser: every file shows its state while the batch goes (queued, uploading,
analysing, done, refused); leaving mid-batch asks first, and the files that were not sent are named when the case
page is opened again; a copy of earlier bytes names the earlier file and case."""

import io
import re

import pytest
from django.test import override_settings
from PIL import Image

from cases import services
from cases.upload import receive_stream
from tests.e2e.live_unit import log_in, unit  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def _jpeg(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _file(name: str, data: bytes, mime: str = "image/jpeg") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


class HeldUploads:
    """Holds the upload requests to the API until released, so a test can look at the list mid-batch."""

    def __init__(self, page):
        self.held = []
        page.route(re.compile(r"/api/v1/cases/.*/evidence/$"), lambda route: self.held.append(route))

    def wait(self, page, count: int) -> None:
        # The route callback runs while Playwright waits, so wait in Playwright rather than sleep.
        while len(self.held) < count:
            page.wait_for_timeout(50)

    def release(self) -> None:
        while self.held:
            self.held.pop(0).continue_()


@override_settings(EVIDENCE_MAX_UPLOAD_BYTES=200_000)
def test_each_file_shows_its_state_and_a_copy_names_the_earlier_file(browser, live_server, unit):  # noqa: F811
    from playwright.sync_api import expect

    earlier = services.evidence_receive(
        case=unit.case,
        received=receive_stream([_jpeg((1, 2, 3))], original_name="first.jpg", declared_type="image/jpeg"),
        actor=unit.member("investigator"),
    ).item
    context, page = log_in(browser, live_server, unit.member("investigator"))
    page.goto(f"{live_server.url}/cases/{unit.case.public_id}/")
    held = HeldUploads(page)

    page.set_input_files(
        "#files",
        [
            _file("copy.jpg", _jpeg((1, 2, 3))),
            _file("notes.jpg", b"plain text, not a picture\n" * 20),
            _file("huge.jpg", b"\xff" * 300_000),
        ],
    )
    # Keyboard only: focus the button and press Enter.
    page.get_by_role("button", name="Upload", exact=True).focus()
    page.keyboard.press("Enter")
    held.wait(page, 1)

    rows = page.locator(".uploads li[data-state]")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-state", "uploading")
    expect(rows.nth(0).locator(".state")).to_have_text("Uploading")
    expect(rows.nth(1)).to_have_attribute("data-state", "queued")
    expect(rows.nth(1).locator(".state")).to_have_text("Queued")
    expect(rows.nth(2)).to_have_attribute("data-state", "queued")
    held.release()
    held.wait(page, 1)
    held.release()

    expect(page.locator(".uploads li.summary")).to_have_text(
        "1 of 3 files received. Verdicts appear in the table when each analysis finishes."
    )
    # The copy: received, analysed (analyses run at once in tests, so it is done or shown analysing until the
    # live status reports), and named by the earlier file and case.
    expect(rows.nth(0)).to_have_attribute("data-state", re.compile("analysing|done"))
    expect(rows.nth(0)).to_contain_text(
        f"Identical bytes were already received as “first.jpg” in case {unit.case.reference}"
    )
    expect(rows.nth(0)).not_to_contain_text(str(earlier.public_id))
    expect(rows.nth(0)).to_have_attribute("data-state", "done", timeout=30_000)
    expect(rows.nth(0).locator(".state")).to_have_text("Done")
    expect(rows.nth(1)).to_have_attribute("data-state", "refused")
    expect(rows.nth(1)).to_contain_text("Not received:")
    expect(rows.nth(2)).to_have_attribute("data-state", "refused")
    expect(rows.nth(2)).to_contain_text("Not sent:")
    context.close()


def test_leaving_mid_batch_asks_first_and_names_the_files_not_sent(browser, live_server, unit):  # noqa: F811
    from playwright.sync_api import expect

    context, page = log_in(browser, live_server, unit.member("investigator"))
    case_url = f"{live_server.url}/cases/{unit.case.public_id}/"
    page.goto(case_url)
    held = HeldUploads(page)
    page.set_input_files("#files", [_file(f"photo-{n}.jpg", _jpeg((n, 0, 0))) for n in range(3)])
    page.get_by_role("button", name="Upload", exact=True).click()
    held.wait(page, 1)

    # The reader clicks away, is asked, and stays: the list says what leaving would drop.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(".uploads li.leaving")).to_contain_text(
        "If you leave this page now, these files will not be sent: photo-0.jpg, photo-1.jpg, photo-2.jpg."
    )
    assert dialogs == ["beforeunload"]
    assert page.url == case_url

    # …then leaves anyway, and comes back to the case: the files not sent are named.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(re.compile("/dashboard/"))
    page.goto(case_url)
    expect(page.locator(".uploads li.unsent").first).to_contain_text(
        "they were not received: photo-1.jpg, photo-2.jpg."
    )
    expect(page.locator(".uploads li.unsent").nth(1)).to_contain_text("being sent; check the evidence table")
    expect(page.locator(".uploads li.unsent").nth(1)).to_contain_text("photo-0.jpg")
    # Said once: the next visit is quiet.
    page.reload()
    expect(page.locator(".uploads li.unsent")).to_have_count(0)
    context.close()
