"""Decompression bombs: a 1 MiB PNG whose zTXt inflates to 1 GiB is reported as a finding, ExifTool (under its
address-space limit) fails alone with a clear message, and the whole process tree stays far below what the bomb
asks for, its memory returning to the baseline; the item, its hashes and its custody stay intact."""

import hashlib
import io
import os
import resource
import struct
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image

from cases import services
from cases.models import EvidenceItem
from cases.upload import receive_path
from custody.verification import custody_verify
from forensics.analysers import exiftool_metadata
from forensics.analysers.exiftool_metadata import exiftool_read
from forensics.analysers.png_structure import MAX_INFLATED_TEXT, png_structure_read
from forensics.analysers.tool_limits import MEMORY_LIMIT_ENV
from forensics.models import Analysis
from tests.conftest import png_bytes

MIB = 1 << 20
TREE_CEILING = 1536 * MIB  # the target: the worker and its tools together under 1.5 GiB


def bomb_png(path: Path, *, inflated_mib: int = 1024) -> Path:
    """A small PNG with a zTXt chunk inflating to `inflated_mib` MiB of zeros, built in milliseconds.

    A 1 MiB block of zeros is deflated once and fully flushed, so the segment is byte-aligned and refers to
    nothing before it; repeating it gives a valid deflate stream of any length without compressing it all."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = deflate.compress(bytes(MIB)) + deflate.flush(zlib.Z_FULL_FLUSH)
    final_block = deflate.flush(zlib.Z_FINISH)
    adler32 = (((inflated_mib * MIB) % 65521) << 16) | 1  # of zeros: A stays 1, B counts the bytes
    compressed = b"\x78\xda" + segment * inflated_mib + final_block + struct.pack(">I", adler32)
    data = b"Comment\x00\x00" + compressed
    chunk = struct.pack(">I", len(data)) + b"zTXt" + data + struct.pack(">I", zlib.crc32(b"zTXt" + data))
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(image, "PNG")
    png = image.getvalue()
    path.write_bytes(png[:33] + chunk + png[33:])  # after the 8-byte signature and the 25-byte IHDR chunk
    return path


def tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


class PeakTreeRss:
    """Samples this process tree's resident memory every 50 ms while the block runs."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(0.05)

    def __enter__(self) -> "PeakTreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    return bomb_png(tmp_path_factory.mktemp("bomb") / "bomb.png")


@pytest.fixture
def plain_png(tmp_path) -> Path:
    path = tmp_path / "plain.png"
    path.write_bytes(png_bytes())
    return path


def test_png_walk_reads_a_bounded_part_of_a_text_bomb_and_says_so(bomb):
    structure = png_structure_read(bomb)

    assert bomb.stat().st_size < 2 * MIB
    (text,) = structure.texts
    assert text.truncated and text.keyword == "Comment"
    (issue,) = [issue for issue in structure.issues if issue.code == "decompression_bomb"]
    assert f"more than {MAX_INFLATED_TEXT:,} bytes" in issue.message
    assert structure.complete  # the walk went on past the bomb to IEND


def test_exiftool_runs_under_the_configured_address_space_limit(plain_png, monkeypatch):
    # Given a configured limit, and ExifTool restarted so that it starts under it
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "768")
    exiftool_metadata._shutdown()

    exiftool_read(plain_png)

    process = exiftool_metadata._helper._process
    assert resource.prlimit(process.pid, resource.RLIMIT_AS) == (768 * MIB, 768 * MIB)
    monkeypatch.undo()
    exiftool_metadata._shutdown()  # the next test's ExifTool starts under the default limit again


def test_a_png_bomb_is_a_finding_and_the_process_tree_stays_bounded(
    alpha, bomb, plain_png, django_capture_on_commit_callbacks
):
    # Given a worker that has analysed a plain picture (so its ExifTool runs and what an analysis loads is loaded:
    # in a test process of its own that is about 70 MiB), and its memory at rest
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_receive(case=alpha.case, received=receive_path(plain_png), actor=alpha.investigator)
    baseline = tree_rss(os.getpid())

    # When the bomb is uploaded and analysed (the analysis task runs in this process, as in a worker)
    with PeakTreeRss() as memory, django_capture_on_commit_callbacks(execute=True):
        receipt = services.evidence_receive(case=alpha.case, received=receive_path(bomb), actor=alpha.investigator)

    # Then the analysis finished with the bomb as a finding, ExifTool's failure recorded with the reason
    item = EvidenceItem.objects.get(pk=receipt.item.pk)
    analysis = Analysis.objects.get(evidence=item)
    assert analysis.status == "done", analysis.error
    finding = next(f for f in analysis.findings if f["rule_id"] == "EM-STRUCT-017")
    assert "inflates to more than" in finding["explanation"]
    exiftool_run = next(run for run in analysis.result["runs"] if run["name"] == "exiftool")
    assert exiftool_run["status"] == "failed"
    assert "ExifTool ran out of memory under its 1024 MiB memory limit" in exiftool_run["error"]
    # ... the whole process tree stayed under the ceiling (the bomb asks for 4 GiB of ExifTool alone)
    assert memory.peak < TREE_CEILING, f"peak {memory.peak / MIB:.0f} MiB"
    # ... the item, its hashes and its custody are intact
    assert item.sha256 == hashlib.sha256(bomb.read_bytes()).hexdigest()
    assert custody_verify(alpha.organisation).ok
    # ... and once ExifTool is needed again it starts afresh: memory is back at its baseline
    exiftool_read(plain_png)
    assert tree_rss(os.getpid()) < baseline + 64 * MIB
