"""The analysing process's side of the probe server (probe_server): one server per process, started on the first
request, asked one request at a time (the pipeline's analyser threads take turns), restarted after it dies or
stops answering, and ended when the process exits.

A process forked from one that has a server (django-q2's workers) does not share it: right after the fork the
child lets go of its copy of the pipes and starts its own server when it first needs one."""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .tool_limits import tool_memory_limit_mb

SERVER_PROGRAM = Path(__file__).with_name("probe_server.py")
GREETING_SECONDS = 30.0  # loading PyAV takes a fraction of a second; a loaded machine may take much longer
REPLY_MARGIN = 2.0  # beyond a request's own time limit, for the server to kill its child and answer
STOP_SECONDS = 2.0
MAX_REPLY_LINE = 12 << 20  # the server's largest reply (probe_server.MAX_REPLY) as JSON text, with room


class ProbeServerError(RuntimeError):
    """The server could not be started or did not answer; its message is the error a probe records."""


class ProbeServer:
    """The connection to one server process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._to_server: int | None = None
        self._from_server: int | None = None
        self._pending = b""
        self.version: str | None = None

    def probe(self, path: str, seconds: float) -> dict[str, Any]:
        """The server's reply to one file: {"facts": ...} or {"error": ...}; raises ProbeServerError when the
        server cannot be started or fails to answer in time (it is then stopped, and started again next time)."""
        request = {"path": path, "seconds": seconds, "memory_mb": tool_memory_limit_mb()}
        with self._lock:
            self._ensure_started()
            try:
                _write_all(self._to_server, json.dumps(request).encode("utf-8") + b"\n")
                return self._reply(seconds + REPLY_MARGIN)
            except (OSError, ProbeServerError) as failure:
                self._stop()
                raise ProbeServerError(f"the probe server failed: {failure}") from None

    def server_version(self) -> str:
        """The FFmpeg (and PyAV) version the server loaded, starting it if need be."""
        with self._lock:
            self._ensure_started()
            return str(self.version)

    def stop(self) -> None:
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        return self._pid

    def _ensure_started(self) -> None:
        if self._pid is not None and os.waitpid(self._pid, os.WNOHANG)[0] == self._pid:
            self._close_pipes()  # it died since the last request (and is now reaped): a new one starts
            self._pid = None
        if self._pid is not None:
            return
        to_server_read, self._to_server = os.pipe()
        self._from_server, from_server_write = os.pipe()
        try:
            self._pid = os.posix_spawn(
                sys.executable,
                [sys.executable, str(SERVER_PROGRAM)],
                os.environ,
                file_actions=[(os.POSIX_SPAWN_DUP2, to_server_read, 0), (os.POSIX_SPAWN_DUP2, from_server_write, 1)],
            )
        except OSError as failure:
            self._stop()
            raise ProbeServerError(f"the probe server could not be started: {failure}") from None
        finally:
            os.close(to_server_read)
            os.close(from_server_write)
        try:
            greeting = self._reply(GREETING_SECONDS)
        except ProbeServerError as failure:
            self._stop()
            raise ProbeServerError(f"the probe server did not start: {failure}") from None
        if "ready" not in greeting:
            self._stop()
            raise ProbeServerError(str(greeting.get("error") or "the probe server did not start"))
        self.version = str(greeting["ready"])

    def _reply(self, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_server], [], [], left)[0]:
                raise ProbeServerError(f"no answer within {seconds:g} s")
            chunk = os.read(self._from_server, 1 << 16)
            if not chunk:
                raise ProbeServerError("the server ended")
            self._pending += chunk
            if len(self._pending) > MAX_REPLY_LINE:
                raise ProbeServerError(f"an answer longer than {MAX_REPLY_LINE:,} bytes")
        line, self._pending = self._pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError as failure:
            raise ProbeServerError(f"an unreadable answer: {failure}") from None
        if not isinstance(reply, dict):
            raise ProbeServerError("an answer that is not a JSON object")
        return reply

    def _stop(self) -> None:
        """End the server: closing its input ends it; one that does not end in time is killed. Always reaped."""
        self._close_pipes()
        pid, self._pid = self._pid, None
        if pid is None:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    def _close_pipes(self) -> None:
        for descriptor in (self._to_server, self._from_server):
            if descriptor is not None:
                os.close(descriptor)
        self._to_server = self._from_server = None
        self._pending = b""

    def _forget_after_fork(self) -> None:
        """In a forked child: the server belongs to the parent; drop our copies of its pipes, never signal it."""
        self._lock = threading.Lock()
        self._close_pipes()
        self._pid = None
        self.version = None


def _write_all(descriptor: int | None, data: bytes) -> None:
    if descriptor is None:
        raise ProbeServerError("no server")
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


probe_server = ProbeServer()
atexit.register(probe_server.stop)
os.register_at_fork(after_in_child=probe_server._forget_after_fork)
