"""The supervisors' alerts hook: outer apps add rows to the Alerts card of the supervision page.

The card shows helpline's own alerts (confirmed risks, children waiting too long for a reply)
and, after them, the rows of every registered source: ``supervisor_alert_source_register(name=,
template=, rows=, order=)``. ``rows(user)`` returns what needs that supervisor now, read
through the outer app's own selectors (only their lines); each row is rendered with
``template`` as ``row``. Referrals registers the SOP's notices (``notify: supervisors``).

A source announces a new or settled alert with ``supervisor_alerts_changed(line_id=)``: after
commit, an ``alert.changed`` event (the line's id only) on the line's group, which refreshes
the card of the line's supervisors; the card reads the database again.
"""

from collections.abc import Callable
from dataclasses import dataclass

from helpline.realtime import broadcast_after_commit, line_group

ALERT_CHANGED = "alert.changed"


@dataclass(frozen=True)
class AlertSource:
    name: str
    template: str
    rows: Callable  # (user) -> list
    order: int


_sources: dict[str, AlertSource] = {}


def supervisor_alert_source_register(*, name: str, template: str, rows: Callable, order: int = 100) -> None:
    _sources[name] = AlertSource(name=name, template=template, rows=rows, order=order)


def supervisor_alerts_for(user) -> list[dict]:
    """The registered sources' rows for ``user``, each as {"source", "template", "row"}, in order."""
    found = []
    for source in sorted(_sources.values(), key=lambda source: source.order):
        found += [{"source": source.name, "template": source.template, "row": row} for row in source.rows(user)]
    return found


def supervisor_alerts_changed(*, line_id) -> None:
    """Tell the line's supervisors' pages (after commit) that an alert came or went."""
    broadcast_after_commit(line_group(line_id), {"type": ALERT_CHANGED, "line_id": line_id})
