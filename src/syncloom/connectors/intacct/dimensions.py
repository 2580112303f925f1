"""User-defined dimensions (UDDs), discovered from the company with ``getDimensions``.

A company adds its own dimensions (a sales channel, a team, a line of business) next to the
standard ones. Each UDD is a platform object the connector lists and reads like any other
entity, and transaction lines carry it through the relationship field ``GLDIM<object>``
(the UDD record's ``id``). Which UDDs exist is the company's business, not the connector's:
it is asked once per connection and shared by every entity and sibling connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from lxml import etree

from syncloom.connectors.base import FieldSpec, FieldType
from syncloom.connectors.intacct.client import Result
from syncloom.connectors.intacct.entities import IntacctEntity, dimension_entity

__all__ = ["DIMENSIONS_BODY", "Dimension", "DimensionCatalogue", "parse_dimensions"]

DIMENSIONS_BODY = "<getDimensions/>"


@dataclass(frozen=True)
class Dimension:
    """One user-defined dimension: its object name and the label the company gave it."""

    name: str
    label: str

    @property
    def line_field(self) -> str:
        """The relationship field a transaction line sets it through (``GLDIMTEAM``)."""
        return f"GLDIM{self.name}"


def parse_dimensions(data: etree._Element | None) -> tuple[Dimension, ...]:
    """The user-defined dimensions of a ``getDimensions`` answer, in the answer's order."""
    if data is None:
        return ()
    found = []
    for item in data.iter("dimension"):
        name = (item.findtext("objectName") or "").strip().upper()
        udd = (item.findtext("userDefinedDimension") or "").strip().lower() == "true"
        if name and udd:
            label = (item.findtext("termLabel") or item.findtext("objectLabel") or "").strip()
            found.append(Dimension(name, label or name.title()))
    return tuple(found)


def with_line_fields(entity: IntacctEntity, dimensions: tuple[Dimension, ...]) -> IntacctEntity:
    """A line entity with one ``GLDIM<object>`` field per UDD, marked custom.

    The field holds the UDD record's ``id``; it replaces a same-named field the company's
    ``inspect`` answer may have given, so the label and custom flag come from the dimension.
    """
    names = {d.line_field for d in dimensions}
    kept = tuple(f for f in entity.fields if f.name not in names)
    added = tuple(
        FieldSpec(d.line_field, FieldType.STRING, custom=True, label=d.label) for d in dimensions
    )
    return replace(entity, fields=kept + added)


class DimensionCatalogue:
    """The company's UDDs, asked once however many jobs and sibling connectors want them.

    A refused or failed ``getDimensions`` is raised to the asker and not remembered, so the
    next ask tries again.
    """

    def __init__(self) -> None:
        self.dimensions: tuple[Dimension, ...] | None = None
        self.entities: dict[str, IntacctEntity] = {}
        self._asking = asyncio.Lock()

    async def load(self, ask: Callable[[str], Awaitable[Result]]) -> tuple[Dimension, ...]:
        """The UDDs, asking the company through ``ask`` (one call) the first time only."""
        if self.dimensions is not None:
            return self.dimensions
        async with self._asking:
            if self.dimensions is None:
                result = await ask(DIMENSIONS_BODY)
                found = parse_dimensions(result.data)
                self.entities = {d.name: dimension_entity(d.name) for d in found}
                self.dimensions = found
        return self.dimensions
