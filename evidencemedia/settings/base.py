"""Settings shared by every environment; everything that differs between machines comes from the environment."""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("EVIDENCEMEDIA_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_count(name: str, default: int) -> int:
    """A whole number of at least 0; anything else stops the start-up with a message naming the variable."""
    value = os.environ.get(name, "").strip() or str(default)
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}.")
    return int(value)


def _env_path(name: str) -> Path | None:
    """A file path, or None when unset or empty; the file is read where it is used, not at import."""
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY when given; otherwise a random key kept in the data directory, never in the repo."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "cases.apps.TwoFactorAdminConfig",  # django.contrib.admin, requiring a second factor of staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "cases",
    "custody",
    "encryption",
    "forensics",
    "reports",
]

MIDDLEWARE = [
    # Outermost: whatever failed under /api/, and however (DEBUG's HTML pages included), the client gets JSON.
    "cases.api.errors.JsonApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The active organisation, and all of the user's memberships, which the two-factor gate reads.
    "cases.middleware.ActiveOrganisationMiddleware",
    # A signed-in person with a second factor, or whom a policy requires to have one, gets nothing else until then.
    "cases.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Under DEBUG, a page's 404 is still the site's page (Django's technical page is for crashes only).
    "cases.middleware.DebugNotFoundPageMiddleware",
    # Last, as django-axes requires: turns a locked-out log-in (page, admin or API) into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evidencemedia.urls"
WSGI_APPLICATION = "evidencemedia.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.context_processors.tenancy",
                "cases.context_processors.layout_links",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'evidencemedia.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Workers and the web server write concurrently; WAL and a busy timeout keep SQLite from failing fast.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks the lock-out before any password is looked at, for every authenticate() call.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:dashboard"
LOGOUT_REDIRECT_URL = "login"
CSRF_FAILURE_VIEW = "cases.api.errors.csrf_failure"
# Password-reset links stay valid for a day; using one, or changing the password, invalidates it.
PASSWORD_RESET_TIMEOUT = 24 * 3600

# Two-factor authentication (django-otp): TOTP apps, plus single-use recovery codes. Failed codes slow the next
# attempt down exponentially (per device), and every failure is recorded in the custody ledger.
OTP_TOTP_ISSUER = os.environ.get("EVIDENCEMEDIA_OTP_ISSUER", "Evidence Media")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
TWO_FACTOR_RECOVERY_CODES = 10

# E-mail (password resets): printed to the console unless an SMTP host is configured (production sets one).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Evidence Media <evidence-media@localhost>")

# Every user-facing string goes through Django's translation functions; English is what ships. An organisation adds
# its language by adding it here and a catalogue under locale/ (`manage.py makemessages -l CODE`, then
# `compilemessages`; the compiled catalogues are committed); LocaleMiddleware picks from LANGUAGES by the browser's
# Accept-Language.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Evidence bytes live under the data directory, content-addressed, behind Django's storage API so that an
# object-store backend can replace the filesystem without touching the ingest code. Every store that holds evidence
# or anything made from it is encrypted at rest (encryption/): a data key per file, wrapped by the organisation's
# key, wrapped by the master key in the keys directory.
EVIDENCE_ROOT = DATA_DIR / "evidence"
KEYS_DIR = DATA_DIR / "keys"
# The master keyring class; a KMS back-end implementing encryption.master.MasterKeyring can replace the files.
STORAGE_MASTER_KEYRING = os.environ.get("EVIDENCEMEDIA_MASTER_KEYRING", "encryption.master.LocalMasterKeyring")
# Where tools that need a path (ExifTool, MediaInfo, c2pa, ffprobe, previews) get a private plaintext copy (0600),
# removed when they finish and swept at worker start-up. Point it at a tmpfs (e.g. a directory under /dev/shm) so
# that plaintext never reaches a disk; created on first use, mode 0700.
PLAINTEXT_TEMP_DIR = Path(os.environ.get("EVIDENCEMEDIA_PLAINTEXT_DIR", DATA_DIR / "plaintext"))
# The origin (log name) of the organisations' checkpoints as C2SP signed notes is this prefix, "/" and the
# organisation's public id: a schema-less URL naming this installation (docs/custody.md, "Witnessed history").
EVIDENCEMEDIA_CHECKPOINT_ORIGIN = os.environ.get("EVIDENCEMEDIA_CHECKPOINT_ORIGIN", "evidence-media.invalid/custody")
if not re.fullmatch(r"[^\s+]+", EVIDENCEMEDIA_CHECKPOINT_ORIGIN):
    raise ValueError("EVIDENCEMEDIA_CHECKPOINT_ORIGIN must be non-empty, without spaces or '+' (a note key name).")
# Unicode fonts embedded in PDF reports (Debian's fonts-dejavu-core, installed by scripts/setup.sh).
REPORT_FONT_DIR = os.environ.get("EVIDENCEMEDIA_REPORT_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "files"},
    },
    "evidence": {
        "BACKEND": "encryption.storage.EncryptedFileSystemStorage",
        "OPTIONS": {
            "store": "evidence",
            "location": EVIDENCE_ROOT,
            "allow_overwrite": True,
            "file_permissions_mode": 0o440,
            "directory_permissions_mode": 0o750,
        },
    },
    # Signed report PDFs, content-addressed by the SHA-256 of the signed file, like evidence.
    "reports": {
        "BACKEND": "encryption.storage.EncryptedFileSystemStorage",
        "OPTIONS": {
            "store": "reports",
            "location": DATA_DIR / "reports",
            "allow_overwrite": True,
            "file_permissions_mode": 0o440,
            "directory_permissions_mode": 0o750,
        },
    },
    # Files made from evidence (previews), keyed like evidence and deleted with its media; never served as evidence.
    "derived": {
        "BACKEND": "encryption.storage.EncryptedFileSystemStorage",
        "OPTIONS": {
            "store": "derived",
            "location": DATA_DIR / "derived",
            "allow_overwrite": True,
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Previews are decoded from untrusted media: anything with more pixels than this gets no preview at all.
EVIDENCE_PREVIEW_MAX_PIXELS = int(os.environ.get("EVIDENCEMEDIA_PREVIEW_MAX_PIXELS", str(50_000_000)))
EVIDENCE_MAX_UPLOAD_BYTES = int(os.environ.get("EVIDENCEMEDIA_MAX_UPLOAD_BYTES", str(2 * 1024**3)))
# Uploads are streamed by cases.upload.HashingUploadHandler, which hashes and spools in one pass.
FILE_UPLOAD_HANDLERS = ["cases.upload.HashingUploadHandler"]
# Spool files live on the same filesystem as EVIDENCE_ROOT so that storing them is a rename, not a copy.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "incoming"
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)
DATA_UPLOAD_MAX_NUMBER_FILES = 50

# Fixity: the share of all stored files (media and reports) each daily run re-hashes, least recently checked
# first, so every file is checked at least once every ceil(1 / share) runs (the default: within 30 days).
FIXITY_SHARE_PER_RUN = float(os.environ.get("EVIDENCEMEDIA_FIXITY_SHARE_PER_RUN", str(1 / 30)))
if not 0 < FIXITY_SHARE_PER_RUN <= 1:
    raise ValueError("EVIDENCEMEDIA_FIXITY_SHARE_PER_RUN must be a number greater than 0 and at most 1.")

# External trust anchors (docs/custody.md, docs/reports.md). RFC 3161 Time-Stamping Authorities, tried in order, stamp
# every checkpoint and every report signature; none configured means no time-stamps, which the audit page says.
# Their answers are checked against the TSA roots in EVIDENCEMEDIA_TSA_ROOTS (a PEM file), required with any URL.
EVIDENCEMEDIA_TSA_URLS = [url.strip() for url in os.environ.get("EVIDENCEMEDIA_TSA_URLS", "").split(",") if url.strip()]
EVIDENCEMEDIA_TSA_ROOTS = _env_path("EVIDENCEMEDIA_TSA_ROOTS")
if EVIDENCEMEDIA_TSA_URLS and EVIDENCEMEDIA_TSA_ROOTS is None:
    raise ValueError("EVIDENCEMEDIA_TSA_URLS is set: EVIDENCEMEDIA_TSA_ROOTS must name a PEM file of the TSAs' roots.")
EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS = _env_count("EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS", 10)
# A checkpoint still without a time-stamp this many minutes after it was made raises an alarm on the audit page.
EVIDENCEMEDIA_TSA_ALARM_AFTER = timedelta(minutes=_env_count("EVIDENCEMEDIA_TSA_ALARM_AFTER", 60))
# How long the push of a checkpoint to a witness (c2sp.org/tlog-witness) waits for its answer.
EVIDENCEMEDIA_WITNESS_TIMEOUT_SECONDS = _env_count("EVIDENCEMEDIA_WITNESS_TIMEOUT_SECONDS", 10)
# Witness URLs are entered by organisation administrators: unless this is on, the server pushes only to public
# addresses (never loopback, private or link-local ones such as a cloud's metadata service), checked on connecting.
EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES = _env_bool("EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES", False)
# Root certificates (a PEM file) whose report signers this installation calls trusted when verifying a report.
EVIDENCEMEDIA_TRUSTED_ROOTS = _env_path("EVIDENCEMEDIA_TRUSTED_ROOTS")

# Rate limits (uploads, failed logins) count in the cache; Redis shares the counts between machines.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("EVIDENCEMEDIA_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["EVIDENCEMEDIA_REDIS_URL"],
    }

# Proxies in front of the site that append the client's address to X-Forwarded-For (0: the header is ignored).
EVIDENCEMEDIA_TRUSTED_PROXY_COUNT = _env_count("EVIDENCEMEDIA_TRUSTED_PROXY_COUNT", 0)

# Failed log-ins (page, admin, API token endpoint) lock the username out for a while: counted per username, so that
# the one address a TLS proxy gives everybody locks no one else out. Each attempt is recorded with its address.
AXES_FAILURE_LIMIT = _env_count("EVIDENCEMEDIA_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes warns when the address is not a lock-out parameter; here that is the point (a per-username+address count
# would add nothing: under one limit the username's own count always reaches it first).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its start-up banner would go into every management command's output
AXES_CLIENT_IP_CALLABLE = "cases.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "cases.auth_views.lockout_response"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cases.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Fail closed: a view open to more than active members says so by naming IsPublic or IsSignedIn.
    "DEFAULT_PERMISSION_CLASSES": ["cases.api.permissions.IsActiveMember"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "cases.api.schema.ApiAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "upload": os.environ.get("EVIDENCEMEDIA_UPLOAD_RATE", "300/hour"),
        "anonymous-verify": os.environ.get("EVIDENCEMEDIA_VERIFY_RATE", "60/hour"),
    },
    "EXCEPTION_HANDLER": "cases.api.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Evidence Media API",
    "DESCRIPTION": "Cases, evidence ingest and forensic integrity analysis for media evidence.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["cases.api.permissions.IsPublic"],  # the schema and its docs pages are public by name
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set; analyses, evidence items and reports share one set of progress values.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.CaseStatus",
        "RunStatusEnum": "cases.models.AnalysisStatus",
        "InvitationStatusEnum": "cases.models.InvitationStatus",
    },
    # Separate request and response components, so that read-only fields are never asked of a client.
    "COMPONENT_SPLIT_REQUEST": True,
}


