"""Report fixtures: demo-like media received and analysed for real, and reports generated through the task."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from cases import services
from cases.demo_media import camera_jpeg_create, edited_jpeg_create, generated_mp4_create
from cases.models import Case, EvidenceItem
from cases.upload import receive_path
from reports.models import Report
from reports.services import report_request


@pytest.fixture
def analysed(django_capture_on_commit_callbacks):
    """Receive a file into a case and run its analysis, as the task cluster would after the upload commits."""

    def receive(case: Case, path: Path, actor) -> EvidenceItem:
        with django_capture_on_commit_callbacks(execute=True):
            receipt = services.evidence_receive(case=case, received=receive_path(path), actor=actor)
        return EvidenceItem.objects.get(pk=receipt.item.pk)

    return receive


@pytest.fixture
def edited_jpeg(tmp_path) -> Path:
    """A camera-like JPEG resized and re-saved with Photoshop named in its EXIF (ExifTool writes the tags)."""
    media = tmp_path / "media"
    media.mkdir()
    return edited_jpeg_create(media, camera_jpeg_create(media))


@pytest.fixture
def mp4_video(tmp_path) -> Path:
    """A short H.264 MP4 encoded with PyAV."""
    media = tmp_path / "video"
    media.mkdir()
    return generated_mp4_create(media, seconds=1)


@pytest.fixture
def generate(django_capture_on_commit_callbacks):
    """Request a report and run its task, as the cluster would after the request commits."""

    def run(actor, case: Case, evidence: EvidenceItem | None = None) -> Report:
        with django_capture_on_commit_callbacks(execute=True):
            report = report_request(actor=actor, case=case, evidence=evidence)
        return Report.objects.get(pk=report.pk)

    return run


def pdf_text(data: bytes) -> tuple[str, int]:
    """All text of a PDF with pypdf, and its page count."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)
