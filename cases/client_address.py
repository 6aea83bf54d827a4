"""The one answer to "which address did this request come from?", used by the log-in lock-out and every throttle.

Behind N trusted proxies each proxy appends the address it saw to X-Forwarded-For, so the client is the Nth entry
from the right; everything left of it was written by the client and is never believed. With no trusted proxy
(the default) the header is ignored and the peer address is the client.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.EVIDENCEMEDIA_TRUSTED_PROXY_COUNT
    if not proxies:
        return peer
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    # Fewer entries than proxies: the leftmost was still written by a proxy (a client adding entries makes more).
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # A proxy that writes "unknown" or nothing vouches for no one; the peer is the best address there is.
        return peer
