"""Page rows: one executemany of a page's plain rows, each column's values converted at once.

Why not hand the rows to SQLAlchemy's ``session.execute(statement, rows)``? For every row it
builds the parameter dictionary again and calls each column type's bind processor on each
value: a timestamp goes through ``UtcDateTime`` and the dialect's own conversion, a JSON
document through the encoder, an enum through its validation. A bulk page binds a few thousand
values of which most timestamps are the same instant, and that per-row preparation cost more
than the statements themselves. Here the statement is compiled once per call, each column's
processor is taken from the same type SQLAlchemy would use, a column whose every row holds the
same value is converted once, and the driver gets ready parameters in one ``executemany``.

What it asks of the caller: every row has the same keys, and every column with a Python-side
default (``created_at``, ``updated_at``) is given explicitly, so nothing is left for the
per-row default machinery this skips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["execute_rows"]

_Processor = Callable[[Any], Any] | None


def execute_rows(
    session: Session, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Execute ``statement`` once per row of ``rows``, in the session's transaction.

    Args:
        session: the session whose connection (and transaction) runs the statement.
        statement: a core INSERT or UPDATE whose bind names are the rows' keys (a bind the
            rows do not name keeps the value it was built with, converted once).
        rows: plain dictionaries, all with the same keys.

    Raises:
        ValueError: the statement would need a Python-side default the rows do not give.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    assert isinstance(compiled, SQLCompiler)
    defaults = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if defaults:
        raise ValueError(f"rows must give the defaulted columns {sorted(defaults)!r}")
    names = _names(compiled)
    given = set(keys)
    columns: list[list[Any]] = []
    for name in names:
        bind = compiled.binds[name]
        process = _processor(bind.type, dialect)
        if name in given:
            columns.append(_converted([row[name] for row in rows], process))
        else:
            value = bind.effective_value
            columns.append([process(value) if process else value] * len(rows))
    params: list[Any]
    if compiled.positional:
        params = list(zip(*columns, strict=True))
    else:
        params = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    connection.exec_driver_sql(compiled.string, params)


def _names(compiled: SQLCompiler) -> list[str]:
    if compiled.positional:
        assert compiled.positiontup is not None
        return list(compiled.positiontup)
    return list(dict.fromkeys(compiled.bind_names.values()))


def _processor(type_: Any, dialect: Dialect) -> _Processor:
    # The type's implementation for this dialect (variants resolved), as SQLAlchemy binds it.
    return type_.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


def _converted(values: list[Any], process: _Processor) -> list[Any]:
    if process is None or not values:
        return values
    first = values[0]
    if all(value is first for value in values):
        # The page's one instant (or one owner, one flow): converted once, not per row.
        return [process(first)] * len(values)
    return [process(value) for value in values]
