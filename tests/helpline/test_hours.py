"""Opening hours with dated exceptions: holidays close the line, special days have their own hours."""

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from helpline.hours import exception_for, line_is_open

NAIROBI = ZoneInfo("Africa/Nairobi")
WEEKLY = {"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "fri": [["20:00", "02:00"]]}


def line(hours=WEEKLY, exceptions=()):
    return SimpleNamespace(timezone="Africa/Nairobi", opening_hours=hours, opening_exceptions=list(exceptions))


def at(day, hour, minute=0):
    # November 2026: the 23rd is a Monday, the 27th a Friday.
    return datetime(2026, 11, day, hour, minute, tzinfo=NAIROBI)


CLOSED_MONDAY = {"from": "2026-11-23", "hours": [], "note": "Holiday"}
SHORT_TUESDAY = {"from": "2026-11-24", "hours": [["10:00", "12:00"]], "note": "Training"}
CLOSED_WEEKEND = {"from": "2026-11-27", "to": "2026-11-29", "hours": [], "note": "Move"}
OPEN_SUNDAY = {"from": "2026-11-29", "hours": [["00:00", "00:00"]], "note": "Campaign day"}


@pytest.mark.parametrize(
    ("exceptions", "when", "expected"),
    [
        ([], at(23, 9), True),
        ([CLOSED_MONDAY], at(23, 9), False),  # a holiday closes a working day
        ([CLOSED_MONDAY], at(24, 9), True),  # ... and only that day
        ([SHORT_TUESDAY], at(24, 9), False),  # special hours replace the weekly ones
        ([SHORT_TUESDAY], at(24, 11), True),
        ([SHORT_TUESDAY], at(24, 12), False),
        ([CLOSED_WEEKEND], at(27, 21), False),  # a closure over several days
        ([CLOSED_WEEKEND], at(28, 1), False),  # ... including the night shift after its first day
        ([CLOSED_MONDAY], at(28, 1), True),  # an ordinary Friday night runs past midnight
        ([OPEN_SUNDAY], at(29, 15), True),  # a closed weekday opened for the whole day
        ([OPEN_SUNDAY], at(30, 0, 30), False),  # ... and it ends at midnight
    ],
)
def test_exceptions_replace_the_weekly_hours_on_their_dates(exceptions, when, expected):
    assert line_is_open(line(exceptions=exceptions), when) is expected


def test_a_line_open_around_the_clock_still_closes_on_its_exceptions():
    always = line(hours={}, exceptions=[CLOSED_MONDAY])
    assert not line_is_open(always, at(23, 12))
    assert line_is_open(always, at(22, 12)) and line_is_open(always, at(24, 0, 1))


def test_the_first_exception_listed_for_a_date_wins():
    both = line(exceptions=[CLOSED_WEEKEND, OPEN_SUNDAY])
    assert exception_for(both, at(29, 12).date())["note"] == "Move"
    assert not line_is_open(both, at(29, 12))


def test_exceptions_follow_the_lines_time_zone():
    # 22:30 UTC on Sunday the 22nd is 01:30 on Monday the 23rd in Nairobi: a closed holiday.
    utc = datetime(2026, 11, 22, 22, 30, tzinfo=ZoneInfo("UTC"))
    assert not line_is_open(line(hours={}, exceptions=[CLOSED_MONDAY]), utc)
    assert line_is_open(line(hours={}, exceptions=[]), utc)
