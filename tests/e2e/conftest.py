"""Browser fixtures: Playwright driving Debian's Chromium (never a downloaded browser) against pytest-django's
live server, with a screenshot helper writing to test-artifacts/screenshots/."""

import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from custody.triggers import triggers_install, triggers_remove

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


class _RequestsInFlight:
    """The live server's application, counting the requests it is handling, so a test can end only once none is:
    a page closed by the test may still have a request (an image, a live-status poll) in the server's thread."""

    def __init__(self, application):
        self.application = application
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            return self.application(environ, start_response)
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count == 0, timeout)


@pytest.fixture(autouse=True)
def _database_emptied_once_the_live_server_is_idle(request):
    """After a browser test, wait for the live server's requests to finish, then empty the database with the
    ledger's append-only triggers lifted (they refuse the flush that ends a transactional test) and put them back.

    Waiting comes first: a request still writing (a preview recording media.viewed) deadlocked with the flush on
    PostgreSQL and found the keys directory gone, and on SQLite's shared in-memory database it held a table lock
    that made lifting the triggers fail (and the next test find the last one's rows)."""
    if "transactional_db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so emptied after this fixture's end
    application = None
    if "live_server" in request.fixturenames:
        server = request.getfixturevalue("live_server").thread.httpd
        application = server.get_app()
        if not isinstance(application, _RequestsInFlight):
            application = _RequestsInFlight(application)
            server.set_app(application)
    yield
    if application is not None:
        assert application.wait_until_idle(timeout=60), "the live server was still handling a request after 60 s"
    triggers_remove(connection)
    call_command("flush", verbosity=0, interactive=False)
    triggers_install(connection)
