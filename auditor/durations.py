"""How a length of time reads to a person, the same on every page, in progress.json and on the command line."""

from __future__ import annotations

import math


def human_duration(seconds: float | None) -> str:
    """ "45 s", "37 min 30 s", "1 h 05 min"; "" for None (not started, no estimate yet).

    Seconds are dropped from an hour up: nobody needs them there, and a live bar that ticks them is noise.
    """
    if seconds is None:
        return ""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(value):
        return ""
    whole = max(0, math.floor(value + 0.5))  # half up, not Python's round-half-even: 2.5 s reads "3 s"
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = (whole + 30) // 60
    return f"{minutes // 60} h {minutes % 60:02d} min"
