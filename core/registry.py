"""A named registry: what configurations, legs and fusions are chosen from by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from core.errors import UnknownVariantError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Items by name, in registration order; an unknown name's error lists the valid ones."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Make ``item`` selectable as ``name`` (replacing any item of that name)."""
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownVariantError(self.what, name, list(self._items)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
