"""The review API under load: many annotators claiming and answering against gunicorn on PostgreSQL.

    python benchmarks/review_load.py                       # 100,000 items, PostgreSQL on 127.0.0.1:5432
    python benchmarks/review_load.py --items 20000 --seconds 10

A fresh database (`bench_review`) gets one dataset of `--items` open review items over 10 tags with random
priorities; the production-style server (gunicorn, DEBUG off, the project's settings) serves it on loopback.
Each simulated annotator holds a logged-in session and does what the review page does: one POST to
/api/review/items/<id>/submit with `next: true`, which records the answer and leases the next item.

1. Paced (open loop): `--paced` annotators each answer once a second at a fixed schedule (random phase);
   latency is measured from the scheduled send time, so a slow server cannot hide its queueing.
2. Closed loop: 1, 8 and 32 annotators answer as fast as the server lets them, `--seconds` each;
   decisions per second and latency.
Every response is checked (status 200, a next item); the database is checked afterwards (each answered
item has one review; no item reviewed twice). The clients run on the same 2 cores as the server and the
database, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "bench_review"


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds
    failures: list[str] = field(default_factory=list)
    decisions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, latency: float, failure: str | None) -> None:
        with self.lock:
            if failure:
                self.failures.append(failure)
            else:
                self.latencies.append(latency)
                self.decisions += 1


class Annotator:
    """One logged-in session on its own keep-alive connection, answering like the review page."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.csrf = secrets.token_hex(16)  # a 32-character secret: cookie and header carry the same value
        self.cookie = f"sessionid={session_key}; csrftoken={self.csrf}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.item: int | None = None

    def post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "Cookie": self.cookie,
            "X-CSRFToken": self.csrf,
            "Referer": f"http://127.0.0.1:{self.port}/review/",
        }
        for attempt in (1, 2):
            try:
                self.connection.request("POST", path, data, headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (OSError, http.client.HTTPException):
                # The server closes idle keep-alive connections; like a browser, send again on a new one
                # (answers are idempotent: the same answer twice counts once).
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {payload[:200]!r}")
        return json.loads(payload)

    def start(self) -> None:
        self.item = self.post("/api/review/claim", {})["item"]["id"]

    def decide(self) -> None:
        """Answer the held item and take the next one (one request, as the page does)."""
        decision = random.choice(("present", "absent"))
        answer = self.post(f"/api/review/items/{self.item}/submit", {"decision": decision, "next": True})
        if answer["next"] is None:
            raise RuntimeError("the queue ran dry")
        self.item = answer["next"]["id"]


def setup_database(items: int, users: int) -> tuple[str, list[str]]:
    import psycopg

    base = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    url = base.rsplit("/", 1)[0] + f"/{DATABASE}"
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "HTTPS": "0",
            "DJANGO_SETTINGS_MODULE": "auditor.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DATA_DIR", str(Path("/tmp/bench-review-data")))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
    from auditor.datasets.models import Clip, Dataset, Tag
    from auditor.queue.models import ReviewItem

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    dataset = Dataset.objects.create(name="load", audio_root="/nonexistent")
    tags = Tag.objects.bulk_create([Tag(dataset=dataset, name=f"tag{t}") for t in range(10)])
    clip_count = items // len(tags)
    clips = Clip.objects.bulk_create(
        [Clip(dataset=dataset, path=f"c{i}.wav") for i in range(clip_count)], batch_size=10000
    )
    rng = np.random.default_rng(0)
    scores = rng.random(clip_count * len(tags))
    ReviewItem.objects.bulk_create(
        (
            ReviewItem(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="flagged",
                given=False,
                probability=0.5,
                score=float(scores[n]),
                priority=float(scores[n]) * (1 + (tag.pk % 3)),
            )
            for n, (clip, tag) in enumerate((c, t) for c in clips for t in tags)
        ),
        batch_size=10000,
    )
    with django.db.connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")  # the bulk load's dirty pages written now, not during the measurements
    print(f"made {ReviewItem.objects.count():,} items in {time.perf_counter() - started:.1f} s")
    sessions = []
    for n in range(users):
        user, _ = create_or_reset_user(f"annotator{n}", role=ANNOTATOR_GROUP, password=secrets.token_hex(8))
        store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # as a login through the page records
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return url, sessions


