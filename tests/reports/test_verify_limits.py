"""What anyone may send to report verification: one file no larger than the largest report, refused before it is
spooled when larger, at the configured rate per real client address, on the page and the API together."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.verification import MAX_REPORT_BYTES
from reports.verify_limits import ReportVerifyThrottle

API, PAGE = "/api/v1/reports/verify", "/reports/verify/"
MiB = 1024 * 1024


class GeneratedMultipart:
    """A multipart body of `count` files of `size` zero bytes each, made as it is read (nothing held in memory),
    recording how much was read and the most the spool directory held while it was being read."""

    boundary = "em-test-boundary"

    def __init__(self, *, count: int, size: int, spool):
        head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="report.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        self._pieces = [(head, 0), (b"\r\n", size)] * count + [(f"--{self.boundary}--\r\n".encode(), 0)]
        self.length = sum(len(text) + zeros for text, zeros in self._pieces)
        self.read_bytes = 0
        self.most_spooled = 0
        self._spool = spool
        self._chunk_source = None
        self._pending = b""

    def _chunks(self):
        for text, zeros in self._pieces:
            while zeros:
                step = min(zeros, MiB)
                zeros -= step
                yield bytes(step)
            yield text

    def _fill(self, enough) -> None:
        if self._chunk_source is None:
            self._chunk_source = self._chunks()
        while not enough(self._pending):
            chunk = next(self._chunk_source, None)
            if chunk is None:
                return
            self._pending += chunk

    def read(self, size: int = -1) -> bytes:
        self._fill(lambda pending: 0 <= size <= len(pending))
        return self._take(len(self._pending) if size < 0 else size)

    def readline(self, size: int = -1) -> bytes:
        self._fill(lambda pending: b"\n" in pending or 0 <= size <= len(pending))
        end = self._pending.find(b"\n") + 1 or len(self._pending)
        return self._take(end if size < 0 else min(end, size))

    def _take(self, size: int) -> bytes:
        taken, self._pending = self._pending[:size], self._pending[size:]
        self.read_bytes += len(taken)
        spooled = sum(path.stat().st_size for path in self._spool.iterdir() if path.is_file())
        self.most_spooled = max(self.most_spooled, spooled)
        return taken

    def environ(self) -> dict:
        return {
            "CONTENT_TYPE": f"multipart/form-data; boundary={self.boundary}",
            "CONTENT_LENGTH": str(self.length),
            "wsgi.input": self,
        }


def _spooled():
    return list(django_settings.FILE_UPLOAD_TEMP_DIR.iterdir())


@pytest.mark.django_db
@pytest.mark.parametrize("url", [API, PAGE], ids=["api", "page"])
def test_three_hundred_mebibytes_are_refused_before_anything_is_read_or_spooled(client, url):
    body = GeneratedMultipart(count=3, size=100 * MiB, spool=django_settings.FILE_UPLOAD_TEMP_DIR)

    response = client.generic("POST", url, **body.environ())

    assert response.status_code == 413
    assert body.read_bytes == 0 and body.most_spooled == 0
    assert _spooled() == []


@pytest.mark.django_db
def test_a_file_larger_than_any_report_is_refused_while_it_streams_in(client):
    # Given a declared length within the allowance for the form around the file, but a file one byte too large
    body = GeneratedMultipart(count=1, size=MAX_REPORT_BYTES + 1, spool=django_settings.FILE_UPLOAD_TEMP_DIR)

    response = client.generic("POST", API, **body.environ())

    assert response.status_code == 413
    assert response.json()["code"] == "ReportUploadTooLarge"
    assert body.most_spooled <= MAX_REPORT_BYTES
    assert _spooled() == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", [API, PAGE], ids=["api", "page"])
def test_one_file_per_verification(client, url):
    files = [SimpleUploadedFile(f"{n}.pdf", b"%PDF-1.7 not really") for n in range(2)]

    response = client.post(url, {"file": files})

    assert response.status_code == 400
    assert b"one file" in response.content
    assert _spooled() == []


@pytest.mark.django_db
def test_verifications_are_throttled_by_the_real_address_on_page_and_api_together(client, monkeypatch):
    # Given a rate of two per hour, and a client rotating X-Forwarded-For behind no trusted proxy
    monkeypatch.setattr(ReportVerifyThrottle, "THROTTLE_RATES", {"anonymous-verify": "2/hour"})

    def verify(url, forwarded_for, address="198.51.100.7"):
        upload = SimpleUploadedFile("r.pdf", b"not a pdf")
        return client.post(url, {"file": upload}, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded_for)

    # When it verifies on the API, on the page, and then on each again
    codes = [verify(url, f"203.0.113.{n}").status_code for n, url in enumerate([API, PAGE, API, PAGE])]
    elsewhere = verify(API, "203.0.113.99", address="192.0.2.50")

    # Then its third and fourth are refused, and someone at another address is not affected
    assert codes == [200, 200, 429, 429]
    assert elsewhere.status_code == 200
    assert client.get(PAGE, REMOTE_ADDR="198.51.100.7").status_code == 200  # reading the page costs nothing


def test_the_verify_rate_is_the_configured_setting():
    assert ReportVerifyThrottle().rate == django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anonymous-verify"]
