"""OrderedIndex: one table's keys in one sort order, kept sorted on every write.

How does a simulator answer ``$orderby=ModifiedOn,Id&$filter=ModifiedOn ge X&$top=500`` over
100k rows without looking at all of them? A vendor's database walks an index from ``X``; so do
the simulators. An :class:`OrderedIndex` keeps ``(sort key, arrival, row key)`` entries in a
sorted list: a write moves one entry (a bisect and an insert), a page starts at the bisected
position of its lower bound and reads forward until it has enough rows, so a page costs
O(page + rows skipped at the boundary), not O(table).

Ties keep the table's own order (the order a ``dict`` iterates: first insertion, a replaced
row keeps its place), so a page through the index equals a stable sort of the whole table.
Indexes hang off a :class:`IndexedTable` and follow every write made through it; a write the
table cannot follow (a bulk ``update``) drops them, and the next query builds them again.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Row = dict[str, Any]
SortKey = tuple[Any, ...]
Entry = tuple[SortKey, int, str]

__all__ = ["IndexedTable", "OrderedIndex", "SortKey"]


class OrderedIndex:
    """The keys of one table sorted by ``key(row)``, ties in the table's order."""

    def __init__(self, key: Callable[[Row], SortKey], rows: Mapping[str, Row]) -> None:
        self._key = key
        self._arrival = itertools.count()
        self._where: dict[str, Entry] = {}
        for row_key, row in rows.items():
            self._where[row_key] = (key(row), next(self._arrival), row_key)
        self._entries: list[Entry] = sorted(self._where.values())

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, row_key: str, row: Row) -> None:
        """Place a written row: a new key goes last among its equals, a replaced one stays."""
        old = self._where.get(row_key)
        sort_key = self._key(row)
        if old is not None:
            if old[0] == sort_key:
                return
            self._drop(old)
        entry = (sort_key, old[1] if old is not None else next(self._arrival), row_key)
        insort(self._entries, entry)
        self._where[row_key] = entry

    def remove(self, row_key: str) -> None:
        """Forget a deleted row."""
        old = self._where.pop(row_key, None)
        if old is not None:
            self._drop(old)

    def first(
        self,
        count: int,
        rows: Mapping[str, Row],
        accept: Callable[[Row], bool],
        lower: SortKey | None = None,
    ) -> list[Row]:
        """The first ``count`` rows in order that ``accept`` takes, from ``lower`` on.

        ``lower`` is a prefix of the sort key that no accepted row sorts below; rows before
        it are never looked at.
        """
        start = 0 if lower is None else bisect_left(self._entries, (lower,))
        out: list[Row] = []
        if count <= 0:
            return out
        for _, _, row_key in itertools.islice(self._entries, start, None):
            row = rows[row_key]
            if accept(row):
                out.append(row)
                if len(out) == count:
                    break
        return out

    def _drop(self, entry: Entry) -> None:
        at = bisect_left(self._entries, entry)
        del self._entries[at]


class IndexedTable(dict[str, Row]):
    """A table of rows (a plain ``dict`` to its readers) that keeps its indexes in step."""

    __slots__ = ("_indexes",)

    def __init__(self, rows: Iterable[tuple[str, Row]] = ()) -> None:
        super().__init__(rows)
        self._indexes: dict[str, OrderedIndex] = {}

    def ordered(self, name: str, key: Callable[[Row], SortKey]) -> OrderedIndex:
        """The index called ``name`` (built on first use); ``key`` must not change per name."""
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = OrderedIndex(key, self)
        return index

    def __setitem__(self, row_key: str, row: Row) -> None:
        super().__setitem__(row_key, row)
        for name, index in list(self._indexes.items()):
            try:
                index.put(row_key, row)
            except TypeError:  # a value that does not sort with the others: no index
                del self._indexes[name]

    def __delitem__(self, row_key: str) -> None:
        super().__delitem__(row_key)
        for index in self._indexes.values():
            index.remove(row_key)

    def pop(self, row_key: str, *default: Any) -> Any:
        found = row_key in self
        value = super().pop(row_key, *default)
        if found:
            for index in self._indexes.values():
                index.remove(row_key)
        return value

    # Writes an index cannot follow one by one: drop the indexes, rebuilt when next asked.
    def _forget(self) -> None:
        self._indexes.clear()

    def clear(self) -> None:
        super().clear()
        self._forget()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._forget()

    def setdefault(self, row_key: str, default: Row | None = None) -> Any:
        if row_key not in self:
            self._forget()
        return super().setdefault(row_key, default)  # type: ignore[arg-type]

    def popitem(self) -> tuple[str, Row]:
        self._forget()
        return super().popitem()

    def __ior__(self, other: Any) -> IndexedTable:  # type: ignore[override,misc]
        super().__ior__(other)
        self._forget()
        return self
