"""Hashing: one canonical form, and one hash, for a record's values.

The write ledger and the base snapshots compare values across systems that spell the same
value differently (``Decimal('1.0')`` and ``Decimal('1.00')``, dict order, a missing field and a
``None``). :func:`canonical_value` folds those spellings into one form; :func:`hash_values`
hashes it; :func:`comparable` goes further for no-op checks (numbers written as text, ``""``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from syncloom.connectors.base import Values

__all__ = ["canonical_value", "canonical_values", "comparable", "hash_values", "same_value"]

Canonical = None | bool | str | list["Canonical"] | dict[str, "Canonical"]


def _number_text(number: Decimal) -> str:
    if not number.is_finite():
        return str(number)
    normal = number.normalize()
    # normalize() turns 100 into 1E+2; fixed notation keeps "100" and "100.0" equal.
    text = format(normal, "f")
    return "0" if text in ("-0", "0") else text


# Integers below Decimal's default precision (28 digits) keep every digit in its normal form.
_EXACT = 10**27


def canonical_value(value: object) -> Canonical:
    """Return a JSON-ready canonical form of one value.

    Numbers (``int``, ``float``, ``Decimal``) become ``"n:<fixed notation>"`` so that
    ``1``, ``1.0`` and ``Decimal('1.00')`` agree; booleans stay booleans; datetimes become
    UTC ISO text; dates ISO text; mappings sorted by key with ``None`` entries dropped.
    """
    if type(value) is str:
        # Most values are text: the first test, so hashing a record is mostly these.
        return "s:" + value
    if type(value) is int and -_EXACT < value < _EXACT:
        # What Decimal's normal form gives for an integer it holds exactly, without it.
        return "n:" + str(value)
    if value is None or isinstance(value, bool):
        return value
    return _canonical_other(value)


def _canonical_other(value: object) -> Canonical:
    if isinstance(value, str):
        # Prefixed like the other kinds, so the text "n:1" never equals the number 1.
        return "s:" + value
    if isinstance(value, int | Decimal):
        return "n:" + _number_text(Decimal(value))
    if isinstance(value, float):
        return "n:" + _number_text(Decimal(repr(value)))
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return "t:" + moment.isoformat()
    if isinstance(value, date):
        return "d:" + value.isoformat()
    if isinstance(value, Mapping):
        return canonical_values({str(k): v for k, v in value.items()})
    if isinstance(value, Sequence | set | frozenset):
        return [canonical_value(item) for item in value]
    return "r:" + repr(value)


def canonical_values(values: Values) -> dict[str, Canonical]:
    """Return the canonical form of a values mapping; ``None`` and a missing field agree."""
    out: dict[str, Canonical] = {}
    for name in sorted(values):
        value = values[name]
        if value is None:
            continue
        # Text inline: a record's values are mostly text, and a call per value adds up.
        out[name] = "s:" + value if type(value) is str else canonical_value(value)
    return out


def hash_values(values: Values) -> str:
    """Return a stable SHA-256 hex digest of ``values``'s canonical form.

    Example::

        hash_values({"a": Decimal("1.0"), "b": None}) == hash_values({"a": 1})
    """
    text = _ENCODER.encode(canonical_values(values))
    return hashlib.sha256(text.encode()).hexdigest()


# One encoder for every hash: ``json.dumps`` with options builds a new one on each call. The
# canonical form's mappings are built in sorted key order, so the text is that of
# ``sort_keys=True`` without sorting every mapping a second time.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _number_from_text(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def comparable(value: object) -> Canonical:
    """Return a looser form for "would this write change anything?" checks.

    On top of :func:`canonical_value`: ``""`` equals ``None``, text that spells a number
    equals that number, surrounding whitespace is ignored, and ISO text equals its date.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        number = _number_from_text(text)
        if number is not None:
            return canonical_value(number)
        return _iso_or_text(text)
    if isinstance(value, Mapping):
        return {
            str(k): comparable(v) for k, v in sorted(value.items()) if comparable(v) is not None
        }
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    return canonical_value(value)


def _iso_or_text(text: str) -> Canonical:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return canonical_value(text)
    if len(text) == 10:
        return canonical_value(moment.date())
    return canonical_value(moment)


def same_value(left: object, right: object) -> bool:
    """Return True when two values are equal once type spelling is set aside."""
    return comparable(left) == comparable(right)
