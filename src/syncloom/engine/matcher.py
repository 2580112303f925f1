"""Matcher: finding, on first sync, the target record that already is this source record.

Is this CRM account already a customer in the ERP? Tiers of field pairs are tried in order
(stored id, then tax id, then email, then name), each comparing normalised values, optionally
only within the same legal entity. The first tier with any candidate decides: one candidate is a
match, several are ambiguous (never auto-created: callers send them to review), none goes on to
the next tier. Bulk runs match against a prefetched :class:`TargetIndex`; single records through
a ``search`` callable.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from syncloom.connectors.base import Record, RecordKey, Values
from syncloom.engine.flows import MatchRules, Normaliser

__all__ = [
    "NO_MATCH",
    "Match",
    "MatchKind",
    "Matcher",
    "Search",
    "TargetIndex",
    "Tier",
    "normalise",
]

Search = Callable[[Values], Awaitable[Sequence[Record]]]
"""Finds target records whose fields equal the given values (a connector's ``search``)."""

_SPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_PUNCTUATION = re.compile(r"[^\w\s]")


def normalise(value: object, how: Normaliser) -> str | None:
    """Return the comparable form of a match value, or ``None`` when it is empty."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if how is Normaliser.TEXT:
        text = _SPACE.sub(" ", text).casefold()
    elif how is Normaliser.TAX_ID:
        # "DE 123-456.789" and "de123456789" are the same VAT number.
        text = _NOT_ALNUM.sub("", text).upper()
    elif how is Normaliser.EMAIL:
        text = text.casefold()
    elif how is Normaliser.NAME:
        text = _SPACE.sub(" ", _PUNCTUATION.sub(" ", text)).strip().casefold()
    return text or None


class MatchKind(enum.StrEnum):
    """The outcome of matching one record."""

    MATCHED = "matched"
    NONE = "none"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class Match:
    """What matching found: one key, none, or several candidates, and by which tier."""

    kind: MatchKind
    key: RecordKey | None = None
    tier: str | None = None
    candidates: tuple[RecordKey, ...] = ()

    @classmethod
    def of(cls, tier: str, candidates: Iterable[RecordKey]) -> Match:
        """Build the match of a tier that found ``candidates`` (at least one)."""
        found = tuple(sorted(set(candidates)))
        if len(found) == 1:
            return cls(MatchKind.MATCHED, found[0], tier, found)
        return cls(MatchKind.AMBIGUOUS, None, tier, found)


NO_MATCH = Match(MatchKind.NONE)


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier: pairs of (source field, target field, normaliser) that must all agree."""

    name: str
    fields: tuple[tuple[str, str, Normaliser], ...]

    def source_key(self, values: Values) -> tuple[str, ...] | None:
        """The normalised key of a source record, or ``None`` when a part is empty."""
        return self._key(values, [(src, how) for src, _, how in self.fields])

    def target_key(self, values: Values) -> tuple[str, ...] | None:
        """The normalised key of a target record, or ``None`` when a part is empty."""
        return self._key(values, [(tgt, how) for _, tgt, how in self.fields])

    @staticmethod
    def _key(values: Values, parts: list[tuple[str, Normaliser]]) -> tuple[str, ...] | None:
        key = tuple(normalise(values.get(name), how) for name, how in parts)
        return None if any(part is None for part in key) else key  # type: ignore[return-value]


class TargetIndex:
    """Target records indexed by every tier's key (and legal entity), for bulk matching."""

    def __init__(self, tiers: Sequence[Tier], legal_entity_field: str | None) -> None:
        self._tiers = tiers
        self._legal_entity_field = legal_entity_field
        self._keys: dict[str, dict[tuple[str | None, tuple[str, ...]], list[RecordKey]]] = {
            tier.name: defaultdict(list) for tier in tiers
        }

    def add(self, record: Record) -> None:
        """Index one target record."""
        scope = _scope_of(record.values, self._legal_entity_field)
        for tier in self._tiers:
            key = tier.target_key(record.values)
            if key is not None:
                self._keys[tier.name][(scope, key)].append(record.key)

    def lookup(self, tier: Tier, key: tuple[str, ...], scope: str | None) -> list[RecordKey]:
        """The target keys a tier's key points at, within ``scope``."""
        return self._keys[tier.name].get((scope, key), [])


def _scope_of(values: Values, field: str | None) -> str | None:
    return None if field is None else normalise(values.get(field), Normaliser.EXACT)


class Matcher:
    """Matches source records to existing target records, tier by tier.

    Example::

        matcher = Matcher.from_rules(flow.match)
        index = matcher.index(target_records)
        match = matcher.match(source.values, index, legal_entity="E100")
    """

    def __init__(self, tiers: Sequence[Tier], *, legal_entity_field: str | None = None) -> None:
        self.tiers = tuple(tiers)
        self.legal_entity_field = legal_entity_field

    @classmethod
    def from_rules(cls, rules: MatchRules) -> Matcher:
        """Build the matcher a flow document declares."""
        tiers = [
            Tier(t.name, tuple((f.source, f.target, f.normalise) for f in t.fields))
            for t in rules.tiers
        ]
        scoped = rules.legal_entity_field if rules.scope_by_legal_entity else None
        return cls(tiers, legal_entity_field=scoped)

    def index(self, records: Iterable[Record]) -> TargetIndex:
        """Prefetched target records, indexed for :meth:`match`."""
        index = TargetIndex(self.tiers, self.legal_entity_field)
        for record in records:
            index.add(record)
        return index

    def match(
        self, values: Values, index: TargetIndex, *, legal_entity: str | None = None
    ) -> Match:
        """Match one source record against a prefetched index.

        Args:
            values: the source record's values.
            index: from :meth:`index`.
            legal_entity: the legal entity the record routes to, when matching is scoped.
        """
        scope = self._scope(legal_entity)
        for tier in self.tiers:
            key = tier.source_key(values)
            found = index.lookup(tier, key, scope) if key is not None else []
            if found:
                return Match.of(tier.name, found)
        return NO_MATCH

    async def search(
        self, values: Values, search: Search, *, legal_entity: str | None = None
    ) -> Match:
        """Match one source record by searching the target system tier by tier.

        The search sends the source's values as written; candidates are then kept only when
        their normalised values (and legal entity) agree, as with the index.
        """
        scope = self._scope(legal_entity)
        for tier in self.tiers:
            key = tier.source_key(values)
            if key is None:
                continue
            criteria: dict[str, object] = {tgt: values.get(src) for src, tgt, _ in tier.fields}
            if self.legal_entity_field is not None and legal_entity is not None:
                criteria[self.legal_entity_field] = legal_entity
            found = [
                r.key
                for r in await search(criteria)
                if tier.target_key(r.values) == key
                and _scope_of(r.values, self.legal_entity_field) == scope
            ]
            if found:
                return Match.of(tier.name, found)
        return NO_MATCH

    def _scope(self, legal_entity: str | None) -> str | None:
        if self.legal_entity_field is None:
            return None
        return normalise(legal_entity, Normaliser.EXACT)
