"""The client's address comes from the peer, or from X-Forwarded-For only as far as the configured number of
trusted proxies vouches for it; whatever a client writes in that header itself is never believed."""

import pytest
from django.test import RequestFactory

from cases.client_address import client_address

PEER = "10.0.0.2"


def _request(forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": PEER}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_spoofed_forwarded_for_is_ignored(settings):
    settings.EVIDENCEMEDIA_TRUSTED_PROXY_COUNT = 0

    assert client_address(_request("198.51.100.7")) == PEER


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # The client wrote its own entry first; the proxy appended the address it really saw
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        # Two proxies: the outer one saw the client, the inner one saw the outer proxy
        (2, "6.6.6.6,198.51.100.7, 10.0.0.9", "198.51.100.7"),
        (1, "6.6.6.6, 2001:db8::7", "2001:db8::7"),
    ],
    ids=["one-proxy", "one-proxy-spoofed-prefix", "two-proxies", "ipv6"],
)
def test_trusted_proxies_name_the_client_counting_from_the_right(settings, proxies, forwarded_for, client):
    settings.EVIDENCEMEDIA_TRUSTED_PROXY_COUNT = proxies

    assert client_address(_request(forwarded_for)) == client


@pytest.mark.parametrize("forwarded_for", [None, "", "not-an-address", "6.6.6.6, unknown"])
def test_a_missing_or_malformed_forwarded_entry_falls_back_to_the_peer(settings, forwarded_for):
    settings.EVIDENCEMEDIA_TRUSTED_PROXY_COUNT = 1

    assert client_address(_request(forwarded_for)) == PEER
