"""The web process sends work to the workers by name and never loads the model code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sklearn", "cleanlab")


def test_the_wsgi_application_and_the_urlconf_load_no_model_code(tmp_path: Path) -> None:
    script = (
        "import sys, django; django.setup()\n"
        "from django.urls import get_resolver; get_resolver().url_patterns\n"
        "import auditor.wsgi\n"
        "import auditor.runs.lifecycle, auditor.runs.versions, auditor.console.run_views\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules) or 'none')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "auditor.settings", "DEMO": "1", "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "none", f"the web process imported {result.stdout.strip()}"


def test_every_page_links_to_the_source_of_the_running_site(client) -> None:
    import io
    import zipfile

    page = client.get("/login/").content.decode()
    assert 'href="/source.zip"' in page and "GNU AGPL, version 3 or later" in page
    archive = zipfile.ZipFile(io.BytesIO(client.get("/source.zip").content))
    names = set(archive.namelist())
    assert {"label-auditor/LICENSE", "label-auditor/auditor/source.py", "label-auditor/manage.py"} <= names
    assert not any("/data/" in name or ".venv" in name or "__pycache__" in name for name in names)
    assert archive.read("label-auditor/LICENSE").startswith(b"                    GNU AFFERO GENERAL PUBLIC LICENSE")
