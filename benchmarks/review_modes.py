"""Decisions per minute in whole-clip mode against one question at a time, on the queue a real audit makes.

    python benchmarks/review_modes.py                          # realistic corpus, 300 × 5 s clips
    python benchmarks/review_modes.py --corpus simple --listen 8 --decide 1.5

Steps: generate a corpus; import it; run the default audit (`audit --sync`, only the epochs lowered for time);
keep a copy of the database. Then one simulated annotator works the queue through the JSON API as the page does,
once per mode, each time from the same copy: one question at a time (`POST /api/review/claim`, then `…/submit`
with `next: true`), and whole-clip (`POST /api/review/claim-clip`, then one `…/submit` per row). Both answer
`--decisions` questions.

The annotator's time is modelled, the server's is measured: hearing a clip takes `--listen` seconds (the same in
both modes) and each answer `--decide` seconds. One question at a time plays the clip for every question, except
when the previous question was about the same clip (then it is not heard again: the model favours that mode);
whole-clip mode plays it once for all its rows. Decisions per minute = answers / (modelled time + the API's own
time). What decides the gain is how many of a clip's questions the queue holds at once, which the report shows.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import CORPUS_KINDS, Report, demo_corpus, fresh_work  # noqa: E402 - after the path is set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--corpus", choices=CORPUS_KINDS, default="realistic", help="Kind of generated corpus.")
    parser.add_argument("--decisions", type=int, default=300, help="Answers each mode gives.")
    parser.add_argument("--listen", type=float, default=6.0, help="Seconds to hear a clip (5 s clips, a margin).")
    parser.add_argument("--decide", type=float, default=1.5, help="Seconds to decide one question and press a key.")
    parser.add_argument("--work", help="Keep the corpus, database and runs here (default: a temporary folder).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()

    work = fresh_work(args.work, "bench-review-modes-")
    from django.core.management import call_command
    from django.db import connections

    from auditor.queue.models import ReviewItem

    say = Report()
    quiet = {"stdout": io.StringIO()}
    corpus = demo_corpus(work, clips=args.clips, seed=args.seed, duration=args.duration, kind=args.corpus)
    call_command("migrate", verbosity=0)
    audio, labels = str(corpus / "audio"), str(corpus / "labels.csv")
    call_command("import_dataset", "bench", "--audio-root", audio, "--labels", labels, **quiet)
    call_command("audit", "bench", "--sync", "--epochs", str(args.epochs), **quiet)
    queued = ReviewItem.objects.filter(status="open").count()
    clips = ReviewItem.objects.filter(status="open").values("clip_id").distinct().count()
    connections.close_all()
    database, snapshot = work / "bench.sqlite3", work / "after-audit.sqlite3"
    copy_database(database, snapshot)

    say(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; {args.corpus} corpus {args.clips} × "
        f"{args.duration:g} s (seed {args.seed}); default audit ({args.epochs} epochs): {queued} questions about "
        f"{clips} clips queued. Annotator: {args.listen:g} s to hear a clip, {args.decide:g} s per answer; "
        f"{args.decisions} answers per mode."
    )
    say()
    say("| mode | answers | clips heard | answers per clip heard | API time | decisions per minute |")
    say("| --- | --- | --- | --- | --- | --- |")
    results = {}
    for mode in ("question", "clip"):
        connections.close_all()
        copy_database(snapshot, database)
        results[mode] = work_the_queue(mode, args)
        answers, heard, api_seconds = results[mode]
        per_minute = answers / (heard * args.listen + answers * args.decide + api_seconds) * 60
        results[mode] = (answers, heard, api_seconds, per_minute)
        say(
            f"| {'one question at a time' if mode == 'question' else 'whole clip'} | {answers} | {heard} | "
            f"{answers / max(heard, 1):.2f} | {api_seconds:.1f} s | **{per_minute:.1f}** |"
        )
    say()
    say(f"Whole-clip mode: **{results['clip'][3] / results['question'][3]:.2f}×** the decisions per minute.")
    say.write(args.markdown)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


def copy_database(source: Path, target: Path) -> None:
    """A whole copy of an SQLite database in WAL mode (a file copy would miss the -wal file or mix in a stale one)."""
    import sqlite3
    from contextlib import closing

    for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def work_the_queue(mode: str, args) -> tuple[int, int, float]:
    """(answers given, clips heard, seconds spent in the API) for one annotator in `mode`."""
    from django.test import Client

    from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user

    user, _ = create_or_reset_user(f"annotator-{mode}", role=ANNOTATOR_GROUP)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    answers = heard = 0
    api_seconds = 0.0

    def post(url: str, body: dict) -> dict:
        nonlocal api_seconds
        started = time.perf_counter()
        response = client.post(url, json.dumps(body), content_type="application/json")
        api_seconds += time.perf_counter() - started
        assert response.status_code == 200, response.content
        return response.json()

    if mode == "question":
        item = post("/api/review/claim", {})["item"]
        last_clip = None
        while item is not None and answers < args.decisions:
            heard += item["clip"]["id"] != last_clip
            last_clip = item["clip"]["id"]
            item = post(f"/api/review/items/{item['id']}/submit", {"decision": "absent", "next": True})["next"]
            answers += 1
    else:
        rows = post("/api/review/claim-clip", {})["items"]
        while rows and answers < args.decisions:
            heard += 1
            for row in rows[: args.decisions - answers]:
                post(f"/api/review/items/{row['id']}/submit", {"decision": "absent"})
                answers += 1
            if answers < args.decisions:
                rows = post("/api/review/claim-clip", {})["items"]
    return answers, heard, api_seconds


if __name__ == "__main__":
    main()
