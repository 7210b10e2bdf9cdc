"""Progress of a run: saved on its row (stage, fraction, message, heartbeat) and echoed to a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone

from auditor.durations import human_duration
from auditor.runs.models import AuditRun


class RunCancelled(Exception):
    """An admin cancelled the run; raised from its next progress report, naming the stage it was in."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"cancelled during {stage}")
        self.stage = stage


# Where each stage sits in the run's 0..1 progress.
STAGES = {
    "features": (0.0, 0.1),
    "cross-validation": (0.1, 0.9),
    "scoring": (0.9, 0.95),
    "queue": (0.95, 0.99),
    "spectrograms": (0.99, 1.0),
}


class RunProgress:
    """Callable as (stage, fraction of the stage, message); writes the row at most every `interval` s."""

    def __init__(
        self, run: AuditRun, echo: Callable[[str], None] | None = None, interval: float = 1.0, *, fan_out: bool = False
    ) -> None:
        self.run = run
        self.fan_out = fan_out  # running in a worker: spread feature extraction over the `default` queue
        self.echo = echo
        self.interval = interval
        self.started = time.monotonic()
        self._last_saved = 0.0
        self.echo_interval = 2.0
        self._last_echo = 0.0
        self._last_stage = ""

    def __call__(self, stage: str, fraction: float, message: str = "") -> None:
        low, high = STAGES.get(stage, (0.0, 1.0))
        overall = low + (high - low) * min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if now - self._last_saved >= self.interval or fraction >= 1.0:
            self._last_saved = now
            saved = AuditRun.objects.filter(pk=self.run.pk, cancel_requested_at__isnull=True).update(
                stage=stage, progress=overall, message=message[:300], heartbeat_at=timezone.now()
            )
            # The only reason the row would not match: an admin asked to cancel. The final report comes after the
            # results are committed, so by then there is nothing left to cancel.
            if not saved and stage != "done":
                raise RunCancelled(stage)
        if self.echo and (stage != self._last_stage or fraction >= 1.0 or now - self._last_echo >= self.echo_interval):
            self._last_stage, self._last_echo = stage, now
            elapsed = now - self.started
            eta = elapsed * (1 - overall) / overall if overall > 0.02 else None
            eta_text = f", about {human_duration(eta)} left" if eta is not None else ""
            self.echo(f"[{overall:6.1%}] {stage}: {message} ({human_duration(elapsed)}{eta_text})")
