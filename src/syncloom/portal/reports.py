"""Reports: any JSON-shaped report (a dry run's, for one) laid out as headed tables.

The engine decides what its report holds; the portal shows every part of it without knowing the
shape in advance: a mapping becomes a two-row table, a list of mappings a table with one column
per key, anything else a line of text. Nested values are shown as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReportSection", "lay_out"]


@dataclass(frozen=True)
class ReportSection:
    """One part of a report: a title and either a table or a line of text."""

    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    text: str = ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _section(title: str, value: Any) -> ReportSection:
    if isinstance(value, Mapping):
        columns = [str(key) for key in value]
        return ReportSection(title, columns, [[_cell(v) for v in value.values()]])
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        columns = list(dict.fromkeys(str(k) for item in value for k in item))
        rows = [[_cell(item.get(column)) for column in columns] for item in value]
        return ReportSection(f"{title} ({len(value)})", columns, rows)
    if isinstance(value, list):
        return ReportSection(f"{title} ({len(value)})", text=", ".join(_cell(v) for v in value))
    return ReportSection(title, text=_cell(value))


def lay_out(report: Mapping[str, Any]) -> list[ReportSection]:
    """The sections of a report, in its own order; empty lists are left out."""
    return [_section(str(key), value) for key, value in report.items() if value != []]
