"""The command line as a person meets it: the command `run_local` tells them to type works as printed, in a new
terminal, and `runs` starts without loading the model code."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from auditor.datasets.models import Dataset
from auditor.runs.management.commands import run_local
from auditor.runs.models import AuditRun
from worker.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sklearn", "cleanlab")
# What a new terminal does not have: whatever `make demo` or this test run set for its own processes.
SET_FOR_ONE_PROCESS = ("DEMO", "DEBUG", "DATA_DIR", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")


def new_terminal(**settings: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in SET_FOR_ONE_PROCESS} | settings


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DATA_DIR as `make demo` leaves it: migrated, the dataset `demo` imported and its first audit queued."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    env = new_terminal(DEMO="1", DATA_DIR=str(data_dir))
    assert manage("migrate", "-v0", env=env).returncode == 0
    script = (
        "from auditor.datasets.models import Dataset; from auditor.runs.models import AuditRun; "
        "AuditRun.objects.create(dataset=Dataset.objects.create(name='demo', audio_root='/nowhere'), kind='audit')"
    )
    made = manage("shell", "-c", script, env=env)
    assert made.returncode == 0, made.stderr
    return data_dir


@pytest.mark.django_db
def test_the_command_run_local_prints_to_watch_the_audit_works_as_printed(
    demo_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run_local as `make demo` starts it: DEMO=1 for that one process, from the project's folder.
    for name in SET_FOR_ONE_PROCESS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEMO", "1")
    monkeypatch.setenv("DATA_DIR", str(demo_data))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(run_local, "queue_run", lambda *args, **kwargs: AuditRun(pk=1))
    monkeypatch.setattr(celery_app.conf, "broker_url", celery_app.conf.broker_url)  # _first_audit points it
    Dataset.objects.create(name="demo", audio_root="/nowhere")
    out = io.StringIO()
    run_local.Command(stdout=out)._first_audit("demo", 2, {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    printed = out.getvalue().split("watch it with: ")[1].strip()
    assert printed.startswith(f"DEMO=1 DATA_DIR={demo_data} ") and printed.endswith(" manage.py runs demo")

    result = subprocess.run(
        ["/bin/sh", "-c", printed], cwd=ROOT, env=new_terminal(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#1     demo             audit    queued")
    # What it printed before: in a new terminal, no SECRET_KEY and no DEMO, so Django refuses to start.
    before = subprocess.run(
        ["/bin/sh", "-c", printed.split(" ", 2)[2]], cwd=ROOT, env=new_terminal(), capture_output=True, text=True
    )
    assert before.returncode != 0 and "SECRET_KEY is not set" in before.stderr


def test_runs_starts_without_the_model_code_or_the_site_checks(demo_data: Path) -> None:
    script = (
        "import runpy, sys\n"
        "sys.argv = ['manage.py', 'runs', 'demo']\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('heavy:', ' '.join(heavy) or 'none', '| urls:', 'auditor.urls' in sys.modules)\n"
    )
    env = new_terminal(DEMO="1", DATA_DIR=str(demo_data))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "heavy: none | urls: False"


@pytest.mark.django_db
def test_runs_lists_durations_humanly_and_says_when_there_is_nothing(tmp_path: Path) -> None:
    dataset = Dataset.objects.create(name="demo", audio_root=str(tmp_path))
    out = io.StringIO()
    call_command("runs", "demo", stdout=out)
    assert out.getvalue() == "no runs of demo yet\n"
    started = timezone.now() - timedelta(hours=1)
    AuditRun.objects.create(
        dataset=dataset,
        kind="retrain",
        status="succeeded",
        stage="done",
        progress=1.0,
        message="v2: macro AUC 0.801 against the given labels",
        started_at=started,
        finished_at=started + timedelta(seconds=2250),
    )
    out = io.StringIO()
    call_command("runs", "demo", stdout=out)
    assert "done (37 min 30 s) — v2: macro AUC 0.801" in out.getvalue()
    with pytest.raises(CommandError, match="no dataset named 'nope'"):
        call_command("runs", "nope")


def test_a_missing_or_bad_setting_is_one_line_that_says_what_to_set() -> None:
    # A new terminal without DEMO=1: no SECRET_KEY.
    missing = manage("runs", "demo", env=new_terminal())
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == (
        "label-auditor: SECRET_KEY is not set. Set it to a long random string (or set DEMO=1 for a local demo)."
    )
    bad = manage("runs", "demo", env=new_terminal(SECRET_KEY="x" * 50, DATABASE_URL="postgress://db/auditor"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("label-auditor: DATABASE_URL cannot be read: Scheme 'postgress://' is unknown")
