"""The console's "Waiting for you" list and its extension point: work other apps hand a staff member.

``console_todo_register(name=, source=, order=)``: ``source(user, *, team)`` returns an iterable of
``TodoItem`` for a counsellor or supervisor. With ``team=False`` it is what waits for ``user``
themselves (the counsellor console's list); with ``team=True`` (a supervisor's page) what waits
for anyone on the supervisor's lines, each item saying for whom. ``referrals`` registers the
agencies' open questions on referrals (``referrals.todo``), so helpline never imports it.

A source reads through its own app's selectors and returns only what ``user`` may see. Labels are
shown escaped, and in every refresh of the list, unaudited: they hold no protected content (no
message, note, name or question text); the item's ``url`` is where that is read (audited) and the
work done, inline in the list when ``inline`` is set (the page's fragment for an htmx request).

When an item appears or goes, its app calls ``console_todo_changed(staff_ids=, line_ids=)``: after
the commit, the consoles of those staff members (their list) and the supervisor pages of those
lines (the team's list) fetch the list again (the ``todo.changed`` event, ids only).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from helpline.realtime import broadcast_after_commit, line_group, staff_group

TODO_CHANGED = "todo.changed"
# At most this many items of each source are shown (oldest first); the count says how many there are.
TODO_SHOWN = 50


@dataclass(frozen=True)
class TodoItem:
    key: str  # unique on the page, ids only: the element id is "todo-<key>"
    kind: str  # a CSS class and a filter: "question", …
    label: str  # what waits, in plain words; no protected content
    since: datetime  # when it started waiting (the list shows its age, oldest first)
    url: str  # where it is read and done
    urgent_at: datetime | None = None  # from then on it is flagged and comes first; None: never
    inline: bool = False  # ``url`` answers an htmx GET with a fragment shown inside the list
    action: str = ""  # the link's words ("Read and answer"); a default when empty
    for_whom: str = ""  # the team's list: who it waits for

    def urgent(self, now: datetime) -> bool:
        return self.urgent_at is not None and now >= self.urgent_at


@dataclass(frozen=True)
class TodoSource:
    name: str
    source: Callable  # (user, *, team: bool) -> Iterable[TodoItem]
    order: int


_sources: dict[str, TodoSource] = {}


def console_todo_register(*, name: str, source: Callable[..., Iterable[TodoItem]], order: int = 100) -> None:
    """Add ``source`` to the list. Registering the same name again replaces it."""
    _sources[name] = TodoSource(name=name, source=source, order=order)


def console_todos_for(user, *, team: bool = False) -> list[TodoItem]:
    """Everything waiting for ``user`` (or, ``team``, for their lines): urgent first, then oldest first."""
    now = timezone.now()
    items = [
        item
        for entry in sorted(_sources.values(), key=lambda entry: (entry.order, entry.name))
        for item in list(entry.source(user, team=team))[:TODO_SHOWN]
    ]
    return sorted(items, key=lambda item: (not item.urgent(now), item.since, item.key))


def console_todo_changed(*, staff_ids: Iterable[int] = (), line_ids: Iterable[int] = ()) -> None:
    """After the commit, tell these staff members' consoles and these lines' supervisor pages to look again."""
    for staff_id in sorted(set(staff_ids)):
        broadcast_after_commit(staff_group(staff_id), {"type": TODO_CHANGED, "staff_id": staff_id})
    for line_id in sorted(set(line_ids)):
        broadcast_after_commit(line_group(line_id), {"type": TODO_CHANGED, "line_id": line_id})
