#!/usr/bin/env python
"""Django's command-line utility for Label Auditor."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditor.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A missing or bad setting (SECRET_KEY, DATABASE_URL, …): its message says what to set; a traceback would
        # only bury it.
        sys.exit(f"label-auditor: {exc}")


if __name__ == "__main__":
    main()
