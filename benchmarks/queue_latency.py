"""The queue's own overhead, and an audit through Celery against `audit --sync` on the same corpus.

    python benchmarks/queue_latency.py                 # Redis at REDIS_URL (default redis://127.0.0.1:6379/0)
    python benchmarks/queue_latency.py --clips 1000    # the audit part on a larger corpus

Enqueue → start latency: 200 `auditor.ping` tasks sent one after another to an idle worker (the task
measures from the sender's clock to its own start; same machine). Then the same corpus is audited once
in-process (--sync) and once through a `gpu` worker, timed from the command to the run's end.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=45)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "DATA_DIR": str(work / "data"),
        "DEMO": "1",
        "REDIS_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "auditor.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from auditor.labels.importing import import_dataset
    from auditor.runs.models import AuditRun
    from tagging.demo_corpus import CorpusConfig, make_demo_corpus
    from worker.tasks import ping

    call_command("migrate", verbosity=0)
    celery = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker",
        "worker",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = subprocess.Popen([*celery, "-Q", "default,gpu", "--pool", "solo"], cwd=ROOT, env=env)
    try:
        ping.apply_async(kwargs={"sent_at": time.time()}).get(timeout=60)  # the worker is up
        for _ in range(5):
            ping.apply_async(kwargs={"sent_at": time.time()}).get(timeout=10)
        latencies = [ping.apply_async(kwargs={"sent_at": time.time()}).get(timeout=10) for _ in range(args.tasks)]
        latency_ms = np.array(latencies) * 1000

        corpus = work / "corpus"
        make_demo_corpus(corpus, CorpusConfig(clips=args.clips, seed=404), workers=0)
        import_dataset("bench", audio_root=corpus / "audio", labels_file=corpus / "labels.csv")
        options = ["--folds", str(args.folds), "--epochs", str(args.epochs)]
        started = time.perf_counter()
        call_command("audit", "bench", "--sync", *options, stdout=open(os.devnull, "w"))  # noqa: SIM115
        sync_seconds = time.perf_counter() - started
        started = time.perf_counter()
        call_command("audit", "bench", *options, stdout=open(os.devnull, "w"))  # noqa: SIM115
        run = AuditRun.objects.order_by("-id").first()
        while run.status not in ("succeeded", "failed"):
            time.sleep(0.5)
            run.refresh_from_db()
        celery_seconds = time.perf_counter() - started
        assert run.status == "succeeded", run.error
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(
        f"enqueue → start over {args.tasks} no-op tasks: median {np.median(latency_ms):.1f} ms, "
        f"p99 {np.percentile(latency_ms, 99):.1f} ms, max {latency_ms.max():.1f} ms"
    )
    print(
        f"audit of {args.clips} clips, {args.folds} folds: --sync {sync_seconds:.0f} s, through Celery "
        f"{celery_seconds:.0f} s (features cached by the first)"
    )


if __name__ == "__main__":
    main()
