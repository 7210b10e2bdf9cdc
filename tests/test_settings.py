"""Settings come from the environment, fail loudly on bad values, and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from auditor.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DEMO", "HTTPS", "ALLOWED_HOSTS"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "auditor.settings", "DATA_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_env_bool_rejects_anything_but_a_boolean(monkeypatch) -> None:
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG='ture'"):
        env_bool("FLAG")
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG") is True


def test_env_int_and_list(monkeypatch) -> None:
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 1, minimum=0)
    monkeypatch.setenv("HOSTS", "a.example, b.example,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "k" * 20 + "Zq8#vP2!mW7$tR4%yU6^iO1&pA3*sD5(fG9)hJ0", "ALLOWED_HOSTS": "auditor.example.org"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_outside_demo(tmp_path: Path) -> None:
    result = manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_demo_keeps_a_generated_secret_key(tmp_path: Path) -> None:
    assert manage("check", env={"DEMO": "1"}, tmp_path=tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert manage("check", env={"DEMO": "1"}, tmp_path=tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


@pytest.mark.parametrize(
    ("broker", "cache"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://:secret@redis.internal:6380", "redis://:secret@redis.internal:6380/1"),
        ("rediss://redis.internal:6379/15", "rediss://redis.internal:6379/14"),
        ("redis+socket:///tmp/demo/redis.socket", "unix:///tmp/demo/redis.socket?db=1"),  # the demo's bundled one
        ("", ""),
    ],
)
def test_the_cache_lives_beside_the_broker_never_in_its_database(broker: str, cache: str) -> None:
    from auditor.settings import _cache_url

    assert _cache_url(broker) == cache


def test_a_test_run_without_redis_starts_the_bundled_one(monkeypatch) -> None:
    from tests.redis_server import _free_port, answers, ensure_test_redis

    monkeypatch.delenv("REDIS_URL", raising=False)
    nothing_there = _free_port()
    server = ensure_test_redis(default_port=nothing_there)
    try:
        assert server is not None
        port = int(os.environ["REDIS_URL"].split(":")[-1].split("/")[0])
        assert port != nothing_there and answers(port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_train_threads_sets_pytorchs_threads_for_a_run(settings) -> None:
    import torch

    from auditor.runs.pipeline import apply_training_threads

    before = torch.get_num_threads()
    try:
        settings.TRAIN_THREADS = 0  # PyTorch's own choice stands
        apply_training_threads()
        assert torch.get_num_threads() == before
        settings.TRAIN_THREADS = 1
        apply_training_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_cpu_bfloat16_false_keeps_a_run_on_float32(settings) -> None:
    import torch

    from auditor.runs.pipeline import apply_training_threads
    from tagging.prediction import autocast, cpu_runs_bfloat16, set_cpu_bfloat16

    cpu = torch.device("cpu")
    try:
        settings.CPU_BFLOAT16 = False
        apply_training_threads()
        with autocast(cpu):
            assert not torch.is_autocast_enabled("cpu")
        settings.CPU_BFLOAT16 = True
        apply_training_threads()
        with autocast(cpu):  # bfloat16 only where the CPU runs it in hardware
            assert torch.is_autocast_enabled("cpu") == cpu_runs_bfloat16()
    finally:
        set_cpu_bfloat16(True)
