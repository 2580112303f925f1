"""SimStore: a simulator's tables of records, in memory with optional write-through to SQLite.

Vendors keep their records as plain dicts keyed by their own primary key. Memory is the
working copy (fast enough for 100k-record benchmarks); with a file path every write is also
saved, and the file is loaded at start-up, so a simulator can be stopped and started again.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from syncloom.simulators.common.index import IndexedTable, SortKey

Row = dict[str, Any]


class SimStore:
    """Tables of dict rows; thread-safe; optionally persisted to a SQLite file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._tables: dict[str, IndexedTable] = {}
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS rows"
                " (tbl TEXT, key TEXT, doc TEXT, PRIMARY KEY (tbl, key))"
            )
            for tbl, key, doc in self._db.execute("SELECT tbl, key, doc FROM rows"):
                self._tables.setdefault(tbl, IndexedTable())[key] = json.loads(doc)

    def is_empty(self) -> bool:
        return not any(self._tables.values())

    def table(self, name: str) -> IndexedTable:
        """The live dict of one table (create it if missing); callers hold no lock across awaits."""
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = IndexedTable()
            return table

    def first(
        self,
        table: str,
        order: str,
        key: Callable[[Row], SortKey],
        count: int,
        accept: Callable[[Row], bool],
        lower: SortKey | None = None,
    ) -> list[Row]:
        """The first ``count`` rows of ``table`` in ``key`` order that ``accept`` takes.

        ``order`` names the index (one name per ``key``); ``lower`` is a prefix of the sort key
        below which no row is accepted, so the page starts there instead of at the top. A
        page costs O(rows looked at), not O(table): see
        :mod:`syncloom.simulators.common.index`.

        Raises:
            TypeError: the table holds values of that order that do not sort together.
        """
        with self._lock:
            rows = self.table(table)
            return rows.ordered(order, key).first(count, rows, accept, lower)

    def get(self, table: str, key: str) -> Row | None:
        row = self.table(table).get(key)
        return copy.deepcopy(row) if row is not None else None

    def put(self, table: str, key: str, row: Row) -> None:
        with self._lock:
            self.table(table)[key] = row
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO rows VALUES (?, ?, ?)",
                    (table, key, json.dumps(row, default=str)),
                )
                self._db.commit()

    def delete(self, table: str, key: str) -> bool:
        with self._lock:
            found = self.table(table).pop(key, None) is not None
            if found and self._db is not None:
                self._db.execute("DELETE FROM rows WHERE tbl = ? AND key = ?", (table, key))
                self._db.commit()
            return found

    def rows(self, table: str) -> Iterator[Row]:
        with self._lock:
            snapshot = list(self.table(table).values())
        return iter(snapshot)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            if self._db is not None:
                self._db.execute("DELETE FROM rows")
                self._db.commit()

    def dump(self) -> dict[str, list[Row]]:
        with self._lock:
            return {name: list(rows.values()) for name, rows in self._tables.items()}
