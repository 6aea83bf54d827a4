"""Browser fixtures: Playwright driving Debian's Chromium (never a downloaded browser) against pytest-django's
live server, with a screenshot helper writing to test-artifacts/screenshots/."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package (scripts/setup.sh does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements/dev.txt)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    # Only for these browser tests: the check is restored for whatever runs next in this worker.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot of `page` at laptop and phone width as <name>-1280.png and <name>-390.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        for size in (LAPTOP, PHONE):
            page.set_viewport_size(size)
            page.screenshot(path=SCREENSHOTS / f"{name}-{size['width']}.png", full_page=True)
        page.set_viewport_size(LAPTOP)

    return take
