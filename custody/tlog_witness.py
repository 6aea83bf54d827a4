"""The log's side of the C2SP witness protocol (c2sp.org/tlog-witness): submitting a checkpoint to a witness's
``add-checkpoint`` and reading its answer. Standard library only, no Django, like custody.notes.

The request body is ``old <size>\\n``, one base64 consistency-proof hash per line (RFC 6962, none from size 0),
an empty line, then the signed checkpoint note. The witness answers:

- 200 with one or more cosignature lines (c2sp.org/tlog-cosignature);
- 409 with ``text/x.tlog.size`` and its own latest cosigned size, when the old size is not that size (or, at the
  same size, the root differs): the log retries from the size the witness holds;
- 403 when no signature on the note verifies with a key the witness trusts for the origin, 404 when it does not
  know the origin, 422 when the consistency proof does not verify, 400 when the request is malformed.

The URL is an organisation administrator's, not the operator's: unless the operator allows it, the server refuses to
connect to an address that is not public (loopback, private, link-local such as cloud metadata, shared, reserved,
multicast), checked on the address it actually connects to, and follows no redirect and no proxy of the environment.
"""

import base64
import contextlib
import functools
import http.client
import ipaddress
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63  # the protocol's limit
MAX_RESPONSE_BYTES = 64 * 1024
STATUS_MEANINGS = {
    400: "the witness found the request malformed",
    403: "no signature on the checkpoint verifies with a key the witness trusts for this log",
    404: "the witness does not know this log's origin",
    422: "the witness found the consistency proof invalid",
}


class WitnessUnreachable(Exception):
    """The witness could not be reached, did not answer in time, or answered with a server error."""


class WitnessAddressRefused(WitnessUnreachable):
    """The witness's host is, or resolves to, an address this server does not connect to for an organisation."""


