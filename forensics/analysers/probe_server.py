"""The probe server: a program of its own (started by probe_client, never imported by the analysers) that loads
FFmpeg's libraries through PyAV once, then reads video and audio files one request at a time, each in a child
forked for it, so that no file pays for starting a process and loading FFmpeg, and no file can harm the next.

Each child runs under the tools' memory ceiling (RLIMIT_AS) and a CPU limit, reads the file (libav_read), writes
its facts as one JSON document to a pipe and exits; the server waits for it no longer than the request's time
limit and kills it then. A child that dies by a signal, exits badly, overruns or prints something that is not JSON
becomes an error reply; the server itself never reads a file.

Protocol, one JSON line each way over stdin and stdout: first the server's greeting, {"ready": <FFmpeg version>}
or {"error": ...} when PyAV cannot load; then per request {"path", "seconds", "memory_mb"} in, {"facts": ...} or
{"error": ...} out. The server ends at the end of its input, that is when the analysing process closes the pipe
or dies.

It is single-threaded (forking a process with threads is unsafe) and imports only the standard library, PyAV
and its sibling libav_read, not the analysers' package, whose imports start threads and load other libraries.
"""

from __future__ import annotations

import json
import math
import os
import resource
import select
import signal
import sys
import time
from typing import Any

MAX_REPLY = 8 << 20  # facts of a real file are a few KiB plus two first packets of at most 256 KiB
_child_interrupt = signal.SIG_DFL  # what SIGINT does to a child (main)


def main() -> int:
    # Only the pipes and stderr are the server's: posix_spawn cannot close the analysing process's other inheritable
    # descriptors as subprocess does (close_fds), so the server does, before anything opens one.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    # Ctrl-C reaches the whole process group: the server ends with its input, a child's read by the signal, unless
    # the analysing process ignores it (django-q2's workers, stopped after their tasks), as its ffprobe did.
    global _child_interrupt
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN) == signal.SIG_IGN
    _child_interrupt = signal.SIG_IGN if ignored else signal.SIG_DFL
    try:
        from libav_read import ffmpeg_version, libav_read  # noqa: PLC0415 - a failure here is the greeting
    except Exception as failure:  # PyAV or its FFmpeg libraries cannot load: say so, then end
        _send({"error": f"PyAV cannot be loaded: {type(failure).__name__}: {failure}"})
        return 1
    try:
        _send({"ready": ffmpeg_version()})
        for line in sys.stdin.buffer:
            try:
                request = json.loads(line)
                path, seconds, memory_mb = str(request["path"]), float(request["seconds"]), int(request["memory_mb"])
            except (ValueError, KeyError, TypeError) as failure:
                _send({"error": f"unreadable request: {failure}"})
                continue
            _send(_probe_in_child(libav_read, path, seconds, memory_mb))
    except BrokenPipeError:  # the analysing process ended while a file was being read: so does the server
        pass
    return 0


def _send(reply: dict[str, Any]) -> None:
    sys.stdout.buffer.write(json.dumps(reply).encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()


def _probe_in_child(read: Any, path: str, seconds: float, memory_mb: int) -> dict[str, Any]:
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reading)
        _child(read, path, seconds, memory_mb, writing)  # never returns
    os.close(writing)
    try:
        output, overrun = _collect(reading, pid, seconds)
    finally:
        os.close(reading)
    _, status = os.waitpid(pid, 0)
    if overrun:
        return {"error": overrun}
    if os.WIFSIGNALED(status):
        return {"error": _signal_words(os.WTERMSIG(status), seconds)}
    if os.WEXITSTATUS(status) != 0:
        return {"error": f"the reading process exited with status {os.WEXITSTATUS(status)}"}
    try:
        reply = json.loads(output)
    except ValueError as failure:
        return {"error": f"the reading process printed no readable JSON: {failure}"}
    return reply if isinstance(reply, dict) else {"error": "the reading process printed no JSON object"}


def _child(read: Any, path: str, seconds: float, memory_mb: int, writing: int) -> None:
    """The forked child: limits first, then the file; it leaves only through os._exit."""
    status = 1
    try:
        # The server's stdin and stdout are its conversation with the analysing process, not the child's.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        signal.signal(signal.SIGINT, _child_interrupt)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory_mb:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        cpu = math.ceil(seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        signal.alarm(cpu + 1)  # should the server be gone, the child still ends (SIGALRM's default is to end)
        try:
            reply: dict[str, Any] = {"facts": read(path)}
        except Exception as failure:  # FFmpeg refused the file, or memory ran out under the ceiling
            reply = {"error": f"{type(failure).__name__}: {failure}"}
        data = json.dumps(reply).encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(writing, view) :]
        status = 0
    finally:
        os._exit(status)


def _collect(reading: int, pid: int, seconds: float) -> tuple[bytes, str | None]:
    """The child's output until it closes the pipe; past the time limit or MAX_REPLY, the child is killed."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([reading], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            return b"", f"stopped after {seconds:g} s"
        chunk = os.read(reading, 1 << 16)
        if not chunk:
            return b"".join(chunks), None
        size += len(chunk)
        if size > MAX_REPLY:
            os.kill(pid, signal.SIGKILL)
            return b"", f"printed more than {MAX_REPLY:,} bytes"
        chunks.append(chunk)


def _signal_words(number: int, seconds: float) -> str:
    if number in (signal.SIGXCPU, signal.SIGALRM):
        return f"stopped after {seconds:g} s (CPU limit)"
    return f"the reading process was killed by {signal.Signals(number).name}"


if __name__ == "__main__":
    sys.exit(main())
