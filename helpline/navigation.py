"""The navigation registry: each app adds its pages per role from its AppConfig.ready().

helpline knows its own pages only; ``referrals`` adds the authority inbox,
``cases`` its case lists, and so on. A role's first page (lowest ``order``) is
where ``/`` sends its users.
"""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    role: str
    label: str  # a lazy translation
    url_name: str
    order: int


_items: dict[tuple[str, str], NavItem] = {}


def nav_register(*, role: str, label, url_name: str, order: int = 100) -> None:
    """Show ``url_name`` to users of ``role``. Registering the same page again replaces it."""
    _items[(role, url_name)] = NavItem(role=role, label=label, url_name=url_name, order=order)


def nav_items_for(role: str | None) -> list[NavItem]:
    return sorted((item for item in _items.values() if item.role == role), key=lambda item: (item.order, item.url_name))


def nav_home_url(role: str | None) -> str | None:
    """The address of the role's first page, or None for a user without a role (or pages)."""
    items = nav_items_for(role)
    return reverse(items[0].url_name) if items else None
