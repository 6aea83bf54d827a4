"""The log's side of the C2SP witness protocol (c2sp.org/tlog-witness): submitting a checkpoint to a witness's
``add-checkpoint`` and reading its answer. Standard library only, no Django, like custody.notes.

The request body is ``old <size>\\n``, one base64 consistency-proof hash per line (RFC 6962, none from size 0),
an empty line, then the signed checkpoint note. The witness answers:

- 200 with one or more cosignature lines (c2sp.org/tlog-cosignature);
- 409 with ``text/x.tlog.size`` and its own latest cosigned size, when the old size is not that size (or, at the
  same size, the root differs): the log retries from the size the witness holds;
- 403 when no signature on the note verifies with a key the witness trusts for the origin, 404 when it does not
  know the origin, 422 when the consistency proof does not verify, 400 when the request is malformed.
"""

import base64
import urllib.error
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


def add_checkpoint(prefix: str, submission: Submission, *, timeout: float) -> str:
    """POST the submission to the witness at submission prefix ``prefix``; return its answer's signature lines
    (text, each line ending in a newline), not yet verified: that is the caller's, who knows the witness's key."""
    request = urllib.request.Request(
        add_checkpoint_url(prefix),
        data=submission.body(),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the URL is http(s), checked when named)
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
