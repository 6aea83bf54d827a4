"""The production settings pass Django's deployment checklist with no warning, serve the API as JSON only and keep
database connections open between requests."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _production(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EVIDENCEMEDIA_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "evidence.example.org",
        "EVIDENCEMEDIA_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check_at_warning_level(tmp_path):
    result = _production(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_transport_defaults_can_be_turned_off_for_a_deployment_that_needs_it(tmp_path):
    # A site whose subdomains are not all HTTPS, or that is not ready for the preload list, says so explicitly
    result = _production(
        tmp_path,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_HSTS_INCLUDE_SUBDOMAINS="false",
        DJANGO_HSTS_PRELOAD="false",
        DJANGO_SECURE_SSL_REDIRECT="false",
    )

    assert result.returncode != 0
    for warning in ("security.W005", "security.W008", "security.W021"):
        assert warning in result.stderr


def test_production_serves_the_api_as_json_only(tmp_path):
    script = (
        "import django; django.setup();"
        "from rest_framework.settings import api_settings;"
        "print([r.__name__ for r in api_settings.DEFAULT_RENDERER_CLASSES])"
    )
    result = _production(tmp_path, "-c", script)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['JSONRenderer']"


def _database_settings(tmp_path, **env: str) -> str:
    script = (
        "import django; django.setup();"
        "from django.conf import settings; db = settings.DATABASES['default'];"
        "print(db['CONN_MAX_AGE'], db['CONN_HEALTH_CHECKS'])"
    )
    result = _production(tmp_path, "-c", script, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_keeps_database_connections_open_and_checks_them_before_reuse(tmp_path):
    assert _database_settings(tmp_path) == "600 True"


def test_production_connection_lifetime_comes_from_the_environment(tmp_path):
    assert _database_settings(tmp_path, DATABASE_CONN_MAX_AGE="0") == "0 True"
