"""SyncPlan: what one record job must write, decided three ways and free of I/O.

Both records are seen in the target's field names: the source through the Mapper, the target
as it is. Each field is compared with the base snapshot of the last sync, so a field changed
on one side only travels, and a field changed on both sides is settled by the flow's
ConflictPolicy. A one-way flow only ever writes the source's changes; a change made only in the
target is left alone there (it is not ours to revert).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from syncloom.connectors.base import Record, Values
from syncloom.engine.conflicts import (
    ConflictPolicy,
    CrmWins,
    ErpWins,
    Resolution,
    SideState,
    detect_changes,
    flow_policies,
    resolve_changes,
)
from syncloom.engine.flows import FieldDirection, Flow, FlowDirection, Side

__all__ = ["SyncPlan", "jsonable", "plan_sync"]


def jsonable(values: Values) -> dict[str, object]:
    """Values as JSON-ready data that compares equal to the original under ``same_value``."""
    out: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, Decimal | date | datetime):
            out[name] = value.isoformat() if isinstance(value, date) else str(value)
        elif isinstance(value, list):
            out[name] = [jsonable(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[name] = value
    return out


@dataclass(frozen=True)
class SyncPlan:
    """The writes one job makes and the evidence behind them.

    Attributes:
        to_target: fields to write on the target, in target names.
        to_source: fields to write back on the source, in source names.
        base: the snapshot to store once the writes are done (target names).
        resolutions: every changed field with both values and why its winner won.
    """

    to_target: dict[str, object]
    to_source: dict[str, object]
    base: dict[str, object]
    resolutions: tuple[Resolution, ...] = field(default=())

    @property
    def is_noop(self) -> bool:
        """True when neither side needs a write."""
        return not self.to_target and not self.to_source

    def diff(self) -> dict[str, object]:
        """The field-level diff for the record log: both values, the winner and the reason."""
        return {
            r.field: {
                "base": _text(r.base),
                "crm": _text(r.crm),
                "erp": _text(r.erp),
                "winner": r.verdict.value,
                "reason": r.reason,
                "conflict": r.conflict,
            }
            for r in self.resolutions
        }


def _text(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def _policy(flow: Flow, source_side: Side) -> ConflictPolicy | Callable[[str], ConflictPolicy]:
    if flow.direction is FlowDirection.BOTH:
        return flow_policies(flow)
    # One way: the source's change always wins; the target's own edits are never copied back.
    return CrmWins() if source_side is Side.CRM else ErpWins()


def plan_sync(
    flow: Flow,
    *,
    source_view: Values,
    source: Record,
    target: Record,
    base: Mapping[str, object] | None,
    reverse: Values,
) -> SyncPlan:
    """Decide the writes for a linked pair.

    Args:
        flow: the flow.
        source_view: the source record mapped to target names (update mapping).
        source: the source record as read (its modified-on feeds NewestWins).
        target: the target record as read.
        base: the last synced snapshot in target names, ``None`` before the first sync.
        reverse: the target mapped back to source names (``to_source`` mapping).

    Returns:
        The plan. Raises nothing; conflicts needing review are in ``resolutions``.
    """
    src_side = flow.source_side
    target_view = {name: target.values.get(name) for name in source_view}
    crm, erp = (source_view, target_view) if src_side is Side.CRM else (target_view, source_view)
    crm_at, erp_at = (
        (source.modified_on_utc, target.modified_on_utc)
        if src_side is Side.CRM
        else (target.modified_on_utc, source.modified_on_utc)
    )
    changes = detect_changes(base, crm, erp, fields=source_view.keys())
    policy = _policy(flow, src_side)
    outcome = resolve_changes(changes, SideState(crm, crm_at), SideState(erp, erp_at), policy)
    to_target = outcome.to_erp if src_side is Side.CRM else outcome.to_crm
    back = outcome.to_crm if src_side is Side.CRM else outcome.to_erp
    to_source: dict[str, object] = {}
    if flow.direction is FlowDirection.BOTH and back:
        to_source = _reverse_fields(flow, back, reverse)
    if flow.direction is FlowDirection.BOTH:
        snapshot = {**target_view, **to_target}
    else:
        snapshot = dict(source_view)
    return SyncPlan(to_target, to_source, jsonable(snapshot), outcome.resolutions)


def _reverse_fields(
    flow: Flow, target_fields: Mapping[str, object], reverse: Values
) -> dict[str, object]:
    """Source-named values for target fields the target won, from the reverse mapping."""
    out: dict[str, object] = {}
    for entry in flow.fields:
        writes_back = flow.field_direction(entry).includes(FieldDirection.TO_SOURCE)
        if writes_back and entry.target in target_fields and entry.source in reverse:
            out[entry.source] = reverse[entry.source]
    return out
