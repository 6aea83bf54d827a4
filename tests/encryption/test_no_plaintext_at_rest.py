"""Nothing of an uploaded file lies on disk in the clear, and no stored name is a SHA-256: a random marker embedded
in the pixels of an upload is searched for in every file under the data directory and the stores, after the upload
was analysed, previewed, reported on, downloaded and exported."""

import contextlib
import hashlib
import io
import os
import secrets
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cases.models import EvidenceItem
from tests.conftest import PASSWORD


def _tiff_carrying(marker: bytes) -> bytes:
    """An uncompressed TIFF, so the marker (its first row of pixels) lies in the file verbatim."""
    width = len(marker) // 3
    image = Image.frombytes("RGB", (width, 16), marker + os.urandom(width * 3 * 15))
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", compression=None)
    return buffer.getvalue()


def _files_under(*roots: Path) -> dict[Path, bytes]:
    """Each file under the roots with its contents. The test processes share the data directory: a file another
    one removes between the listing and the reading was not at rest, and is left out."""
    files = {}
    for root in roots:
        for path in root.rglob("*") if root.exists() else ():
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                files[path] = path.read_bytes()
    return files


def test_a_marker_in_an_upload_appears_in_no_file_under_the_data_directory(
    client, alpha, isolated_storage, generate, django_capture_on_commit_callbacks
):
    # Given a PNG whose pixels carry a random marker, uploaded through the page as a caseworker would
    marker = secrets.token_bytes(48)
    data = _tiff_carrying(marker)
    assert marker in data
    client.login(username=alpha.investigator.username, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/cases/{alpha.case.public_id}/evidence/",
            {"files": [SimpleUploadedFile("marker.tif", data, content_type="image/tiff")]},
        )
    assert response.status_code == 302
    item = EvidenceItem.objects.get(case=alpha.case)
    assert item.analysis_status == "done"

    # When it is previewed, reported on, downloaded and exported
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    assert client.get(f"/evidence/{item.public_id}/preview/").status_code == 200
    report = generate(alpha.investigator, alpha.case, item)
    download = client.get(f"/evidence/{item.public_id}/download/")
    assert b"".join(download.streaming_content) == data
    export = client.get(f"/custody/cases/{alpha.case.public_id}/export/")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(export.streaming_content))) as archive:
        media = [name for name in archive.namelist() if name.endswith("/media.tif")]
        assert archive.read(media[0]) == data  # the recipient gets the plaintext, and is told so
        assert b'"encrypted": false' in archive.read("manifest.json")

    # Then no file anywhere under the data directory or the stores holds the marker, and no path names a SHA-256
    files = _files_under(Path(settings.DATA_DIR), isolated_storage)
    stored = _files_under(isolated_storage / "evidence", isolated_storage / "derived", isolated_storage / "reports")
    assert len(stored) == 3  # the media, its preview and the report, all encrypted
    assert [path for path, content in files.items() if marker in content] == []
    digests = {item.sha256, report.sha256} | {hashlib.sha256(content).hexdigest() for content in stored.values()}
    assert [path for path in files for digest in digests if digest in str(path)] == []
    assert not list(Path(settings.PLAINTEXT_TEMP_DIR).iterdir())
