"""The probe server (probe_server, reached through probe_client): one long-lived process per analysing process,
a forked and limited child per file. A child that crashes, hangs or runs out of memory becomes an error for that
file; a server that dies is replaced; a forked process gets a server of its own; none is left behind at exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from forensics.analysers.probe_client import ProbeServer, ProbeServerError, probe_server
from forensics.analysers.video_probe import video_probe_read

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> ProbeServer:
    server = ProbeServer()
    yield server
    server.stop()


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A named pipe nobody writes to: libavformat waits on it for ever, as on a file that never ends."""
    path = tmp_path / "never-ending.mp4"
    os.mkfifo(path)
    return path


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True for a process that exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_file_is_read_in_a_child_and_the_server_stays(server: ProbeServer, ffmpeg_mp4: Path) -> None:
    first = server.probe(str(ffmpeg_mp4), 5.0)
    pid = server.pid
    second = server.probe(str(ffmpeg_mp4), 5.0)

    assert first == second and first["facts"]["streams"][0]["codec_type"] == "video"
    assert server.pid == pid and children_of(pid) == []  # each child was reaped
    assert "PyAV" in (server.version or "")


def test_a_hanging_read_is_stopped_at_the_time_limit(server: ProbeServer, fifo: Path) -> None:
    started = time.monotonic()

    reply = server.probe(str(fifo), 1.0)

    assert reply == {"error": "stopped after 1 s"}
    assert time.monotonic() - started < 3.0
    assert children_of(server.pid) == []


def test_a_child_that_dies_by_a_signal_is_an_error_for_that_file(server: ProbeServer, fifo: Path, ffmpeg_mp4) -> None:
    server.probe(str(ffmpeg_mp4), 5.0)  # the server is up
    reply: dict = {}
    reading = threading.Thread(target=lambda: reply.update(server.probe(str(fifo), 10.0)))
    reading.start()
    deadline = time.monotonic() + 5
    while not (children := children_of(server.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(children[0], signal.SIGSEGV)
    reading.join(10)

    assert reply == {"error": "the reading process was killed by SIGSEGV"}
    assert server.probe(str(ffmpeg_mp4), 5.0)["facts"]["streams"]  # the server goes on with the next file


def test_a_read_beyond_the_memory_ceiling_fails_alone(server: ProbeServer, ffmpeg_mp4: Path, monkeypatch) -> None:
    monkeypatch.setenv("EVIDENCEMEDIA_TOOL_MEMORY_LIMIT_MB", "16")  # less than PyAV's libraries take mapped

    reply = server.probe(str(ffmpeg_mp4), 5.0)

    assert "facts" not in reply and reply["error"]
    monkeypatch.setenv("EVIDENCEMEDIA_TOOL_MEMORY_LIMIT_MB", "1024")
    assert server.probe(str(ffmpeg_mp4), 5.0)["facts"]["streams"]


def test_a_server_killed_between_requests_is_replaced(server: ProbeServer, ffmpeg_mp4: Path) -> None:
    server.probe(str(ffmpeg_mp4), 5.0)
    killed = server.pid
    os.kill(killed, signal.SIGKILL)
    time.sleep(0.1)

    reply = server.probe(str(ffmpeg_mp4), 5.0)

    assert reply["facts"]["streams"] and server.pid != killed and not alive(killed)


def test_a_server_that_stops_answering_is_killed_and_replaced(server: ProbeServer, ffmpeg_mp4: Path) -> None:
    server.probe(str(ffmpeg_mp4), 5.0)
    stopped = server.pid
    os.kill(stopped, signal.SIGSTOP)

    with pytest.raises(ProbeServerError, match="no answer within"):
        server.probe(str(ffmpeg_mp4), 0.5)

    assert not alive(stopped) and server.pid is None
    assert server.probe(str(ffmpeg_mp4), 5.0)["facts"]["streams"]


def test_threads_take_turns_on_one_server(server: ProbeServer, ffmpeg_mp4: Path) -> None:
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: server.probe(str(ffmpeg_mp4), 5.0), range(12)))

    assert all(reply == replies[0] for reply in replies) and "facts" in replies[0]


