"""Demo-corpus generation speed on one core (target: at least 20 clips/s of 5 s clips).

python benchmarks/demo_corpus.py --clips 200
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tagging.demo_corpus import CorpusConfig, make_demo_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        started = time.perf_counter()
        make_demo_corpus(out, CorpusConfig(clips=args.clips, duration=args.duration), workers=1)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    rate = args.clips / elapsed
    print(
        f"{args.clips} clips × {args.duration:g} s on one core in {elapsed:.1f} s = {rate:.1f} clips/s "
        f"({rate * args.duration:.0f}× real time)"
    )


if __name__ == "__main__":
    main()
