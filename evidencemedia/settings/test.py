"""Settings for the test suite: a throwaway data directory, fast hashing where passwords are not under test."""

import atexit
import os
import shutil
import tempfile

if "EVIDENCEMEDIA_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="evidencemedia-test-")
    os.environ["EVIDENCEMEDIA_DATA_DIR"] = _data_dir
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    "tests.login_backend.LockoutBackendAllowingTestClientLogin",
    "django.contrib.auth.backends.ModelBackend",
]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
# The tests' witnesses listen on the loopback (tests/local_witness.py); tests of the refusal turn this off.
EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and os.environ.get("EVIDENCEMEDIA_REDIS_URL"):  # noqa: F405
    # The Redis-broker suite starts task clusters in other processes, which cannot see an in-memory database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
