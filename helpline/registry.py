"""A registry of named extension objects (outbox kinds, referral transports), filled at import time.

Registering the same name again is allowed when it is the same kind of object (a module imported
twice, a test re-registering its stand-in); two different kinds under one name are refused, since the
second would silently take over the first's deliveries."""

from typing import Generic, TypeVar

Named = TypeVar("Named")


class NamedRegistry(Generic[Named]):
    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, Named] = {}

    def register(self, item: Named) -> Named:
        existing = self._items.get(item.name)
        if existing is not None and type(existing) is not type(item):
            raise ValueError(f"Two {self.what}s are named {item.name!r}.")
        self._items[item.name] = item
        return item

    def get(self, name: str) -> Named:
        try:
            return self._items[name]
        except KeyError:
            raise LookupError(f"No {self.what} named {name!r} is registered.") from None

    def items(self) -> list[Named]:
        """In name order, so whatever lists them (a form's choices, the sweep) is stable."""
        return [self._items[name] for name in sorted(self._items)]