class VacuumStandIn(threading.Thread):
    """Vacuums and analyzes the queue tables, the reviews and the tags (whose totals change with every answer)
    every `interval` seconds, as autovacuum would with `autovacuum_naptime` = interval (a migration sets the queue
    tables' thresholds low; the tags' default threshold is 50 rows) — for a PostgreSQL that runs with autovacuum
    off, as test servers often do. Without it every claim steps over every item resolved since the run began and
    plans with the statistics of an empty reviews table, which no deployment sees; with it the vacuums' own CPU
    counts in the figures."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.interval, self.stopped = url, interval, threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopped.wait(self.interval):
                connection.execute("VACUUM (ANALYZE) queue_reviewitem, queue_lease, datasets_tag, queue_review")


def autovacuum_is_on(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SHOW autovacuum").fetchone()[0] == "on"


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "auditor.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/login/")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def paced(annotators: list[Annotator], seconds: float) -> Results:
    results = Results()
    begin = time.perf_counter() + 0.5

    def run(annotator: Annotator) -> None:
        next_send = begin + random.random()  # each annotator's own phase within the second
        while next_send < begin + seconds:
            time.sleep(max(0.0, next_send - time.perf_counter()))
            failure = None
            try:
                annotator.decide()
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                failure = str(exc)
            results.add(time.perf_counter() - next_send, failure)
            next_send += 1.0

    _run_all(annotators, run)
    return results


def closed(annotators: list[Annotator], seconds: float) -> tuple[Results, float]:
    results = Results()
    stop = time.perf_counter() + seconds

    def run(annotator: Annotator) -> None:
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            failure = None
            try:
                annotator.decide()
            except Exception as exc:  # noqa: BLE001
                failure = str(exc)
            results.add(time.perf_counter() - sent, failure)

    started = time.perf_counter()
    _run_all(annotators, run)
    return results, time.perf_counter() - started


def _run_all(annotators: list[Annotator], run) -> None:
    threads = [threading.Thread(target=run, args=(a,)) for a in annotators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far: the whole machine (from /proc/stat), the server's processes, this client.

    PostgreSQL's backends come and go with connections, so its share is what the machine used beyond the
    server and the client (other work on the machine lands there too).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    busy = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    totals = {"machine": (sum(busy) - busy[3] - busy[4]) / ticks, "gunicorn": 0.0}  # all but idle and iowait
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "gunicorn" in command:
            totals["gunicorn"] += (int(fields[11]) + int(fields[12])) / ticks
    totals["client"] = time.process_time()
    return totals


def cpu_line(before: dict[str, float], decisions: int) -> str:
    used = {name: (after - before[name]) * 1000 / max(decisions, 1) for name, after in cpu_seconds().items()}
    rest = used["machine"] - used["gunicorn"] - used["client"]
    return (
        f"  CPU ms per decision: {used['machine']:.1f} in all: the server {used['gunicorn']:.1f}, "
        f"this client {used['client']:.1f}, PostgreSQL and the rest {rest:.1f}"
    )


def summary(results: Results) -> str:
    for failure in sorted(set(results.failures))[:3]:
        print(f"  failure: {failure}")
    ms = np.array(results.latencies) * 1000
    if not len(ms):
        return f"no successful request; {len(results.failures)} failed"
    return (
        f"{results.decisions} decisions, median {np.median(ms):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, "
        f"max {ms.max():.1f} ms, failed {len(results.failures)}"
    )


def check_database() -> str:
    from django.db.models import Count

    from auditor.queue.models import Review, ReviewItem

    twice = Review.objects.values("item").annotate(n=Count("pk")).filter(n__gt=1).count()
    reviewed = Review.objects.count()
    resolved = ReviewItem.objects.filter(status="resolved").count()
    assert twice == 0, f"{twice} items have more than one review"
    assert resolved == reviewed, f"{reviewed} reviews but {resolved} resolved items"
    return f"database: {reviewed:,} reviews, each on its own item, all resolved"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=32, help="annotators answering once a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--clients", default="1,8,32", help="closed-loop client counts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (run_local starts 2 × 4 threads)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--vacuum-every", type=float, default=10.0, help="seconds between vacuums when the server's autovacuum is off"
    )
    args = parser.parse_args()
    random.seed(0)
    counts = [int(c) for c in args.clients.split(",")]
    url, sessions = setup_database(args.items, max([args.paced, *counts]))
    vacuum = None if autovacuum_is_on(url) else VacuumStandIn(url, args.vacuum_every)
    server = start_server(args.port, args.workers, args.threads)
    try:
        if vacuum is not None:
            vacuum.start()
            print(f"autovacuum is off on this server: the queue tables are vacuumed every {args.vacuum_every:g} s")
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; gunicorn "
            f"{args.workers} workers × {args.threads} threads; PostgreSQL"
        )
        annotators = [Annotator(args.port, key) for key in sessions]
        for annotator in annotators:
            annotator.start()
        warm, _ = closed(annotators[:8], 3.0)  # connections, caches, query plans
        print(f"warm-up: {summary(warm)}")
        before = cpu_seconds()
        result = paced(annotators[: args.paced], args.seconds)
        print(f"paced, {args.paced} annotators × 1 decision/s: {summary(result)}")
        print(cpu_line(before, result.decisions))
        for count in counts:
            before = cpu_seconds()
            result, elapsed = closed(annotators[:count], args.seconds)
            print(f"closed loop, {count:>2} clients: {result.decisions / elapsed:.0f} decisions/s; {summary(result)}")
            print(cpu_line(before, result.decisions))
        print(check_database())
    finally:
        if vacuum is not None:
            vacuum.stopped.set()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
