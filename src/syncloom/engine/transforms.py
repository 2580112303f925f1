"""Transforms: the value functions a field map may call, in one explicit typed table.

Which functions can a flow document use? Exactly those in a :class:`TransformTable`: the
built-ins below plus Python hooks published under the ``syncloom.transforms`` entry-point group,
resolved once when the configuration loads, so an unknown name fails at load time, never
during a sync.

Example (a hook in another package's ``pyproject.toml``)::

    [project.entry-points."syncloom.transforms"]
    vat_prefix = "acme_sync.transforms:vat_prefix"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib.metadata import entry_points

from syncloom.errors import ConfigError

__all__ = ["ENTRY_POINT_GROUP", "Transform", "TransformTable", "builtin_transforms"]

ENTRY_POINT_GROUP = "syncloom.transforms"
MAX_TEXT = 100_000

TransformFunction = Callable[..., object]


@dataclass(frozen=True, slots=True)
class Transform:
    """One named value function and how many arguments it accepts."""

    name: str
    function: TransformFunction
    min_args: int
    max_args: int | None

    @classmethod
    def of(cls, name: str, function: TransformFunction) -> Transform:
        """Describe ``function`` under ``name``, reading its arity from its signature."""
        try:
            params = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            # Some C functions publish no signature; their own call checks the arguments.
            return cls(name, function, 0, None)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(1 for p in positional if p.default is p.empty)
        variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
        return cls(name, function, required, None if variadic else len(positional))

    def accepts(self, count: int) -> bool:
        """Return True when the function can be called with ``count`` arguments."""
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)


class TransformTable(Mapping[str, Transform]):
    """The one table that resolves transform names; built once per loaded configuration."""

    def __init__(self, transforms: Mapping[str, Transform]) -> None:
        self._transforms = dict(transforms)

    def __getitem__(self, name: str) -> Transform:
        return self._transforms[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._transforms)

    def __len__(self) -> int:
        return len(self._transforms)

    @classmethod
    def builtins(cls) -> TransformTable:
        """Return the table of built-in transforms only."""
        return cls({name: Transform.of(name, fn) for name, fn in builtin_transforms().items()})

    def extended(self, extra: Mapping[str, TransformFunction]) -> TransformTable:
        """Return a copy with ``extra`` functions added.

        Raises:
            ConfigError: if a name is taken, not an identifier, or not callable.
        """
        table = dict(self._transforms)
        for name, function in extra.items():
            if not name.isidentifier() or name.startswith("_"):
                raise ConfigError(f"transform name {name!r} is not a plain identifier")
            if name in table:
                raise ConfigError(f"transform {name!r} is defined twice")
            if not callable(function):
                raise ConfigError(f"transform {name!r} is not callable")
            table[name] = Transform.of(name, function)
        return TransformTable(table)

    @classmethod
    def load(cls) -> TransformTable:
        """Return built-ins plus every ``syncloom.transforms`` entry point, loaded now.

        Raises:
            ConfigError: if an entry point cannot be imported or clashes with a name.
        """
        hooks: dict[str, TransformFunction] = {}
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                hooks[point.name] = point.load()
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"transform {point.name!r} cannot be loaded: {exc}") from exc
        return cls.builtins().extended(hooks)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _checked(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters")
    return text


def upper(value: object) -> object:
    """Upper-case text; ``None`` stays ``None``."""
    return None if value is None else _text(value).upper()


def lower(value: object) -> object:
    """Lower-case text; ``None`` stays ``None``."""
    return None if value is None else _text(value).lower()


def trim(value: object) -> object:
    """Strip surrounding whitespace; ``None`` stays ``None``."""
    return None if value is None else _text(value).strip()


def truncate(value: object, length: int) -> object:
    """Cut text to at most ``length`` characters."""
    if not isinstance(length, int) or length < 0:
        raise ValueError("truncate needs a non-negative whole length")
    return None if value is None else _text(value)[:length]


def default(value: object, fallback: object) -> object:
    """Return ``fallback`` when ``value`` is ``None`` or empty text."""
    return fallback if value is None or value == "" else value


def coalesce(*values: object) -> object:
    """Return the first value that is neither ``None`` nor empty text."""
    return next((v for v in values if v is not None and v != ""), None)


def concat(*parts: object) -> object:
    """Join the text of the parts, skipping ``None``."""
    return _checked("".join(_text(p) for p in parts if p is not None))


def join(separator: object, *parts: object) -> object:
    """Join the non-empty parts with ``separator``."""
    texts = [_text(p) for p in parts if p is not None and p != ""]
    return _checked(_text(separator).join(texts))


def split(value: object, separator: object, index: object = None) -> object:
    """Split text; with ``index``, return that part (or ``None`` when there is none)."""
    if value is None:
        return None
    parts = _text(value).split(_text(separator) or None)
    if index is None:
        return parts
    if not isinstance(index, int):
        raise TypeError("split index must be a whole number")
    return parts[index] if -len(parts) <= index < len(parts) else None


def replace(value: object, old: object, new: object) -> object:
    """Replace every ``old`` in the text with ``new``."""
    if value is None:
        return None
    return _checked(_text(value).replace(_text(old), _text(new)))


def to_decimal(value: object) -> object:
    """Read a number as ``Decimal``; ``None`` and empty text become ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(_text(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {_text(value)[:40]!r}") from exc


def round_to(value: object, places: int = 0) -> object:
    """Round half up to ``places`` decimal places, as accountants do."""
    number = to_decimal(value)
    if number is None:
        return None
    if not isinstance(places, int) or not 0 <= places <= 12:
        raise ValueError("round needs 0 to 12 places")
    assert isinstance(number, Decimal)
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def to_int(value: object) -> object:
    """Read a whole number; ``None`` and empty text become ``None``."""
    number = to_decimal(value)
    if number is None:
        return None
    assert isinstance(number, Decimal)
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {number}")
    return int(number)


def to_text(value: object) -> object:
    """Render a value as text; ``None`` stays ``None``."""
    return None if value is None else _text(value)


def parse_date(value: object, fmt: object = "%Y-%m-%d") -> object:
    """Parse text into a ``date`` with a ``strptime`` format."""
    if value is None or value == "" or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else (value or None)
    return datetime.strptime(_text(value), _text(fmt)).date()  # noqa: DTZ007 - a date has no zone


def format_date(value: object, fmt: object = "%Y-%m-%d") -> object:
    """Format a ``date`` (or ISO text) with a ``strftime`` format."""
    parsed = parse_date(value)
    return None if parsed is None else _checked(date.strftime(parsed, _text(fmt)))  # type: ignore[arg-type]


def parse_datetime(value: object, fmt: object = None) -> object:
    """Parse text into an aware UTC ``datetime``; a naive result is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif fmt is None:
        moment = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    else:
        moment = datetime.strptime(_text(value), _text(fmt))  # noqa: DTZ007 - checked below
    if moment.tzinfo is None:
        raise ValueError("datetime has no time zone; include an offset in the text and format")
    return moment.astimezone(UTC)


def format_datetime(value: object, fmt: object = None) -> object:
    """Format an aware ``datetime`` in UTC, ISO by default."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    assert isinstance(moment, datetime)
    return moment.isoformat() if fmt is None else _checked(moment.strftime(_text(fmt)))


def iif(condition: object, then: object, otherwise: object) -> object:
    """Return ``then`` when ``condition`` is true, else ``otherwise``."""
    return then if condition else otherwise


def length(value: object) -> object:
    """Return the length of text or lines; ``None`` has length 0."""
    if value is None:
        return 0
    if isinstance(value, list | tuple | str):
        return len(value)
    return len(_text(value))


def builtin_transforms() -> dict[str, TransformFunction]:
    """Return the built-in transforms by the names flow documents use."""
    return {
        "upper": upper,
        "lower": lower,
        "trim": trim,
        "truncate": truncate,
        "default": default,
        "coalesce": coalesce,
        "concat": concat,
        "join": join,
        "split": split,
        "replace": replace,
        "decimal": to_decimal,
        "round": round_to,
        "int": to_int,
        "text": to_text,
        "date": parse_date,
        "parse_date": parse_date,
        "format_date": format_date,
        "parse_datetime": parse_datetime,
        "format_datetime": format_datetime,
        "iif": iif,
        "length": length,
    }