def test_a_forked_process_starts_its_own_server(ffmpeg_mp4: Path) -> None:
    video_probe_read(ffmpeg_mp4)
    parent_server = probe_server.pid
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: it must not talk to, nor stop, the parent's server
        try:
            before = probe_server.pid
            streams = len(video_probe_read(ffmpeg_mp4).streams)
            os.write(writing, json.dumps([before, probe_server.pid, streams]).encode())
            probe_server.stop()
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as answer:
        before, own, streams = json.loads(answer.read())
    os.waitpid(pid, 0)

    assert before is None and own not in (None, parent_server) and streams == 1
    assert probe_server.pid == parent_server and alive(parent_server)
    assert len(video_probe_read(ffmpeg_mp4).streams) == 1


def test_no_server_is_left_behind_when_the_process_exits(ffmpeg_mp4: Path) -> None:
    program = (
        "from forensics.analysers.video_probe import video_probe_read\n"
        "from forensics.analysers.probe_client import probe_server\n"
        f"assert video_probe_read({str(ffmpeg_mp4)!r}).streams\n"
        "print(probe_server.pid)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=PROJECT, capture_output=True, text=True, check=True)
    pid = int(done.stdout)

    assert not alive(pid) and not Path(f"/proc/{pid}").exists()


def test_without_pyav_the_probe_says_so(server: ProbeServer, ffmpeg_mp4: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "av.py").write_text("raise ImportError('no FFmpeg libraries here')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the server finds this av before PyAV

    with pytest.raises(ProbeServerError, match="PyAV cannot be loaded: ImportError: no FFmpeg libraries here"):
        server.probe(str(ffmpeg_mp4), 5.0)
    assert server.pid is None


def test_the_server_keeps_no_descriptor_of_the_analysing_process_but_its_pipes_and_stderr(server: ProbeServer) -> None:
    """As ffprobe's start by subprocess closed them: a descriptor the analysing process holds inheritable (one it was
    given by its own parent, a socket passed by a service manager) is not held open by the server and its children."""
    reading, writing = os.pipe()
    os.set_inheritable(writing, True)
    try:
        server.server_version()
        descriptors = sorted(int(name) for name in os.listdir(f"/proc/{server.pid}/fd"))
    finally:
        os.close(reading)
        os.close(writing)

    assert descriptors == [0, 1, 2]


def _reading_in_a_session_of_its_own(fifo: Path, seconds: float, prelude: str = "") -> tuple[subprocess.Popen, int]:
    """An analysing process, in a process group of its own, whose probe child is reading `fifo` (which no one writes
    to); the process and its server's pid."""
    program = (
        f"{prelude}"
        "from forensics.analysers.probe_client import probe_server\n"
        "probe_server.server_version()\n"
        "print(probe_server.pid, flush=True)\n"
        f"print(probe_server.probe({str(fifo)!r}, {seconds!r}), flush=True)\n"
    )
    analysing = subprocess.Popen(
        [sys.executable, "-c", program], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    server_pid = int(analysing.stdout.readline())
    deadline = time.monotonic() + 5
    while not children_of(server_pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # the child is past its set-up, reading
    return analysing, server_pid


def test_an_interrupt_to_the_process_group_ends_the_read_without_a_traceback(fifo: Path) -> None:
    """Ctrl-C reaches the server and its child too: the child's read ends, and the server, which ends with its input,
    prints nothing."""
    analysing, server_pid = _reading_in_a_session_of_its_own(fifo, 30.0)
    child = children_of(server_pid)[0]
    os.killpg(analysing.pid, signal.SIGINT)
    _, errors = analysing.communicate(timeout=10)
    deadline = time.monotonic() + 5
    while (alive(server_pid) or alive(child)) and time.monotonic() < deadline:
        time.sleep(0.01)

    assert "probe_server.py" not in errors  # the analysing process's own KeyboardInterrupt is its business
    assert not alive(server_pid) and not alive(child)


def test_an_analysing_process_that_ignores_interrupts_keeps_its_read_through_one(fifo: Path) -> None:
    """django-q2's workers ignore SIGINT (their cluster stops them after their tasks): Ctrl-C on the cluster does not
    end a read either, as it did not end their ffprobe."""
    analysing, _ = _reading_in_a_session_of_its_own(
        fifo, 2.0, prelude="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    )
    os.killpg(analysing.pid, signal.SIGINT)
    output, errors = analysing.communicate(timeout=10)

    assert output.strip() == "{'error': 'stopped after 2 s'}", errors
