"""The console pane hook: outer apps add panes beside a conversation in the counsellor console.

The Cases app adds its wrap-up and case panes here, so the console shows them
without helpline importing cases. A pane is a template rendered inside the
conversation pane with the context its ``context`` function returns for the
request and the contact; it is shown while the contact's status is in ``statuses``.

Pane context functions read through their own app's selectors (permission and
audit included); they receive a contact the user holds.
"""

from collections.abc import Callable
from dataclasses import dataclass

from helpline.models import ContactStatus


@dataclass(frozen=True)
class ConsolePane:
    name: str  # unique, used as the element id: "pane-<name>"
    template: str
    context: Callable  # (request, contact) -> dict
    statuses: frozenset[str]
    order: int


_panes: dict[str, ConsolePane] = {}


def console_pane_register(
    *,
    name: str,
    template: str,
    context: Callable,
    statuses=(ContactStatus.ACTIVE, ContactStatus.WRAPUP),
    order: int = 100,
) -> None:
    _panes[name] = ConsolePane(name=name, template=template, context=context, statuses=frozenset(statuses), order=order)


def console_panes_for(request, contact) -> list[dict]:
    """The panes to show for ``contact``, each as {"name", "template", "context"}, in order."""
    shown = sorted((pane for pane in _panes.values() if contact.status in pane.statuses), key=lambda p: p.order)
    return [{"name": pane.name, "template": pane.template, "context": pane.context(request, contact)} for pane in shown]