def _q_cluster() -> dict:
    """django-q2: the ORM broker by default (nothing else to run); Redis when EVIDENCEMEDIA_REDIS_URL is set."""
    cluster = {
        "name": "evidencemedia",
        "workers": int(os.environ.get("EVIDENCEMEDIA_Q_WORKERS", "2")),
        "timeout": 600,
        "retry": 900,
        "max_attempts": 3,
        "save_limit": 1000,
        "catch_up": False,
        "label": "Background tasks",
        # A worker whose peak memory passed this (KiB) is replaced after its task, so one hostile file cannot
        # leave it large for every later task; and every worker is replaced after `recycle` tasks regardless.
        "max_rss": int(os.environ.get("EVIDENCEMEDIA_Q_WORKER_MAX_RSS_MB", "512")) * 1024,
        "recycle": 200,
        # Q_CLUSTER_NAME=<queue> runs a cluster on a queue of its own; django-q2 requires this key when it is set.
        "ALT_CLUSTERS": {},
    }
    if redis_url := os.environ.get("EVIDENCEMEDIA_REDIS_URL"):
        cluster["redis"] = redis_url
    else:
        cluster["orm"] = "default"
    return cluster


Q_CLUSTER = _q_cluster()
# The niceness `manage.py taskcluster` gives itself, and so its workers and their tools (0-19; 0 leaves it as
# started): analyses and reports take the CPU the pages leave, so that pages stay fast on a machine that also serves.
EVIDENCEMEDIA_Q_NICE = _env_count("EVIDENCEMEDIA_Q_NICE", 10)
if EVIDENCEMEDIA_Q_NICE > 19:
    raise ValueError("EVIDENCEMEDIA_Q_NICE must be a niceness from 0 to 19.")
# A claimed analysis or report is held by its worker for this long, renewed while it works; once it lapses (the
# worker was killed, its machine lost) the scheduled sweep queues the run again (cases/task_runs.py).
TASK_LEASE_SECONDS = int(os.environ.get("EVIDENCEMEDIA_TASK_LEASE_SECONDS", "120"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Nothing inline: scripts and styles come from this server's static files, so an injected <script> or style does
# not run. Images may also be data: URLs (the API docs' icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# No page uses the camera, microphone, location or other powerful features; no embedded frame may either.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
