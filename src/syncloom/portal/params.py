"""Params: bounds for the numbers a request may carry, so none overflows a database column."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

__all__ = ["MAX_ID", "ItemId", "QueryId", "RowId", "parse_id"]

# Ids are 64-bit signed integers in PostgreSQL and SQLite alike.
MAX_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Field(ge=1, le=MAX_ID)]


def parse_id(text: object) -> int:
    """Read a form field as an id.

    Raises:
        ValueError: not a whole number between 1 and :data:`MAX_ID`.
    """
    value = int(str(text).strip())
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"{value} is out of range")
    return value
