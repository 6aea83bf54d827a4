"""Uploads and failed log-ins are rate limited; the limits answer 429 with a message."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.api.throttles import UploadRateThrottle
from tests.conftest import PASSWORD, jpeg_bytes


def test_failed_logins_are_paused_after_the_limit_even_with_the_right_password(client, alpha, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert client.post("/login/", {"username": "alpha-admin", "password": "wrong"}).status_code == 200

    response = client.post("/login/", {"username": "alpha-admin", "password": PASSWORD})

    assert response.status_code == 429
    assert b"Wait 15 minutes" in response.content
    assert "_auth_user_id" not in client.session


def test_a_correct_login_below_the_limit_succeeds(client, alpha, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client.post("/login/", {"username": "alpha-admin", "password": "wrong"})
    response = client.post("/login/", {"username": "alpha-admin", "password": PASSWORD})
    assert response.status_code == 302


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
