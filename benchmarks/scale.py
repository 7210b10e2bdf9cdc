"""A MagnaTagATune-scale dry run: import, features and a short audit of 25,863 clips × 29 s, timed, with the peak
memory of the whole process tree.

    python benchmarks/scale.py                       # 25,863 clips, 188 tags, a 2-epoch audit (about 35 minutes here)
    python benchmarks/scale.py --clips 2000 --work /tmp/scale-small   # a quick look

The dataset has MagnaTagATune's shape, not its music: `annotations_final.csv` (tab-separated, quoted; clip_id,
188 tag columns, mp3_path), MP3 files of 29.1 s at 16 kHz mono in 16 folders, songs cut into 1–8 clips whose paths
end in "-START-END.mp3" (the importer groups a song's clips from it). The audio is a pool of `--pool` demo-corpus
clips rendered at 29.1 s and encoded to MP3 once; every clip's file is a hard link to one of them, so the disk holds
the pool, while import, decoding, features and the audit do the work of every file (each file is probed, decoded
and its features cached on its own). The pool clips' 16 demo tags are the first tag columns (learnable); the other
172 are filler tags of Zipf-like prevalence drawn per clip (about MagnaTagATune's: a few tags on 5–20% of clips,
a long tail under 0.2%), so the pair count and the label table are MagnaTagATune's size.

Each step runs as the product's own command in a subprocess (`import_dataset --format mtat`, `audit --sync`,
`export_scores`, `tag_health`) on a private SQLite database (or `--database`); a sampler reads the resident memory
of the command and all its descendants (the feature extraction's process pool included) every half second. The
report gives each step's wall time, the peak of that sum, and the largest single process. Timestamps of the
audit's own progress lines split its time into stages.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Report  # noqa: E402

MTAT_CLIPS = 25_863
MTAT_TAGS = 188
CLIP_SECONDS = 29.1  # MagnaTagATune's clips
FOLDERS = "0123456789abcdef"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, largest) resident bytes of `root` and every process descended from it."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    members, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parent_of.items():
            if parent == pid and child not in members:
                members.add(child)
                frontier.append(child)
    total = largest = 0
    for pid in members:
        try:
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


class Step:
    """One product command run in a subprocess: wall time, output lines with their time, peak memory of its tree."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.lines: list[tuple[float, str]] = []
        self.peak_total = self.peak_single = 0
        self.seconds = 0.0

    def run(self, report: Report) -> None:
        start = time.monotonic()
        process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                total, single = _tree_rss(process.pid)
                self.peak_total, self.peak_single = max(self.peak_total, total), max(self.peak_single, single)
                done.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert process.stdout is not None
        for line in process.stdout:
            at = time.monotonic() - start
            self.lines.append((at, line.rstrip()))
            print(f"  [{at:7.1f} s] {line.rstrip()}", flush=True)
        code = process.wait()
        done.set()
        sampler.join()
        self.seconds = time.monotonic() - start
        if code != 0:
            tail = "\n".join(text for _, text in self.lines[-20:])
            raise SystemExit(f"{self.name} failed (exit {code}):\n{tail}")
        report(
            f"| {self.name} | {self.seconds:.0f} s | {self.peak_total / 2**30:.2f} GiB | "
            f"{self.peak_single / 2**30:.2f} GiB |"
        )


def zipf_prevalence(tags: int, rng: np.random.Generator) -> np.ndarray:
    """Filler tags' shares of clips: 0.2 / rank^0.9 down to ~0.002, shuffled (MagnaTagATune's top tag, guitar,
    is on about 17% of clips; its 100th on about 0.3%)."""
    return rng.permutation(np.clip(0.2 / np.arange(1, tags + 1) ** 0.9, 0.0015, None))


