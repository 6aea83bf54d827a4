"""Accessibility in a real browser: axe-core finds no serious or critical violation on any main page (public,
member and error pages, with an analysed item so the evidence page is complete), every control is reachable with
the keyboard alone in a visible order, and the focused control is visibly marked."""

import io
import re

import pytest
from PIL import Image

from cases import services
from cases.demo_media import generated_mp4_create
from cases.upload import receive_path, receive_stream
from tests.e2e.conftest import PHONE
from tests.e2e.live_unit import log_in, unit  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}


def _analysed_item(unit):  # noqa: F811
    image = Image.new("RGB", (320, 240), (90, 140, 200))
    exif = image.getexif()
    exif[0x0131] = "Adobe Photoshop 25.0 (Windows)"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    received = receive_stream([buffer.getvalue()], original_name="photo.jpg", declared_type="image/jpeg")
    return services.evidence_receive(case=unit.case, received=received, actor=unit.member("investigator")).item


def _blocking_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}) {violation['help']}: "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def _member_pages(unit, item) -> list[str]:  # noqa: F811
    case = unit.case
    return [
        "/dashboard/",
        "/cases/",
        "/cases/new/",
        f"/cases/{case.public_id}/",
        f"/evidence/{item.public_id}/",
        "/custody/",
        f"/custody/cases/{case.public_id}/",
        "/organisation/settings/",
        "/organisation/members/",
        "/invitations/",
        "/account/",
        "/account/password/",
        "/reports/verify/",
        "/cases/00000000-0000-4000-8000-000000000000/",  # the 404 page
    ]


def test_no_serious_or_critical_axe_violation_on_any_main_page(browser, live_server, unit):  # noqa: F811
    item = _analysed_item(unit)
    # A token, so the account page shows its list with the rename and revoke forms.
    services.api_token_create(user=unit.member("admin"), name="evidence import script")
    found: list[str] = []
    # Signed out: the log-in, password reset and public verification pages.
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script; the policy is tested elsewhere
    page = context.new_page()
    for path in ("/login/", "/password-reset/", "/reports/verify/"):
        page.goto(f"{live_server.url}{path}")
        found += _blocking_violations(page)
    context.close()

    context, page = log_in(browser, live_server, unit.member("admin"), bypass_csp=True)
    for path in _member_pages(unit, item):
        page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        found += _blocking_violations(page)
        # Pages with toggles: open them, so what they hide is checked too.
        page.evaluate("() => document.querySelectorAll('details').forEach((details) => { details.open = true; })")
        found += _blocking_violations(page)
    context.close()

    # The 403 page, as an auditor would meet it.
    context, page = log_in(browser, live_server, unit.member("investigator"), bypass_csp=True)
    page.goto(f"{live_server.url}/custody/")
    found += _blocking_violations(page)
    context.close()

    assert found == []


def _focus_is_visible(page) -> bool:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return false;
            const style = getComputedStyle(el);
            const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
            return outlined || (style.boxShadow && style.boxShadow !== "none");
        }"""
    )


def test_keyboard_alone_reaches_every_control_with_a_visible_focus(browser, live_server, unit):  # noqa: F811
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    _analysed_item(unit)
    context, page = log_in(browser, live_server, unit.member("investigator"))
    page.goto(f"{live_server.url}/cases/{unit.case.public_id}/")

    # The first Tab lands on the skip link, which shows itself and leads to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0 and _focus_is_visible(page)

    reached, invisible = [], []
    for _ in range(200):
        page.keyboard.press("Tab")
        described = page.evaluate(
            "() => { const e = document.activeElement; if (e === document.body) return null;"
            " return e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 40) || e.tagName; }"
        )
        if described is None or described in reached[:1]:  # past the last control, or round again
            break
        reached.append(described)
        if not _focus_is_visible(page):
            invisible.append(described)
    assert {"files", "Upload", "Dashboard", "Cases", "photo.jpg"} <= set(reached)
    assert invisible == [], invisible

    # Upload with the keyboard alone: the file input opens the chooser on Enter or Space (the two keys that activate
    # it), the button sends. Under load a key press can land while the live status is refreshing the page, so each
    # key gets a focused attempt of its own.
    chooser = None
    for key in ("Enter", "Space", "Enter"):
        page.locator("#files").focus()
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press(key)
            break
        except PlaywrightTimeoutError:
            chooser = None
    assert chooser is not None, "no key opened the file chooser from the focused file input"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 200, 3)).save(buffer, "JPEG")
    chooser.value.set_files({"name": "keyboard.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()})
    page.get_by_role("button", name="Upload", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator(".uploads li.summary")).to_contain_text("1 of 1 file received.")
    expect(page.get_by_role("link", name="keyboard.jpg")).to_be_visible()

    # And from the list to an item with Enter.
    page.get_by_role("link", name="keyboard.jpg").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/evidence/"))
    context.close()


def test_no_serious_or_critical_axe_violation_at_phone_width_where_content_scrolls_sideways(
    browser,
    live_server,
    unit,  # noqa: F811
    tmp_path,
):
    # Given an analysed video, whose streams table is wider than a phone, and the dashboard, whose chart is too
    item = services.evidence_receive(
        case=unit.case, received=receive_path(generated_mp4_create(tmp_path)), actor=unit.member("investigator")
    ).item
    context, page = log_in(browser, live_server, unit.member("admin"), bypass_csp=True)
    page.set_viewport_size(PHONE)
    found: list[str] = []
    for path in ("/dashboard/", f"/evidence/{item.public_id}/"):
        page.goto(f"{live_server.url}{path}", wait_until="networkidle")
        found += _blocking_violations(page)
    context.close()

    # Then each region that scrolls sideways can be reached and scrolled with the keyboard
    assert found == []
