"""What the end-to-end benchmarks share: Django on a private SQLite database, and a report printed as it goes."""

from __future__ import annotations

import os
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
