"""For migrations that hand models from one app to another: the content types follow them.

A content type keeps its id, so permissions given on it (and admin log entries) stay attached. On a new database
there is nothing to relabel yet: Django creates the content types after the migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import migrations


def relabel_content_types(old_app: str, new_app: str, models: Sequence[str]) -> migrations.RunPython:
    """A RunPython that relabels `models`' content types from `old_app` to `new_app` (and back when reversed)."""

    def relabel(source: str, target: str) -> Callable[[Any, Any], None]:
        def run(apps: Any, schema_editor: Any) -> None:
            content_type = apps.get_model("contenttypes", "ContentType")
            content_type.objects.filter(app_label=source, model__in=list(models)).update(app_label=target)

        return run

    return migrations.RunPython(relabel(old_app, new_app), relabel(new_app, old_app))
