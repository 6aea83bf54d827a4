"""Regenerate screenshots of the main pages: a throwaway demo site (its own data directory, SQLite database, keys
and `seed_demo` data) served by `runserver` on a free local port, walked by Debian's Chromium at laptop and phone
width. The pictures are written outside the repository:

    .venv/bin/python scripts/screenshots.py [OUTPUT_DIR]

OUTPUT_DIR defaults to `evidencemedia-screenshots` in the system's temporary directory. Nothing of the demo site is
kept; only the PNG files are.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
WIDTHS = {"laptop": (1280, 900), "phone": (390, 844)}
# (file name, path, who is logged in); the paths of the first case and item are filled in once the site runs.
PAGES = [
    ("login", "/login/", None),
    ("verify-report", "/reports/verify/", None),
    ("dashboard", "/dashboard/", "demo-supervisor"),
    ("case-list", "/cases/", "demo-supervisor"),
    ("case-detail", "{case}", "demo-supervisor"),
    ("evidence-detail", "{evidence}", "demo-supervisor"),
    ("custody-audit", "/custody/", "demo-supervisor"),
    ("custody-case", "/custody/cases/{case_id}/", "demo-supervisor"),
    ("members", "/organisation/members/", "demo-admin"),
    ("organisation-settings", "/organisation/settings/", "demo-admin"),
    ("account", "/account/", "demo-admin"),
    ("two-factor-setup", "/account/two-factor/", "demo-admin"),
    ("invitations", "/invitations/", "demo-admin"),
    ("not-found", "/cases/00000000-0000-4000-8000-000000000000/", "demo-admin"),
    ("forbidden", "/organisation/members/", "demo-auditor"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_until_served(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"runserver stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own local server)
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"{url} did not answer within {seconds:.0f} s")


def demo_passwords(data_dir: Path) -> dict[str, str]:
    """The demo logins `seed_demo` wrote to its logins file (username, password, ...)."""
    passwords = {}
    for line in (data_dir / "demo-logins.txt").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith("demo-"):
            passwords[fields[0]] = fields[1]
    return passwords


def shoot(base_url: str, passwords: dict[str, str], output: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        contexts = {}

        def page_for(username):
            if username not in contexts:
                context = browser.new_context()
                page = context.new_page()
                if username:
                    page.goto(f"{base_url}/login/")
                    page.get_by_label("Username").fill(username)
                    page.get_by_label("Password").fill(passwords[username])
                    page.get_by_role("button", name=re.compile("log in", re.I)).click()
                    page.wait_for_url(re.compile("/dashboard/"))
                contexts[username] = page
            return contexts[username]

        supervisor = page_for("demo-supervisor")
        supervisor.goto(f"{base_url}/cases/")
        case_url = supervisor.locator("table a[href^='/cases/']").first.get_attribute("href")
        supervisor.goto(f"{base_url}{case_url}")
        evidence_url = supervisor.locator("#evidence-table a[href^='/evidence/']").first.get_attribute("href")
        case_id = case_url.strip("/").split("/")[-1]
        for name, path, username in PAGES:
            page = page_for(username)
            page.goto(base_url + path.format(case=case_url, evidence=evidence_url, case_id=case_id))
            page.wait_for_load_state("networkidle")
            for label, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                target = output / f"{name}-{label}.png"
                page.screenshot(path=target, full_page=True)
                written.append(target)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=Path(tempfile.gettempdir()) / "evidencemedia-screenshots",
        help="folder for the PNG files (default: %(default)s)",
    )
    options = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: install Debian's chromium package (scripts/setup.sh does)")
    output = options.output.resolve()
    if output == ROOT or ROOT in output.parents:
        sys.exit("Write the screenshots outside the repository.")
    output.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="evidencemedia-screenshots-site-") as data_dir:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.local",
            "EVIDENCEMEDIA_DATA_DIR": data_dir,
            "EVIDENCEMEDIA_DEMO_URL": f"{base_url}/",
        }
        env.pop("DATABASE_URL", None)  # always the throwaway SQLite database in the data directory
        for command in (["migrate", "--no-input", "-v0"], ["custody_keygen"], ["keys", "init"], ["seed_demo"]):
            manage(env, *command)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_served(f"{base_url}/login/", server)
            written = shoot(base_url, demo_passwords(Path(data_dir)), output)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for path in written:
        print(path)
    print(f"{len(written)} screenshots in {output}")


if __name__ == "__main__":
    main()
