"""Echo: skipping the changes syncloom itself caused.

Why would a record sync twice? Because our own write to the target shows up there as a change
and would be synced back. :class:`EchoFilter` stops it in three layers: a change made by the
Connection's integration user; a record whose values hash to what we last wrote (the
:class:`WriteLedger`); and a write whose payload equals the target's current values. A
:class:`FlappingDetector` catches what still loops: a record synced back and forth too often.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from syncloom.connectors.base import Record, Values
from syncloom.engine.clock import Clock
from syncloom.engine.flows import Flapping
from syncloom.engine.hashing import hash_values, same_value

__all__ = [
    "EchoFilter",
    "EchoReason",
    "FlappingDetector",
    "FlappingVerdict",
    "InMemoryWriteLedger",
    "WriteLedger",
    "changed_fields",
]


class WriteLedger(Protocol):
    """What did we last write to a record? Hashes only, by canonical record key."""

    def remember(self, system_key: str, values_hash: str) -> None:
        """Record that we wrote values hashing to ``values_hash`` to ``system_key``."""
        ...

    def matches(self, system_key: str, values_hash: str) -> bool:
        """Return True when ``values_hash`` is what we last wrote to ``system_key``."""
        ...


class InMemoryWriteLedger:
    """A :class:`WriteLedger` in a dict; for tests and single-process runs."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}

    def remember(self, system_key: str, values_hash: str) -> None:
        """Keep the latest hash for the key."""
        self._hashes[system_key] = values_hash

    def matches(self, system_key: str, values_hash: str) -> bool:
        """Compare with the latest hash for the key."""
        return self._hashes.get(system_key) == values_hash


class EchoReason(enum.StrEnum):
    """Why a change or a write was skipped."""

    INTEGRATION_USER = "integration_user"
    OWN_WRITE = "own_write"
    NO_OP = "no_op"


def changed_fields(payload: Values, current: Values) -> dict[str, object]:
    """Return the fields of ``payload`` whose value differs from ``current``, type-normalised."""
    return {k: v for k, v in payload.items() if not same_value(v, current.get(k))}


class EchoFilter:
    """Is this change our own echo, or would this write change nothing?

    Example::

        echo = EchoFilter(ledger, integration_users={"erp": "svc-sync"})
        if echo.incoming(record, connection="erp", watched_fields=mapped) is not None:
            return  # our own write coming back
    """

    def __init__(self, ledger: WriteLedger, integration_users: Mapping[str, str]) -> None:
        """Create the filter.

        Args:
            ledger: hashes of what we wrote last.
            integration_users: the integration user of each Connection, by connection name.
        """
        self.ledger = ledger
        self.integration_users = {k: v.casefold() for k, v in integration_users.items()}

    def is_integration_user(self, record: Record, connection: str) -> bool:
        """Return True when the record was last changed by the Connection's integration user."""
        user = self.integration_users.get(connection)
        return bool(user and record.modified_by and record.modified_by.casefold() == user)

    def is_own_write(self, record: Record, watched_fields: Values | None = None) -> bool:
        """Return True when the record still holds exactly what we last wrote to it.

        ``watched_fields`` limits the comparison to the fields we write (a mapping whose keys
        are the field names); the hash then ignores fields only the other system touches.
        """
        values = record.values
        if watched_fields is not None:
            values = {k: v for k, v in values.items() if k in watched_fields}
        return self.ledger.matches(str(record.key), hash_values(values))

    def incoming(
        self, record: Record, *, connection: str, watched_fields: Values | None = None
    ) -> EchoReason | None:
        """Return why an incoming change should be skipped, or ``None`` to sync it."""
        if self.is_integration_user(record, connection):
            return EchoReason.INTEGRATION_USER
        if self.is_own_write(record, watched_fields):
            return EchoReason.OWN_WRITE
        return None

    def outgoing(self, payload: Values, current: Values | None) -> EchoReason | None:
        """Return ``NO_OP`` when writing ``payload`` would not change ``current``."""
        if current is not None and not changed_fields(payload, current):
            return EchoReason.NO_OP
        return None

    def remember_write(self, system_key: str, written: Values) -> None:
        """Record what we wrote, as the written record now reads (after the system's echo)."""
        self.ledger.remember(system_key, hash_values(written))


@dataclass(frozen=True, slots=True)
class FlappingVerdict:
    """Whether a record is flapping, with the evidence."""

    key: str
    syncs_in_window: int
    paused: bool
    since_utc: datetime | None = None


class FlappingDetector:
    """Pauses a record synced more than ``max_syncs`` times within ``window``.

    Example::

        detector = FlappingDetector(clock, max_syncs=6, window=timedelta(minutes=10))
        if detector.record_sync(str(key)).paused:
            ...  # report and stop syncing this record until resumed
    """

    def __init__(self, clock: Clock, *, max_syncs: int, window: timedelta) -> None:
        if max_syncs < 1 or window <= timedelta(0):
            raise ValueError("max_syncs must be at least 1 and window positive")
        self.clock = clock
        self.max_syncs = max_syncs
        self.window = window
        self._syncs: dict[str, deque[datetime]] = {}
        self._paused: dict[str, datetime] = {}

    @classmethod
    def from_spec(cls, spec: Flapping, clock: Clock) -> FlappingDetector:
        """Build the detector a flow document declares."""
        return cls(clock, max_syncs=spec.max_syncs, window=timedelta(minutes=spec.window_min))

    def record_sync(self, key: str) -> FlappingVerdict:
        """Count one sync of ``key`` now and say whether it is (now) paused."""
        now = self.clock.now_utc()
        times = self._syncs.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) > self.max_syncs and key not in self._paused:
            self._paused[key] = now
        return FlappingVerdict(key, len(times), key in self._paused, self._paused.get(key))

    def is_paused(self, key: str) -> bool:
        """Return True while ``key`` is paused for flapping."""
        return key in self._paused

    def resume(self, key: str) -> None:
        """Lift the pause (someone fixed the loop) and forget the history of ``key``."""
        self._paused.pop(key, None)
        self._syncs.pop(key, None)
