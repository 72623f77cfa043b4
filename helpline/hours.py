"""Opening hours of a line, in the line's own time zone."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def line_is_open(line, at: datetime | None = None) -> bool:
    """Open when the line has no hours configured, or ``at`` falls in one of today's ranges.

    Ranges are {"mon": [["08:00", "20:00"]], ...}; a range ending before it
    starts runs past midnight ("20:00"-"02:00").
    """
    if not line.opening_hours:
        return True
    local = (at or timezone.now()).astimezone(ZoneInfo(line.timezone or "UTC"))
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    now = local.time()
    for start, end in line.opening_hours.get(today, []):
        start_t, end_t = time.fromisoformat(start), time.fromisoformat(end)
        if (start_t <= now < end_t) if start_t < end_t else (now >= start_t):
            return True
    for start, end in line.opening_hours.get(yesterday, []):
        start_t, end_t = time.fromisoformat(start), time.fromisoformat(end)
        if end_t <= start_t and now < end_t:
            return True
    return False
