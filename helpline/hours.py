"""Opening hours of a line, in the line's own time zone: a weekly timetable and dated exceptions.

- ``Helpline.opening_hours``: {"mon": [["08:00", "20:00"]], ...}. Empty means always
  open; otherwise a day without ranges is closed. A range ending at or before its
  start runs past midnight ("20:00"-"02:00"; "00:00"-"00:00" is the whole day).
- ``Helpline.opening_exceptions``: [{"from": "2025-12-24", "to": "2025-12-26",
  "hours": [], "note": "Christmas"}]. On those dates (inclusive; "to" may be left
  out for one day) ``hours`` replace the weekly ranges: empty means closed all day.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WHOLE_DAY = [["00:00", "00:00"]]


def exception_for(line, day: date) -> dict | None:
    """The line's exception covering ``day``, if any (the first listed wins)."""
    iso = day.isoformat()
    for exception in line.opening_exceptions or []:
        start = exception.get("from", "")
        if start and start <= iso <= (exception.get("to") or start):
            return exception
    return None


def ranges_on(line, day: date) -> list[list[str]]:
    """The ranges that start on ``day``: the exception's if one covers it, else the weekly ones."""
    exception = exception_for(line, day)
    if exception is not None:
        return exception.get("hours") or []
    if not line.opening_hours:
        return WHOLE_DAY
    return line.opening_hours.get(WEEKDAYS[day.weekday()], [])


def line_is_open(line, at: datetime | None = None) -> bool:
    """Whether ``at`` (default now) falls in a range of that day, or in a range of the day
    before that runs past midnight. Exceptions count on both days, so a closure on the 25th
    still ends the overnight shift that began on the 24th at its usual time."""
    if not line.opening_hours and not line.opening_exceptions:
        return True
    local = (at or timezone.now()).astimezone(ZoneInfo(line.timezone or "UTC"))
    now = local.time()
    for start, end in ranges_on(line, local.date()):
        start_t, end_t = time.fromisoformat(start), time.fromisoformat(end)
        if (start_t <= now < end_t) if start_t < end_t else (now >= start_t):
            return True
    for start, end in ranges_on(line, local.date() - timedelta(days=1)):
        start_t, end_t = time.fromisoformat(start), time.fromisoformat(end)
        if end_t <= start_t and now < end_t:
            return True
    return False
