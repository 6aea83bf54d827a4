"""The HTTP side of the tests' stand-ins for outside services (a time-stamping authority, an OCSP responder): a
server on 127.0.0.1 that hands each POST body to `answer` and sends back what it returns. `stop()` makes an outage;
`start()` serves again on the same port, so a URL handed out stays valid."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackResponder:
    content_type = "application/octet-stream"
    path = "/"

    def __init__(self) -> None:
        self.requests = 0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def answer(self, body: bytes) -> bytes:
        raise NotImplementedError

    def start(self) -> None:
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server interface)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                responder.requests += 1
                answer = responder.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", responder.content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class HangingResponder(LoopbackResponder):
    """A service that takes each request and does not answer (for a minute at most, or until `stop()`): what a
    hung TSA or OCSP responder behind a proxy looks like to its client, which must give up on its own timeout."""

    def __init__(self) -> None:
        super().__init__()
        self._released = threading.Event()

    def answer(self, body: bytes) -> bytes:
        self._released.wait(timeout=60)
        return b""

    def stop(self) -> None:
        self._released.set()
        super().stop()
