"""Import speed: a generated N-row csv over N short audio files, probing included.

    python benchmarks/import.py --rows 100000                       # SQLite (a fresh temp file)
    python benchmarks/import.py --rows 100000 --database postgres://postgres@127.0.0.1:5432/postgres

With PostgreSQL, a scratch database `label_auditor_bench_import` is created on that server and dropped
afterwards. Prints rows/s for the first import and for an unchanged re-import.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH_DB = "label_auditor_bench_import"


def make_inputs(folder: Path, rows: int, tags: int, seed: int) -> Path:
    """N distinct short WAV files (0.1 s, 8 kHz) and a wide 0/1 csv with ~5% positives."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.1 * rng.standard_normal(800)).astype(np.float32), 8000, format="WAV", subtype="PCM_16")
    wav = buffer.getvalue()
    audio = folder / "audio"
    for i in range(rows):
        target = audio / f"{i // 1000:03d}" / f"clip_{i:06d}.wav"
        if i % 1000 == 0:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wav)
    positives = rng.random((rows, tags)) < 0.05
    labels = folder / "labels.csv"
    with labels.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", *(f"tag_{t:02d}" for t in range(tags))])
        for i in range(rows):
            writer.writerow([f"{i // 1000:03d}/clip_{i:06d}.wav", *np.where(positives[i], "1", "0")])
    return labels


def scratch_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    return url.rsplit("/", 1)[0] + "/" + SCRATCH_DB


def drop_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=50)
    parser.add_argument("--database", default="", help="A PostgreSQL URL (its server gets a scratch database).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        started = time.perf_counter()
        labels = make_inputs(work, args.rows, args.tags, args.seed)
        print(f"inputs: {args.rows} rows × {args.tags} tags in {time.perf_counter() - started:.1f} s")
        database = scratch_postgres(args.database) if args.database else f"sqlite:///{work / 'bench.sqlite3'}"
        os.environ.update({"DATABASE_URL": database, "DATA_DIR": str(work / "data"), "DEMO": "1"})
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditor.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from auditor.labels.importing import import_dataset
        from auditor.labels.models import Label

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        report = import_dataset("bench", audio_root=work / "audio", labels_file=labels)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = import_dataset("bench", audio_root=work / "audio", labels_file=labels)
        second = time.perf_counter() - started
        assert report.clips_added == args.rows and not again.changed
        engine = connection.vendor
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {engine}")
        print(
            f"first import: {args.rows} rows, {Label.objects.count()} labels in {first:.1f} s "
            f"= {args.rows / first:,.0f} rows/s (probing included)"
        )
        print(f"unchanged re-import: {second:.1f} s = {args.rows / second:,.0f} rows/s")
        connection.close()
    finally:
        if args.database:
            drop_postgres(args.database)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
