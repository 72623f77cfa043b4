"""The case timeline and its extension point.

``timeline_source_register(fn)``: ``fn(case)`` returns an iterable of ``TimelineEntry``
(or dicts with the same keys) that the case page merges, by time, with the case's own
entries (contacts, notes, status changes, flags). Referrals register their proposals,
referrals and events here from their AppConfig.ready(). A source reads through its own
app's selectors and returns only what the case's reader may see; titles and details are
shown escaped.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

_sources: list[Callable] = []


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "contact", "note", "status", "flag", "approval", "referral", …: a CSS class and a filter
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""


def timeline_source_register(source: Callable[[object], Iterable]) -> None:
    if source not in _sources:
        _sources.append(source)


def timeline_sources() -> list[Callable]:
    return list(_sources)


def timeline_entry_of(item) -> TimelineEntry:
    if isinstance(item, TimelineEntry):
        return item
    return TimelineEntry(**{key: item[key] for key in ("at", "kind", "title", "detail", "actor", "url") if key in item})
