"""Keys: the target key of a create, chosen before the call from the flow's key template.

Why choose it ourselves? A create whose answer is lost (timeout, crash) is retried; if the
system picked the key, the retry would make a second record. With a key derived from the
source record (``{uuid}``, ``{hash10}``), every retry asks for the same key and the system's
"already exists" tells us the first attempt succeeded.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Mapping

from syncloom.connectors.base import RecordKey, Values
from syncloom.errors import MappingError

__all__ = ["render_key", "render_template"]

# A fixed namespace: the same source record always yields the same UUID, on every machine.
_NAMESPACE = uuid.UUID("5d1b7a5e-3c2a-4f7e-9a51-0c6f2e9b1d10")
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)(?::([A-Za-z0-9_.]+))?\}")


_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Every two base32 characters, indexed by the 10 bits they spell: five look-ups per key.
_PAIRS = tuple(first + second for first in _BASE32 for second in _BASE32)


def _hash10(source: RecordKey) -> str:
    """The first 10 characters of the base32 of the SHA-256 of the source key.

    Base32 spells each 5 bits as a character, so these are the first 50 bits of the digest,
    spelled here directly (``base64.b32encode`` is pure Python and encodes all 32 bytes).
    """
    digest = hashlib.sha256(str(source).encode()).digest()
    bits = int.from_bytes(digest[:7], "big") >> 6  # the first 50 of 56 bits
    pairs = _PAIRS
    return (
        pairs[bits >> 40]
        + pairs[(bits >> 30) & 1023]
        + pairs[(bits >> 20) & 1023]
        + pairs[(bits >> 10) & 1023]
        + pairs[bits & 1023]
    )


def _uuid(source: RecordKey) -> str:
    return str(uuid.uuid5(_NAMESPACE, str(source)))


class _KeyNames(Mapping[str, object]):
    """The placeholders of a key template, each worked out only if the template names it.

    A bulk page renders a key per record; a template of ``{hash10}`` has no use for the
    ``{uuid}`` that would otherwise be derived for every record too.
    """

    __slots__ = ("_legal_entity", "_source")

    def __init__(self, source: RecordKey, legal_entity: str | None) -> None:
        self._source = source
        self._legal_entity = legal_entity

    def __getitem__(self, name: str) -> object:
        if name == "uuid":
            return _uuid(self._source)
        if name == "hash10":
            return _hash10(self._source)
        if name == "source_id":
            return self._source.id
        if name == "legal_entity":
            return self._legal_entity
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in _NAMES  # without working the value out, as Mapping's would

    def __iter__(self) -> Iterator[str]:
        return iter(_NAMES)

    def __len__(self) -> int:
        return len(_NAMES)


_NAMES = ("uuid", "hash10", "source_id", "legal_entity")


def render_template(template: str, names: Mapping[str, object], payload: Values) -> str:
    """Fill ``{name}`` from ``names`` and ``{field:Name}`` from ``payload``.

    Raises:
        MappingError: a placeholder names nothing known, or a field without a value.
    """

    def fill(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "field" and arg:
            value = payload.get(arg)
            if value is None or value == "":
                raise MappingError(f"key template needs a value for {arg!r}", field=arg)
            return str(value)
        value = names.get(name)
        if value is None:
            raise MappingError(f"key template placeholder {{{name}}} has no value")
        return str(value)

    return _PLACEHOLDER.sub(fill, template)


def render_key(
    template: str, *, source: RecordKey, payload: Values, legal_entity: str | None = None
) -> str:
    """The target key for ``source``'s create; the same inputs always give the same key."""
    return render_template(template, _KeyNames(source, legal_entity), payload)
