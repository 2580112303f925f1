"""DryRunReport: what a bulk run would do, read and planned but never written.

Before the first load of a flow, an operator wants to know: how many records would be created,
which would be matched to records that already exist, which existing records would change and
how (field by field), which matches are ambiguous, and what a created record would look like.
The report answers with counts over the whole source and bounded lists of examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from syncloom.engine.bulk_plan import Action, Planned
from syncloom.engine.sync_plan import jsonable

__all__ = ["DryRunReport"]


@dataclass
class DryRunReport:
    """Counts and bounded examples of a planned bulk run.

    Attributes:
        flow: the flow's name.
        counts: records per planned outcome (``create``, ``update``, ``match``, ``conflict``...).
        creates: records that would be created, with the chosen key and the payload.
        updates: existing target records that would change, with the field-level diff.
        matches: source records matched to an existing target record.
        conflicts: changes a person must decide (the flow's policy is manual review).
        reviews: ambiguous matches, with their candidates (never created).
        failures: records that cannot be mapped, with the reason.
        limit: how many examples each list keeps.
    """

    flow: str
    counts: Counter[str] = field(default_factory=Counter)
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 50
    pages: int = 0

    def add(self, planned: Iterable[Planned]) -> None:
        """Count and keep examples of one planned page."""
        for item in planned:
            self._add(item)

    def _add(self, item: Planned) -> None:
        source = str(item.source.key)
        self.counts["read"] += 1
        if item.matched and item.action in {Action.UPDATE, Action.BIND}:
            self.counts["match"] += 1
            self._keep(self.matches, {"source": source, "target": item.target_key})
        if item.action is Action.CREATE:
            self.counts["create"] += 1
            entry = {"source": source, "target": item.target_key}
            self._keep(self.creates, {**entry, "payload": jsonable(item.to_target)})
        elif item.action is Action.UPDATE:
            self.counts["update"] += 1
            self._keep(self.updates, _update_entry(item))
        elif item.action is Action.BIND:
            self.counts["unchanged"] += 1
        elif item.action is Action.REVIEW:
            self._add_review(item, source)
        elif item.action is Action.FAILED:
            self.counts["failed"] += 1
            self._keep(self.failures, {"source": source, "reason": item.reason})
        else:
            self.counts["skip"] += 1

    def _add_review(self, item: Planned, source: str) -> None:
        if item.candidates:
            self.counts["ambiguous"] += 1
            found: dict[str, Any] = {"source": source, "reason": item.reason}
            self._keep(self.reviews, {**found, "candidates": list(item.candidates)})
            return
        self.counts["conflict"] += 1
        entry = {"source": source, "target": item.target_key, "reason": item.reason}
        self._keep(self.conflicts, {**entry, "diff": item.diff})

    def _keep(self, bucket: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        if len(bucket) < self.limit:
            bucket.append(entry)

    @property
    def samples(self) -> list[dict[str, Any]]:
        """A few create payloads, as they would be sent."""
        return [entry["payload"] for entry in self.creates[:5]]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the portal and the command line."""
        return {
            "flow": self.flow,
            "pages": self.pages,
            "counts": dict(self.counts),
            "creates": self.creates,
            "updates": self.updates,
            "matches": self.matches,
            "conflicts": self.conflicts,
            "reviews": self.reviews,
            "failures": self.failures,
            "samples": self.samples,
        }


def _update_entry(item: Planned) -> dict[str, Any]:
    return {
        "source": str(item.source.key),
        "target": item.target_key,
        "to_target": jsonable(item.to_target),
        "to_source": jsonable(item.to_source),
        "diff": item.diff,
    }
