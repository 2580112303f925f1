"""D365WebhookReceiver: business events, read as hints through the one webhook intake.

F&O pushes business events to a registered endpoint; :func:`parse_business_event` already
knows which records each event names. This receiver only restates its answer in the
engine's :class:`~syncloom.connectors.base.Hint` terms. Business events never say a record
was deleted, and their time is the event's, not the record's modified-on, so hints carry no
version (each event makes its own job; the job re-reads the record either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncloom.connectors.base import Hint
from syncloom.connectors.d365.events import parse_business_event

__all__ = ["D365WebhookReceiver"]


class D365WebhookReceiver:
    """Reads F&O business-event deliveries."""

    def parse_hints(self, body: bytes, headers: Mapping[str, str]) -> Sequence[Hint]:
        """One hint per record the event names (none for events syncloom ignores).

        Raises:
            ValidationError: the body is not a business event.
        """
        return [
            Hint(event.key, None, "upsert", event.occurred_at)
            for event in parse_business_event(body)
        ]
