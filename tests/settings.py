"""Test settings: the real settings module, fed the environment a test run needs.

Tests run against DATABASE_URL when it is set (CI: PostgreSQL), else SQLite.
"""

import os
import tempfile

from tests.redis_server import ensure_test_redis

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="label-auditor-tests-"))
os.environ.setdefault("HTTPS", "0")
ensure_test_redis()  # REDIS_URL, or the default server, or a bundled one started for this run

from auditor.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
WHITENOISE_USE_FINDERS = True  # static files from the source folders, no collectstatic
STATIC_ROOT = None

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the Celery worker the integration tests start must see the same database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(DATA_DIR, "test.sqlite3")}  # noqa: F405
