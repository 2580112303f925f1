"""Review: the queue of decisions the engine leaves to a person.

What happens when both sides changed a field under ``manual_review``, or matching finds several
candidates? Nothing is written; a :class:`ReviewItem` goes to a :class:`ReviewQueue`, where an
operator picks a value or a record. The queue is a protocol so the store can back it; the
in-memory one serves tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from syncloom.connectors.base import RecordKey
from syncloom.engine.conflicts import Resolution
from syncloom.engine.matcher import Match, MatchKind

__all__ = ["InMemoryReviewQueue", "ReviewItem", "ReviewKind", "ReviewQueue"]


class ReviewKind(enum.StrEnum):
    """Why a person is asked."""

    CONFLICT = "conflict"
    AMBIGUOUS_MATCH = "ambiguous_match"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One decision waiting for a person, with the evidence to make it."""

    flow: str
    record_key: str
    kind: ReviewKind
    resolutions: tuple[Resolution, ...] = ()
    candidates: tuple[RecordKey, ...] = ()
    tier: str | None = None

    @classmethod
    def for_conflict(
        cls, flow: str, record_key: str, resolutions: tuple[Resolution, ...]
    ) -> ReviewItem:
        """The item for fields left to review by a :class:`ManualReview` policy."""
        return cls(flow, record_key, ReviewKind.CONFLICT, resolutions=resolutions)

    @classmethod
    def for_match(cls, flow: str, record_key: str, match: Match) -> ReviewItem:
        """The item for an ambiguous :class:`Match`.

        Raises:
            ValueError: when the match is not ambiguous.
        """
        if match.kind is not MatchKind.AMBIGUOUS:
            raise ValueError("only an ambiguous match needs review")
        return cls(
            flow,
            record_key,
            ReviewKind.AMBIGUOUS_MATCH,
            candidates=match.candidates,
            tier=match.tier,
        )


class ReviewQueue(Protocol):
    """Where review items wait; one open item per (flow, record key)."""

    def submit(self, item: ReviewItem) -> None:
        """Add or replace the open item of the item's record."""
        ...

    def pending(self, flow: str | None = None) -> list[ReviewItem]:
        """Open items, optionally of one flow."""
        ...

    def close(self, flow: str, record_key: str) -> None:
        """Close the item of a record (decided, or superseded by a newer sync)."""
        ...


class InMemoryReviewQueue:
    """A :class:`ReviewQueue` in a dict; for tests."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ReviewItem] = {}

    def submit(self, item: ReviewItem) -> None:
        """Keep the newest item per record."""
        self._items[(item.flow, item.record_key)] = item

    def pending(self, flow: str | None = None) -> list[ReviewItem]:
        """Open items in submission order."""
        return [i for i in self._items.values() if flow is None or i.flow == flow]

    def close(self, flow: str, record_key: str) -> None:
        """Forget the record's item."""
        self._items.pop((flow, record_key), None)
