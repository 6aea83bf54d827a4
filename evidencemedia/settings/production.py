"""Settings for a production deployment: secrets and hosts must come from the environment."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, REST_FRAMEWORK, _env_bool, _env_count

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS only, for this host and its subdomains, and eligible for the browsers' preload list: `check --deploy` passes
# with no warning. A site that cannot promise that for every subdomain turns the parts off explicitly.
SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = _env_count("DJANGO_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("DJANGO_HSTS_PRELOAD", True)

# Each request keeps its thread's database connection for the next: a new PostgreSQL connection per request (a
# server process forked, authenticated and its caches filled) cost the database more CPU than the page's queries
# (docs/benchmarks.md, load test).
# Checked before reuse, so a connection the server dropped is replaced instead of failing a request.
DATABASES["default"]["CONN_MAX_AGE"] = _env_count("DATABASE_CONN_MAX_AGE", 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The API answers in JSON only: no browsable HTML forms to serve, to frame or to keep free of inline code.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# Password-reset e-mail goes out through the organisation's SMTP relay; the password may come from a file.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = _env_count("DJANGO_EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
if password_file := os.environ.get("DJANGO_EMAIL_HOST_PASSWORD_FILE"):
    with open(password_file) as handle:
        EMAIL_HOST_PASSWORD = handle.read().strip()
EMAIL_USE_TLS = _env_bool("DJANGO_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 30