def build_dataset(work: Path, clips: int, pool: int, seed: int, report: Report) -> tuple[Path, Path]:
    """work/audio (hard links to the pool's MP3s) and work/annotations_final.csv; reused when already there."""
    from tagging.demo_corpus import TAG_NAMES, CorpusConfig, make_demo_corpus

    audio, labels = work / "audio", work / "annotations_final.csv"
    if labels.exists():
        report(f"Dataset reused from {work}.")
        return audio, labels
    started = time.monotonic()
    pool_dir = work / "pool"
    if not (pool_dir / "labels.csv").exists():
        make_demo_corpus(
            pool_dir, CorpusConfig(clips=pool, seed=seed, duration=CLIP_SECONDS), workers=os.cpu_count() or 1
        )
    import soundfile

    with (pool_dir / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    pool_mp3: list[Path] = []
    pool_tags = np.array([[int(row[t]) for t in TAG_NAMES] for row in rows], dtype=np.int8)
    for index, row in enumerate(rows):
        target = pool_dir / "mp3" / f"{index:05d}.mp3"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            samples, rate = soundfile.read(pool_dir / "audio" / row["path"], dtype="float32")
            soundfile.write(target, samples, rate, format="MP3", subtype="MPEG_LAYER_III")
        pool_mp3.append(target)

    rng = np.random.default_rng(seed)
    filler = [f"extra_{i:03d}" for i in range(MTAT_TAGS - len(TAG_NAMES))]
    prevalence = zipf_prevalence(len(filler), rng)
    shutil.rmtree(audio, ignore_errors=True)
    partial = labels.with_suffix(".partial")
    with partial.open("w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quotechar='"', quoting=csv.QUOTE_ALL)
        writer.writerow(["clip_id", *TAG_NAMES, *filler, "mp3_path"])
        clip = song = 0
        while clip < clips:
            length = int(rng.integers(1, 9))  # clips cut from this song
            source = int(rng.integers(pool))  # one pool clip stands for the whole song's audio
            for segment in range(min(length, clips - clip)):
                start = round(segment * CLIP_SECONDS)
                song_name = f"artist_{song % 997:03d}-album_{song % 211:03d}-{song % 20 + 1:02d}-song_{song:05d}"
                path = f"{FOLDERS[song % 16]}/{song_name}-{start}-{start + 29}.mp3"
                target = audio / path
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(pool_mp3[source], target)
                extra = (rng.random(len(filler)) < prevalence).astype(int)
                writer.writerow([clip, *pool_tags[source], *extra, path])
                clip += 1
            song += 1
    partial.rename(labels)
    report(f"Dataset built in {time.monotonic() - started:.0f} s: {clips} clips from {song} songs, {MTAT_TAGS} tags.")
    return audio, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=MTAT_CLIPS)
    parser.add_argument("--pool", type=int, default=400, help="Distinct rendered clips the files link to.")
    parser.add_argument("--epochs", type=int, default=2, help="Epochs per fold of the audit (a short audit).")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--work", default="/tmp/label-auditor-scale", help="Kept between runs: the dataset is reused.")
    parser.add_argument("--database", help="A database URL (default: a new SQLite file in --work).")
    parser.add_argument(
        "--keep-features",
        action="store_true",
        help="Keep the last run's feature cache (the audit then measures everything but the extraction).",
    )
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args()

    report = Report()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    report(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.")
    audio, labels = build_dataset(work, args.clips, args.pool, args.seed, report)

    (work / "bench.sqlite3").unlink(missing_ok=True)
    if args.keep_features:  # a new database and runs, the feature cache of the last run kept
        shutil.rmtree(work / "data" / "runs", ignore_errors=True)
    else:
        shutil.rmtree(work / "data", ignore_errors=True)
    env = {
        **os.environ,
        "DATABASE_URL": args.database or f"sqlite:///{work / 'bench.sqlite3'}",
        "DATA_DIR": str(work / "data"),
        "DEMO": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    if args.database:
        subprocess.run([*manage, "flush", "--no-input"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    name = "mtat-scale"
    steps = [
        Step(
            "import (`import_dataset --format mtat`)",
            [*manage, "import_dataset", name, "--format", "mtat", "--audio-root", str(audio), "--labels", str(labels)],
            env,
        ),
        Step(
            f"audit, features included (`audit --sync --epochs {args.epochs}`)",
            [*manage, "audit", name, "--sync", "--epochs", str(args.epochs)],
            env,
        ),
        Step(
            "every pair's scores (`export_scores`)",
            [*manage, "export_scores", name, "--out", str(work / "scores.csv")],
            env,
        ),
        Step("per-tag health (`tag_health`)", [*manage, "tag_health", name, "--out", str(work / "health.csv")], env),
    ]
    report()
    report(f"{args.clips} clips × {CLIP_SECONDS} s, {MTAT_TAGS} tags ({args.clips * MTAT_TAGS:,} pairs), 5 folds.")
    report()
    report("| step | wall time | peak memory, whole process tree | largest single process |")
    report("| --- | --- | --- | --- |")
    for step in steps:
        step.run(report)
    report()
    report("The audit's progress lines, with the time since it started:")
    report()
    audit = steps[1]
    for at, text in audit.lines:
        report(f"    {at:7.1f} s  {text}")
    report()
    cache = work / "data"
    size = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file())
    report(f"Data folder after the run (feature cache, run folder): {size / 2**30:.1f} GiB.")
    report.write(args.markdown)


if __name__ == "__main__":
    main()
