"""A small C2SP tlog-witness (c2sp.org/tlog-witness) on the loopback interface, for tests of the log's pushes.

It serves ``POST /add-checkpoint`` as the protocol says: it checks the log's Ed25519 note signature with the key it
trusts for the origin (404 unknown origin, 403 no valid signature), the old size against the size it last cosigned
(409 with ``text/x.tlog.size``), the RFC 6962 consistency proof from its stored tree (422), then stores the new
tree and answers with its cosignature (c2sp.org/tlog-cosignature). The signed-note and cosignature encodings are
written out here from the specifications rather than taken from custody.notes, so that the two check each other;
the proof is checked with custody.merkle (itself tested against the published vectors).

``misbehave = "bad cosignature"`` makes it answer with a cosignature over other bytes, ``"hang"`` makes it
answer only after three seconds, ``"trickle"`` sends its answer a byte every 0.4 seconds for about five seconds;
``stop()`` takes it off the network (connections refused) and ``start()`` brings it back on the same port.
"""

import base64
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custody import merkle

EM_DASH = "\u2014"


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class LocalWitness:
    def __init__(self, name: str, trusted_logs: dict[str, bytes]):
        """``trusted_logs``: origin -> the raw Ed25519 public key of the log's note signatures."""
        self.name = name
        self.key = Ed25519PrivateKey.generate()
        self.trusted_logs = trusted_logs
        self.state: dict[str, tuple[int, bytes]] = {}  # origin -> (size, root) of the latest cosigned checkpoint
        self.requests: list[tuple[str, int, int]] = []  # (origin or "", old size, answer status)
        self.misbehave = ""
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def vkey(self) -> str:
        public = raw_public(self.key)
        encoded = base64.b64encode(b"\x04" + public).decode()
        return f"{self.name}+{key_id(self.name, 0x04, public).hex()}+{encoded}"

    def start(self) -> None:
        witness = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if witness.misbehave == "hang":
                    time.sleep(3)  # longer than the test's timeout: the log gives up first
                if witness.misbehave == "trickle":
                    self._trickle()
                    return
                if self.path != "/add-checkpoint":
                    status, content_type, answer = 404, "text/plain", b"not found\n"
                else:
                    status, content_type, answer = witness.add_checkpoint(body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _trickle(self):
                # Each byte well within the test's timeout, the whole answer well beyond it.
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "12")
                self.end_headers()
                try:
                    for _ in range(12):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.4)
                except OSError:
                    pass  # the log gave up and cut the connection

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        origin, old_size, (status, content_type, answer) = "", -1, (400, "text/plain", b"malformed request\n")
        try:
            origin, old_size, proof, text, signatures = _request_parse(body.decode("utf-8"))
        except ValueError:
            pass
        else:
            with self.lock:  # the check of the old size and the update of the state are one step
                status, content_type, answer = self._add(origin, old_size, proof, text, signatures)
        self.requests.append((origin, old_size, status))
        return status, content_type, answer

    def _add(self, origin, old_size, proof, text, signatures) -> tuple[int, str, bytes]:
        log_key = self.trusted_logs.get(origin)
        if log_key is None:
            return 404, "text/plain", b"unknown log\n"
        wanted = key_id(origin, 0x01, log_key)
        if not any(
            name == origin and signature[:4] == wanted and _valid(log_key, signature[4:], text.encode())
            for name, signature in signatures
        ):
            return 403, "text/plain", b"no valid signature by a trusted key\n"
        _, size_line, root_line, _ = text.split("\n")
        size, root = int(size_line), base64.b64decode(root_line)
        if old_size > size:
            return 400, "text/plain", b"old size beyond the checkpoint\n"
        known_size, known_root = self.state.get(origin, (0, b""))
        if old_size != known_size:
            return 409, "text/x.tlog.size", f"{known_size}\n".encode()
        if old_size == size and root != known_root:
            return 409, "text/x.tlog.size", f"{known_size}\n".encode()
        if old_size == 0:
            if proof:
                return 422, "text/plain", b"a proof from size 0\n"
        elif old_size < size and not merkle.verify_consistency(old_size, size, known_root, root, proof):
            return 422, "text/plain", b"consistency proof does not verify\n"
        self.state[origin] = (size, root)
        timestamp = int(time.time())
        signed = (
            text
            if self.misbehave != "bad cosignature"
            else text.replace(root_line, base64.b64encode(b"\0" * 32).decode())
        )
        signature = self.key.sign(f"cosignature/v1\ntime {timestamp}\n{signed}".encode())
        raw = key_id(self.name, 0x04, raw_public(self.key)) + timestamp.to_bytes(8, "big") + signature
        return 200, "text/plain", f"{EM_DASH} {self.name} {base64.b64encode(raw).decode()}\n".encode()


def _request_parse(body: str):
    head, separator, note = body.partition("\n\n")
    lines = head.split("\n")
    if not separator or not lines[0].startswith("old ") or len(lines) > 64:
        raise ValueError("not an add-checkpoint body")
    old_size = int(lines[0][4:])
    proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    if any(len(node) != 32 for node in proof):
        raise ValueError("a proof hash is not 32 bytes")
    text, separator, signature_block = note.rpartition("\n\n")
    if not separator or text.count("\n") != 2:
        raise ValueError("not a checkpoint note")
    text += "\n"
    signatures = []
    for line in signature_block.removesuffix("\n").split("\n"):
        dash, name, encoded = line.split(" ")
        if dash != EM_DASH:
            raise ValueError("not a signature line")
        signatures.append((name, base64.b64decode(encoded, validate=True)))
    return text.split("\n")[0], old_size, proof, text, signatures


def _valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
