"""Settings for the test suite: a throwaway data directory, fast hashing where passwords are not under test."""

import os
import tempfile

os.environ.setdefault("EVIDENCEMEDIA_DATA_DIR", tempfile.mkdtemp(prefix="evidencemedia-test-"))

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
