"""What the end-to-end benchmarks share: Django on a private SQLite database, and a report printed as it goes."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def setup_django(work: Path) -> None:
    """Point the project at `work` (its own SQLite file and DATA_DIR) in demo mode, and start Django."""
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "DATA_DIR": str(work / "data"),
            "DEMO": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditor.settings")
    import django

    django.setup()


class Report:
    """Lines printed at once and kept, to be written as markdown at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text("\n".join(self.lines) + "\n")


def fresh_work(kept: str | None, prefix: str) -> Path:
    """The benchmark's folder (`--work`, or a temporary one), with a new database and data folder: only a demo
    corpus made there before is reused (a second audit on the old database would draw a second sample)."""
    work = Path(kept) if kept else Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench.sqlite3").unlink(missing_ok=True)
    shutil.rmtree(work / "data", ignore_errors=True)
    setup_django(work)
    return work


CORPUS_KINDS = ("simple", "realistic")


def corpus_tags(kind: str) -> list[str]:
    """The tag names of a corpus kind, in labels.csv's order."""
    from tagging.demo_corpus import TAG_NAMES
    from tagging.realistic_corpus import REALISTIC_TAG_NAMES

    return list(REALISTIC_TAG_NAMES if kind == "realistic" else TAG_NAMES)


def make_corpus(folder: Path, *, kind: str, clips: int, seed: int, duration: float) -> Path:
    """`folder`, a generated corpus of `kind` (simple: formula instruments, constant miss rates; realistic:
    sampled instruments, songs, misses that depend on the audio), unless one is already there."""
    from tagging.demo_corpus import CorpusConfig, make_demo_corpus
    from tagging.realistic_corpus import RealisticConfig, make_realistic_corpus

    if not (folder / "labels.csv").exists():
        if kind == "realistic":
            make_realistic_corpus(folder, RealisticConfig(clips=clips, seed=seed, duration=duration), workers=0)
        else:
            make_demo_corpus(folder, CorpusConfig(clips=clips, seed=seed, duration=duration), workers=0)
    return folder


def demo_corpus(work: Path, *, clips: int, seed: int, duration: float, kind: str = "simple") -> Path:
    """`work`/corpus, generated unless it is already there."""
    return make_corpus(work / "corpus", kind=kind, clips=clips, seed=seed, duration=duration)
