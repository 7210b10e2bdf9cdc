"""How times read on the pages: durations ("37 min 30 s", "1 h 05 min") and compact dates ("12 Mar 14:05")."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date

from auditor.durations import human_duration

register = template.Library()

# progress.json carries the same text (`elapsed`, `eta`) for progress.js, so the live bar reads as the page does.
register.filter("duration", human_duration)


@register.filter
def compact_date(moment: datetime | None) -> str:
    """A timestamp in few characters, in the site's time zone: "12 Mar 14:05" this year, "12 Mar 2024" before.
    Pages put the full timestamp in the element's title."""
    if moment is None:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return format_date(moment, "j M H:i" if moment.year == timezone.localdate().year else "j M Y")
