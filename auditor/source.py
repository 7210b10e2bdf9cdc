"""The running program's source, for everyone who uses it over the network (AGPL-3.0-or-later, section 13).

`/source.zip` is built from the files this server runs (the apps, templates, static files, the project's own
files), so it is the corresponding source of this very deployment, local changes included; set SOURCE_URL to
send people to a published repository instead.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

# What the running site is made of, relative to the project folder; nothing under DATA_DIR, no virtualenv.
SOURCE_ENTRIES = (
    "auditor",
    "tagging",
    "worker",
    "templates",
    "static",
    "benchmarks",
    "docs",
    "tests",
    ".ci",
    "manage.py",
    "pyproject.toml",
    "Makefile",
    "README.md",
    "LICENSE",
)
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def _source_files(base: Path) -> list[Path]:
    files: list[Path] = []
    for entry in SOURCE_ENTRIES:
        path = base / entry
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [f for f in candidates if f.is_file() and not SKIPPED_PARTS & set(f.relative_to(base).parts)]
    return files


def source_zip(base: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in _source_files(base):
            archive.write(file, f"label-auditor/{file.relative_to(base).as_posix()}")
    return buffer.getvalue()


@require_safe
def source_archive(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(source_zip(Path(settings.BASE_DIR)), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="label-auditor-source.zip"'
    return response
