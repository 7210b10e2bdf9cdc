"""The admin pages on a large dataset: 1,000,000 clips × 50 tags on PostgreSQL, rows generated (no audio).

    python benchmarks/pages.py                  # 1,000,000 clips
    python benchmarks/pages.py --clips 100000

A fresh database (`bench_pages`) gets one dataset of `--clips` clips and 50 tags with ~5% positives per tag
(given labels; 2% of clips unreadable), 2,000 verified labels, an active model version and a previous one
with per-tag metrics, 1,000 open review items and 150 resolved calibration items per tag for 5 tags. Then
each page is rendered through Django's test client (the whole request: middleware, queries, template) a
few times; the figure is the median, with the number of SQL queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "bench_pages"
TAGS = 50
PAGES = [
    ("datasets list", "/"),
    ("dataset page", "/datasets/big/"),
    ("per-tag health", "/datasets/big/health/"),
    ("tag priorities", "/datasets/big/tags/"),
    ("runs", "/datasets/big/runs/"),
    ("model versions", "/datasets/big/models/"),
    ("label history", "/datasets/big/history/"),
    ("annotators", "/datasets/big/annotators/"),
]


def setup(clips: int) -> None:
    import psycopg

    base = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    os.environ.update(
        {
            "DATABASE_URL": base.rsplit("/", 1)[0] + f"/{DATABASE}",
            "SECRET_KEY": "bench-" + "x" * 50,
            "ALLOWED_HOSTS": "testserver",
            "HTTPS": "0",
            "DJANGO_SETTINGS_MODULE": "auditor.settings",
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": "/tmp/bench-pages-data",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO datasets_dataset (name, audio_root, description, reveal_label, created_at, "
            "updated_at) VALUES ('big', '/data/big', '', 'after_listen', now(), now()) RETURNING id"
        )
        dataset = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO datasets_tag (dataset_id, name, description, weight, active, focus, positive_labels, "
            "verified_labels, created_at) SELECT %s, 'tag' || t, '', 1 + (t %% 3), true, false, 0, 0, now() "
            "FROM generate_series(1, %s) t",
            [dataset, TAGS],
        )
        cursor.execute(
            "INSERT INTO datasets_clip (dataset_id, path, duration, sample_rate, readable, "
            "unreadable_reason, created_at) SELECT %s, 'audio/' || c || '.mp3', 30, 16000, c %% 50 <> 0, "
            "CASE WHEN c %% 50 = 0 THEN 'cannot decode' ELSE '' END, now() "
            "FROM generate_series(1, %s) c",
            [dataset, clips],
        )
        # ~5% positives per tag, spread so tags differ (2% … 8%).
        cursor.execute(
            "INSERT INTO labels_label (dataset_id, clip_id, tag_id, present, verified, updated_at) "
            "SELECT %s, c.id, t.id, true, false, now() FROM datasets_clip c CROSS JOIN datasets_tag t "
            "WHERE c.dataset_id = %s AND t.dataset_id = %s "
            "AND ((c.id * 7919 + t.id * 104729) %% 1000) < 20 + (t.id %% 7) * 10",
            [dataset] * 3,
        )
        cursor.execute("UPDATE labels_label SET verified = true WHERE id %% 1250 = 0", [])
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM labels_label")
        labels = cursor.fetchone()[0]
    from auditor.datasets.models import Dataset
    from auditor.labels.counts import recount_tags

    recount_tags(Dataset.objects.get(pk=dataset))  # what an import does after writing labels
    _model_and_queue(dataset)
    print(f"generated {clips:,} clips × {TAGS} tags, {labels:,} label rows in {time.perf_counter() - started:.0f} s")


def _model_and_queue(dataset_id: int) -> None:
    import numpy as np

    from auditor.datasets.models import Clip, Tag
    from auditor.queue.models import ReviewItem
    from auditor.runs.models import ModelVersion

    rng = np.random.default_rng(0)
    tags = list(Tag.objects.filter(dataset_id=dataset_id).order_by("id"))
    for number in (1, 2):
        metrics = {
            "tags": {
                t.name: {
                    "roc_auc_given": float(rng.uniform(0.7, 0.95)),
                    "roc_auc_verified": float(rng.uniform(0.7, 0.95)),
                    "pr_auc_given": float(rng.uniform(0.2, 0.7)),
                    "noise_estimate": 0.1,
                    "tagability_used": float(rng.uniform(0.4, 0.9)),
                }
                for t in tags
            }
        }
        ModelVersion.objects.create(
            dataset_id=dataset_id,
            number=number,
            active=number == 2,
            metrics=metrics,
            artifact_path="/nowhere",
            macro_auc_given=0.85,
        )
    clip_ids = list(Clip.objects.filter(dataset_id=dataset_id).order_by("id").values_list("id", flat=True)[:2000])
    items = [
        ReviewItem(
            dataset_id=dataset_id,
            clip_id=clip_ids[k],
            tag=tags[k % TAGS],
            kind="flagged",
            given=False,
            score=0.5,
            priority=0.5,
        )
        for k in range(1000)
    ]
    for t in tags[:5]:
        items += [
            ReviewItem(
                dataset_id=dataset_id,
                clip_id=clip_ids[1000 + k],
                tag=t,
                kind="calibration",
                given=k < 30,
                stratum="pos" if k < 30 else f"neg-{k % 4}",
                stratum_size=20000,
                status="resolved",
                resolution=k < 25 or k % 9 == 0,
            )
            for k in range(150)
        ]
    ReviewItem.objects.bulk_create(items)


def measure(path: str, repeats: int) -> tuple[float, int]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-admin"))
    timings, queries = [], 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
        queries = len(captured.captured_queries)
    return statistics.median(timings) * 1000, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    setup(args.clips)
    from auditor.accounts.roles import create_or_reset_user

    create_or_reset_user("bench-admin", role="admin")
    print("page | median ms | SQL queries")
    for label, path in PAGES:
        ms, queries = measure(path, args.repeats)
        print(f"{label} | {ms:.0f} | {queries}")


if __name__ == "__main__":
    main()
