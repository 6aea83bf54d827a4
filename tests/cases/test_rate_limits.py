"""Uploads are rate limited per user; the limit answers 429 with a message (log-ins: test_login_lockout)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.api.throttles import UploadRateThrottle
from tests.conftest import PASSWORD, jpeg_bytes


def test_uploads_beyond_the_rate_are_refused_with_429(client, alpha, monkeypatch):
    # DRF reads the rates once, when the throttle class is defined.
    monkeypatch.setattr(UploadRateThrottle, "THROTTLE_RATES", {"upload": "2/hour"})
    client.login(username=alpha.investigator.username, password=PASSWORD)
    url = f"/api/v1/cases/{alpha.case.public_id}/evidence/"

    codes = [
        client.post(url, {"files": [SimpleUploadedFile(f"{i}.jpg", jpeg_bytes(colour=(i, 0, 0)))]}).status_code
        for i in range(3)
    ]

    assert codes == [201, 201, 429]
    assert client.get(url).status_code == 200
