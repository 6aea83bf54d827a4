"""Every response carries a Content-Security-Policy that allows no inline script or style, and a Permissions-Policy;
the pages themselves hold no inline script, style block, style attribute or event handler that it would block."""

from html.parser import HTMLParser

import pytest

from cases import services
from tests.conftest import PASSWORD

# Script elements that only carry data (json_script) are not executed, so CSP does not apply to them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block: inline scripts, style blocks, style attributes
    and on* event-handler attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") not in DATA_SCRIPT_TYPES:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f'{name}="…" on <{tag}>' for name in attributes if name == "style" or name.startswith("on")]


def _inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def _assert_policies(response) -> None:
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


@pytest.fixture
def item_page_urls(client, alpha, alpha_item):
    services.api_token_create(user=alpha.investigator, name="laptop")  # the members page lists it, to revoke
    client.login(username=alpha.admin.username, password=PASSWORD)
    case = alpha.case.public_id
    return [
        "/dashboard/",
        "/cases/",
        "/cases/new/",
        f"/cases/{case}/",
        f"/evidence/{alpha_item.public_id}/",
        "/organisation/members/",
        "/organisation/settings/",
        "/custody/",
        f"/custody/cases/{case}/",
        "/reports/verify/",
    ]


def test_member_pages_carry_both_policies_and_no_inline_code(client, item_page_urls):
    for url in item_page_urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_policies(response)
        assert _inline_code(response.content.decode()) == [], url


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/reports/verify/", "/admin/login/", "/api/docs/"])
def test_public_pages_carry_both_policies_and_no_inline_code(client, url):
    response = client.get(url)

    assert response.status_code == 200
    _assert_policies(response)
    assert _inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_redoc_alone_may_apply_inline_style_and_still_runs_no_inline_script(client):
    # Redoc styles itself with <style> elements it creates at run time; the exception is this page's alone.
    response = client.get("/api/redoc/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self' 'unsafe-inline'" in policy
    assert _inline_code(response.content.decode()) == []
    assert "unsafe-inline" not in client.get("/api/docs/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_api_answers_and_errors_carry_both_policies(client):
    for response in (client.get("/api/v1/custody/keys/"), client.get("/api/v1/cases/"), client.get("/no-such-page/")):
        _assert_policies(response)