class WitnessRefused(Exception):
    """The witness answered, and refused the checkpoint (a 4xx other than a size conflict)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class WitnessSizeConflict(Exception):
    """409: the witness's latest cosigned checkpoint of the log is not of the old size the log sent."""

    def __init__(self, known_size: int | None):
        super().__init__(
            f"the witness holds a checkpoint of {known_size} entries"
            if known_size is not None
            else "the witness holds a checkpoint of the same size with another root"
        )
        self.known_size = known_size


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: Sequence[bytes]
    note: str

    def body(self) -> bytes:
        if len(self.proof) > MAX_PROOF_LINES:
            raise ValueError(f"a consistency proof of {len(self.proof)} hashes is longer than the protocol allows")
        if self.old_size == 0 and self.proof:
            raise ValueError("a submission from size 0 carries no consistency proof")
        lines = [f"old {self.old_size}", *(base64.b64encode(node).decode("ascii") for node in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.note).encode("utf-8")


def add_checkpoint_url(prefix: str) -> str:
    return prefix.rstrip("/") + "/add-checkpoint"


def address_refusal(address: str) -> str | None:
    """Why the server does not connect to this IP address for an organisation's witness; None for a public one."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.is_global and not parsed.is_multicast:
        return None
    return f"{address} is not a public address (loopback, private, link-local, shared, reserved or multicast)"


def host_refusal(host: str) -> str | None:
    """Why a URL's host is refused without resolving it: a non-public IP literal, or a name of the loopback."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} names this server itself"
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return None  # a name: its addresses are checked when the server connects
    return address_refusal(name)


class _Deadline:
    """Cuts the connection once the whole exchange has taken ``seconds``: a socket timeout bounds each read only, and
    a witness trickling its answer a byte at a time would otherwise hold the push, and the schedule that pushes to
    every organisation's witnesses in turn, for hours."""

    def __init__(self, seconds: float):
        self.seconds, self.expired = seconds, False
        self._at = time.monotonic() + seconds
        self._timers: list[threading.Timer] = []

    def watch(self, sock: socket.socket) -> None:
        timer = threading.Timer(max(0.0, self._at - time.monotonic()), self._cut, (sock,))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def _cut(self, sock: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _connect(address: tuple, timeout, source_address=None, *, deadline: _Deadline, allow_private: bool):
    """socket.create_connection, connecting (unless ``allow_private``) only to the public addresses the host
    resolves to, and handing the socket to the deadline."""
    host, port = address
    refusals, last_error = [], None
    for family, kind, protocol, _, target in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        if not allow_private and (refusal := address_refusal(target[0])):
            refusals.append(refusal)
            continue
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(target)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        deadline.watch(sock)
        return sock
    if last_error is not None:
        raise last_error
    raise WitnessAddressRefused(f"not contacted: {host} resolves only to refused addresses ({'; '.join(refusals)})")


def _connection_class(base: type, deadline: _Deadline, allow_private: bool) -> type:
    class Connection(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._create_connection = functools.partial(_connect, deadline=deadline, allow_private=allow_private)

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline, allow_private: bool):
        super().__init__()
        self.connection = _connection_class(http.client.HTTPConnection, deadline, allow_private)

    def http_open(self, req):
        return self.do_open(self.connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline, allow_private: bool):
        super().__init__()
        self.connection = _connection_class(http.client.HTTPSConnection, deadline, allow_private)

    def https_open(self, req):
        return self.do_open(self.connection, req, context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A witness answers add-checkpoint itself; a redirect (to wherever) is answered as the status it is."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def add_checkpoint(prefix: str, submission: Submission, *, timeout: float, allow_private_addresses: bool) -> str:
    """POST the submission to the witness at submission prefix ``prefix``; return its answer's signature lines
    (text, each line ending in a newline), not yet verified: that is the caller's, who knows the witness's key.
    The whole exchange takes at most ``timeout`` seconds; without ``allow_private_addresses``, only a public
    address of the witness's host is connected to."""
    url = add_checkpoint_url(prefix)
    host = urllib.parse.urlsplit(url).hostname or ""
    if not allow_private_addresses and (refusal := host_refusal(host)):
        raise WitnessAddressRefused(f"not contacted: {refusal}")
    request = urllib.request.Request(
        url,
        data=submission.body(),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    deadline = _Deadline(timeout)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect(),
        _HTTPHandler(deadline, allow_private_addresses),
        _HTTPSHandler(deadline, allow_private_addresses),
    )
    try:
        answer = _exchange(opener, request, timeout)
    except (WitnessUnreachable, WitnessRefused, WitnessSizeConflict):
        if deadline.expired:
            raise WitnessUnreachable(f"cannot be reached: timed out (no whole answer within {timeout:g} s)") from None
        raise
    finally:
        deadline.cancel()
    if deadline.expired:
        raise WitnessUnreachable(f"cannot be reached: timed out (no whole answer within {timeout:g} s)")
    return answer


def _exchange(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> str:
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as error:
        _raise_for(error)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise WitnessUnreachable(f"cannot be reached: {getattr(error, 'reason', error)}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise WitnessRefused(200, "answered with more than 64 KiB of cosignatures")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefused(200, "answered with a body that is not UTF-8 text") from None


def _raise_for(error: urllib.error.HTTPError):
    with error:
        body = error.read(MAX_RESPONSE_BYTES)
    if error.code == 409:
        content_type = (error.headers.get("Content-Type") or "").split(";")[0].strip()
        text = body.decode("ascii", "replace")
        if content_type == SIZE_CONTENT_TYPE:
            if not (text.endswith("\n") and text[:-1].isdigit() and (text[:-1] == "0" or text[0] != "0")):
                raise WitnessRefused(409, f"answered 409 with a size that is not a decimal line: {text[:40]!r}")
            raise WitnessSizeConflict(int(text[:-1]))
        raise WitnessSizeConflict(None)
    if 500 <= error.code < 600:
        raise WitnessUnreachable(f"answered {error.code} {error.reason}")
    meaning = STATUS_MEANINGS.get(error.code, f"answered {error.code} {error.reason}")
    detail = body[:200].decode("utf-8", "replace").strip()
    raise WitnessRefused(error.code, f"{meaning} ({error.code}{': ' + detail if detail else ''})")
