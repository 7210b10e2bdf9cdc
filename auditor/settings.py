"""Django settings, read from environment variables (see README, "Configuration").

Embedded defaults (SQLite, local data directory) run the demo with nothing installed by hand;
production sets SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from auditor.env import env_bool, env_float, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# DEMO: the local quick start (embedded defaults, plain HTTP on 127.0.0.1).
DEMO = env_bool("DEMO", False)
DEBUG = env_bool("DEBUG", False)

# Audio of uploaded datasets, feature caches, model runs, the SQLite file.
DATA_DIR = env_path("DATA_DIR", BASE_DIR / "data")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not (DEMO or DEBUG):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string (or set DEMO=1 for a local demo)."
        )
    # Demo and debug runs keep a generated key on disk, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEMO or DEBUG) else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "ninja",  # the API docs' scripts and styles, served from here rather than fetched from elsewhere
    "auditor.accounts",
    "auditor.datasets",
    "auditor.labels",
    "auditor.queue",
    "auditor.runs",
    "auditor.audits",  # migration history only (its tables moved to labels, queue and runs)
    "auditor.review",
    "auditor.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: NUL characters, oversized API bodies and the like are refused here.
    "auditor.inputs.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it turns a locked-out login into the lockout page whatever the view did.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "auditor.urls"
WSGI_APPLICATION = "auditor.wsgi.application"

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
                "auditor.accounts.context_processors.roles",
                "auditor.context_processors.site",
            ],
        },
    },
]


def _database(url: str) -> dj_database_url.DBConfig:
    try:
        return dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:  # an unknown scheme, a port that is not a number …
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None


# SQLite by default; PostgreSQL (or anything dj-database-url reads) via DATABASE_URL.
DATABASES = {"default": _database(env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'auditor.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # Statements the review queue runs on every answer are parsed and planned once per connection, not each
    # time (measured: a third less CPU per decision, benchmarks/review_load.py). Turn off behind a pooler in
    # transaction mode (pgbouncer), where a prepared statement may not exist on the next connection.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Empty REDIS_URL means "embedded": the worker issue starts a bundled Redis for the demo.
REDIS_URL = env_str("REDIS_URL")


def _cache_url(redis_url: str) -> str:
    """The cache's Redis: CACHE_URL, else the broker's server one database up, so that clearing the cache
    can never drop the broker's queued tasks. The broker's unix-socket form (the demo's bundled Redis) is
    translated to the one the cache client reads."""
    if env_str("CACHE_URL") or not redis_url:
        return env_str("CACHE_URL")
    parts = urlsplit(redis_url)
    if parts.scheme == "redis+socket":
        return f"unix://{parts.path}?db=1"
    if parts.scheme not in ("redis", "rediss") or not (parts.path.strip("/") or "0").isdigit():
        raise ImproperlyConfigured(f"REDIS_URL={redis_url!r}: expected redis://HOST:PORT/DATABASE-NUMBER")
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{database + 1 if database < 15 else database - 1}"))


# Sessions and computed figures (calibration intervals) are shared by every process through Redis
# where there is one; a process of its own (the command line of the embedded demo) keeps them in memory.
CACHES = {
    "default": (
        {
            "BACKEND": "auditor.cache.FailOpenRedisCache",  # an unreachable Redis reads as an empty cache
            "LOCATION": _cache_url(REDIS_URL),
            "KEY_PREFIX": "auditor",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if _cache_url(REDIS_URL)
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The user and their role groups in one statement per request (auditor.accounts.backends). One backend checks
# passwords: a second would hash every wrong password twice. django-axes' backend goes first and checks none: it
# only refuses a locked-out login, before any password is hashed; sessions name the last one.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "auditor.accounts.backends.UserWithRolesBackend"]
# Sessions are read from the cache and kept in the database too, so a restarted cache logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
CSRF_FAILURE_VIEW = "auditor.review.api.csrf_failure"  # JSON for API clients, Django's page for browsers
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Demo and debug serve static files straight from the source folders (no collectstatic step);
# production serves what `manage.py collectstatic` gathered into STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEMO or DEBUG
STATIC_ROOT = None if WHITENOISE_USE_FINDERS else DATA_DIR / "static"

# HTTPS hardening: on unless this is a local demo/debug run or HTTPS=0 (e.g. a trusted LAN).
HTTPS = env_bool("HTTPS", not (DEMO or DEBUG))
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    # The reverse proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Where the footer's "source code" link goes (AGPL section 13): by default an archive of the files this server runs.
SOURCE_URL = env_str("SOURCE_URL", "/source.zip")

# Importing: processes that probe audio files in parallel (0 = one per CPU).
IMPORT_PROBE_WORKERS = env_int("IMPORT_PROBE_WORKERS", 0, minimum=0)
# Folders the import form may read labels files and audio from (labels can always be uploaded). Empty: uploads
# only, and audio roots only of datasets that exist already. The command line reads any path its user can.
IMPORT_ROOTS = [Path(p).expanduser().resolve() for p in env_list("IMPORT_ROOTS", [])]
if DEMO and "IMPORT_ROOTS" not in os.environ:
    IMPORT_ROOTS = [DATA_DIR / "demo-corpus"]  # the demo corpus `make demo` generates, and nothing else
# The largest labels file the import form takes, in bytes, and the longest csv field (characters).
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 64 * 1024 * 1024, minimum=1024)
IMPORT_MAX_FIELD_CHARS = env_int("IMPORT_MAX_FIELD_CHARS", 128 * 1024, minimum=1024)
# Clips longer than this (seconds) are refused at import: their features and spectrograms are computed whole.
MAX_CLIP_SECONDS = env_float("MAX_CLIP_SECONDS", 1200.0, minimum=1.0)
# Spectrograms of longer clips are drawn by the worker after an audit, never in a web request.
SPECTROGRAM_REQUEST_MAX_SECONDS = env_float("SPECTROGRAM_REQUEST_MAX_SECONDS", 120.0, minimum=1.0)
# Request bodies other than file uploads (JSON, forms). The tag page of a 200-tag dataset posts ~1,200 fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 20_000, minimum=100)
FILE_UPLOAD_HANDLERS = [
    "auditor.inputs.LimitedUploadHandler",  # stops an upload past IMPORT_MAX_UPLOAD_BYTES as it arrives
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Login throttling (django-axes, counted in the database so every web process sees the same counts): after
# LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one client address, further logins for it are
# refused for LOGIN_LOCKOUT_MINUTES without checking the password. Sessions already signed in are unaffected.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success does not wipe the failures: a guesser with one account of their own would otherwise reset their
# address's count by logging into it between guesses. Failures age out after the lockout window instead.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "auditor.accounts.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "auditor.accounts.throttle.client_address"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # Django logs every 403 with a traceback; a refusal is the site working, so it is one line (5xx keep theirs).
    "filters": {"refusal_in_one_line": {"()": "auditor.error_pages.RefusalInOneLine"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-axes logs every successful login at INFO; lockouts are warnings.
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["refusal_in_one_line"]},
    },
}

# Celery: JSON only; Redis broker from REDIS_URL. Training and scoring go to the `gpu` queue, whose
# worker runs one job at a time; everything else to `default`. The database row of a run is the truth
# about it, so a redelivered task does no harm (see auditor.runs.pipeline.execute_run).
CELERY_BROKER_URL = REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None  # runs report through the database
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"auditor.run": {"queue": "gpu"}, "auditor.extract_features": {"queue": "default"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest job, so Redis does not hand a running job to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("RUN_TIME_LIMIT", 6 * 3600, minimum=60) + 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A run's worker touches its heartbeat this often; the sweeper fails runs silent for RUN_HEARTBEAT_TIMEOUT.
RUN_HEARTBEAT_SECONDS = env_int("RUN_HEARTBEAT_SECONDS", 30, minimum=1)
RUN_HEARTBEAT_TIMEOUT = env_int("RUN_HEARTBEAT_TIMEOUT", 300, minimum=5)
RUN_TIME_LIMIT = env_int("RUN_TIME_LIMIT", 6 * 3600, minimum=60)
# A worker's audit spreads feature extraction over the `default` workers in chunks of this many clips, and
# extracts the rest itself when no chunk finishes for FEATURE_FANOUT_PATIENCE seconds.
FEATURE_CHUNK_SIZE = env_int("FEATURE_CHUNK_SIZE", 256, minimum=1)
FEATURE_FANOUT_PATIENCE = env_int("FEATURE_FANOUT_PATIENCE", 120, minimum=1)
# PyTorch's threads for training and scoring in a run; 0: PyTorch's own choice (one per core). On a machine that
# does other work too, fewer is faster: on two cores with one kept busy, an audit took 84 s on two threads and 18 s
# on one (idle: 12 s and 18 s), so `make demo` asks for one.
TRAIN_THREADS = env_int("TRAIN_THREADS", 0, minimum=0)
# bfloat16 for training and scoring on a CPU that runs it in hardware (AMX tiles: Intel Xeon since Sapphire Rapids);
# other CPUs stay on float32 either way. false: float32 everywhere but on a GPU (to compare, or rule it out).
CPU_BFLOAT16 = env_bool("CPU_BFLOAT16", True)
# An annotator's claim on a review item lasts this long unless the open page renews it.
REVIEW_LEASE_SECONDS = env_int("REVIEW_LEASE_SECONDS", 600, minimum=10)
# How often a review page with nothing to show asks for new questions (and an audit's progress).
REVIEW_EMPTY_POLL_SECONDS = env_int("REVIEW_EMPTY_POLL_SECONDS", 15, minimum=1)
# The per-tag health page marks a tag whose AUC against verified labels fell by more than this since the
# previous model version, and a tagability estimate whose 95% interval is wider than this.
HEALTH_AUC_DROP_MARGIN = env_float("HEALTH_AUC_DROP_MARGIN", 0.02, minimum=0.0)
HEALTH_MAX_INTERVAL_WIDTH = env_float("HEALTH_MAX_INTERVAL_WIDTH", 0.25, minimum=0.0)
# A retraining replaces the active model when, on the same calibration items, its macro ROC-AUC is not lower by
# more than this (the lower end of the 95% interval of the paired difference).
PROMOTION_MARGIN = env_float("PROMOTION_MARGIN", 0.01, minimum=0.0)
# Schedules live in the database (editable in the Django admin); these defaults are written there at start.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep runs": {"task": "auditor.sweep_runs", "schedule": 60.0},
    "retrain policy": {"task": "auditor.retrain_policy", "schedule": 600.0},
}
# The retrain policy retrains a dataset once this many labels were verified since its active model.
RETRAIN_AFTER_VERIFIED = env_int("RETRAIN_AFTER_VERIFIED", 200, minimum=1)
