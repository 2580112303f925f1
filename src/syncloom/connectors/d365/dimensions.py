"""Financial dimensions: F&O's display values (``"BU01-SALES-CC100"``) ↔ named segments.

F&O entities carry dimension combinations as one display string whose segment order and
delimiter come from the "Financial dimension configuration for integrating applications"
(here ``order`` and ``delimiter``). Blank segments keep their delimiter; ledger strings
(``DefaultLedgerDimensionDisplayValue``) start with the main account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncloom.errors import MappingError


def format_display_value(
    segments: Mapping[str, str],
    order: Sequence[str],
    delimiter: str = "-",
    main_account: str | None = None,
) -> str:
    """Join named dimension values in the configured order.

    Raises:
        MappingError: when a value contains the delimiter or names an unknown dimension.
    """
    unknown = set(segments) - set(order)
    if unknown:
        raise MappingError(f"dimensions not in the format {list(order)}: {sorted(unknown)}")
    parts = [str(segments.get(name) or "") for name in order]
    if main_account is not None:
        parts.insert(0, main_account)
    for part in parts:
        if delimiter in part:
            raise MappingError(f"dimension value {part!r} contains the delimiter {delimiter!r}")
    return delimiter.join(parts)


def parse_display_value(
    text: str, order: Sequence[str], delimiter: str = "-", *, ledger: bool = False
) -> dict[str, str]:
    """Split a display value into named segments (blank ones omitted).

    Raises:
        MappingError: when the number of segments does not fit the format.
    """
    if not text:
        return {}
    names = (["MainAccount"] if ledger else []) + list(order)
    parts = text.split(delimiter)
    if len(parts) != len(names):
        raise MappingError(
            f"display value {text!r} has {len(parts)} segments; the format "
            f"{delimiter.join(names)} has {len(names)}"
        )
    return {name: part for name, part in zip(names, parts, strict=True) if part}
