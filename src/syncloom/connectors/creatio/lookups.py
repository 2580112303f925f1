"""Lookups: names and codes of Creatio lookup rows to their GUIDs and back, cached.

Lookup GUIDs are tenant-specific, so mappings speak of ``USD`` or ``Germany`` and the
connector resolves them by reading the lookup table once (``$select=Id,Name,Code``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from syncloom.connectors.creatio.entities import LOOKUP_TEXT

Rows = Callable[[str, Sequence[str]], Awaitable[list[dict[str, object]]]]


class LookupResolver:
    """Resolves lookup text ↔ ids per entity; one table read per entity until invalidated."""

    def __init__(self, read_all: Rows) -> None:
        self._read_all = read_all
        self._by_text: dict[str, dict[str, str]] = {}
        self._by_id: dict[str, dict[str, str]] = {}

    async def _load(self, entity: str) -> None:
        if entity in self._by_id:
            return
        columns = LOOKUP_TEXT.get(entity, ("Name",))
        rows = await self._read_all(entity, ("Id", *columns))
        by_text: dict[str, str] = {}
        by_id: dict[str, str] = {}
        for row in rows:
            key = str(row["Id"])
            by_id[key] = str(row.get(columns[-1]) or row.get(columns[0]) or "")
            for column in reversed(columns):  # the first column (e.g. Code) wins a clash
                text = str(row.get(column) or "").strip().casefold()
                if text:
                    by_text[text] = key
        self._by_text[entity], self._by_id[entity] = by_text, by_id

    async def id_for(self, entity: str, text: str) -> str | None:
        """The id of the ``entity`` row whose code or name is ``text`` (case-insensitive)."""
        await self._load(entity)
        return self._by_text[entity].get(text.strip().casefold())

    async def name_for(self, entity: str, key: str) -> str | None:
        """The display name of one lookup row."""
        await self._load(entity)
        return self._by_id[entity].get(key.lower())

    def invalidate(self, entity: str | None = None) -> None:
        """Forget cached rows (all entities when ``entity`` is None)."""
        if entity is None:
            self._by_text.clear()
            self._by_id.clear()
        else:
            self._by_text.pop(entity, None)
            self._by_id.pop(entity, None)
