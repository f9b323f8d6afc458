"""Per-passage views of the per-unit arrays, sliced when asked for rather than built at load.

The answer units' rows are stored passage by passage (``sentence_rows.npy``);
a passage's vectors are one slice of each vector array. Building a dict of
those slices for every passage took seconds at 40,000 passages (and made
40,000 memmap objects); this mapping finds a passage's rows by binary search
offsets computed once and slices on access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Generic, TypeVar

import numpy as np

__all__ = ["ByPassage"]

T = TypeVar("T")


class ByPassage(MutableMapping[str, T], Generic[T]):
    """Passage id -> ``make(first_row, end_row)`` of its rows, for passages that have rows.

    Values set by callers (an answer caching vectors it had to compute) are
    kept beside the stored ones and win over them.
    """

    def __init__(self, passage_ids: list[str], unit_passages: np.ndarray, make: Callable[[int, int], T]) -> None:
        self._ids = passage_ids
        self._index = {pid: i for i, pid in enumerate(passage_ids)}
        # Row offsets of every passage: rows [starts[i], starts[i + 1]) are passage i's.
        self._starts = np.searchsorted(np.asarray(unit_passages), np.arange(len(passage_ids) + 1)).tolist()
        self._make = make
        self._extra: dict[str, T] = {}

    def _rows(self, key: object) -> tuple[int, int] | None:
        i = self._index.get(key) if isinstance(key, str) else None
        if i is None or self._starts[i] == self._starts[i + 1]:
            return None
        return self._starts[i], self._starts[i + 1]

    def __getitem__(self, key: str) -> T:
        if key in self._extra:
            return self._extra[key]
        rows = self._rows(key)
        if rows is None:
            raise KeyError(key)
        return self._make(*rows)

    def __contains__(self, key: object) -> bool:
        return key in self._extra or self._rows(key) is not None

    def __setitem__(self, key: str, value: T) -> None:
        self._extra[key] = value

    def __delitem__(self, key: str) -> None:
        del self._extra[key]

    def __iter__(self) -> Iterator[str]:
        stored = (pid for i, pid in enumerate(self._ids) if self._starts[i] < self._starts[i + 1])
        yield from stored
        yield from (k for k in self._extra if self._rows(k) is None)

    def __len__(self) -> int:
        return sum(1 for _ in self)
