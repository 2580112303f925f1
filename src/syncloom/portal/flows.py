"""Flows as the portal edits them: settings, the field map, on/off switches and previews.

The flow document stays the one source of truth: every edit loads the newest version, changes
one flow, and saves the whole document as a new version (validated, with every problem's path).
Whether a flow is switched on lives in its own small document, ``flow_states``, so switching a
flow off and on again leaves the flow document's history alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncloom.engine.flows import (
    ConflictRule,
    DeleteRule,
    FieldDirection,
    FieldMap,
    Flow,
    FlowDirection,
    FlowDocument,
    FlowDocumentError,
    Schedule,
    dump_flows,
    load_flows,
)
from syncloom.engine.lookups import lookup_connections
from syncloom.engine.mapper import FieldMapMapper
from syncloom.errors import ConfigError, MappingError
from syncloom.portal.auth import Principal
from syncloom.portal.configs import FLOWS, save_document
from syncloom.portal.problems import FieldProblem, Missing
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import Connection

__all__ = [
    "FLOW_STATES",
    "FieldRow",
    "FlowSettings",
    "FlowSummary",
    "Preview",
    "current_document",
    "find_flow",
    "preview",
    "replace_fields",
    "set_enabled",
    "states",
    "unknown_connections",
    "update_settings",
]

FLOW_STATES = "flow_states"


class FieldRow(BaseModel):
    """One row of the field-map editor."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200)
    target: str = Field(min_length=1, max_length=200)
    direction: FieldDirection | None = None
    transform: str | None = Field(default=None, max_length=2000)
    value_map: str | None = Field(default=None, max_length=100)


class FlowSettings(BaseModel):
    """The flow-level settings the portal edits; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    direction: FlowDirection | None = None
    conflict: ConflictRule | None = None
    delete: DeleteRule | None = None
    schedule: Schedule | None = None
    clear_schedule: bool = False


class FlowSummary(BaseModel):
    """A flow in a list."""

    name: str
    source: str
    target: str
    direction: FlowDirection
    schedule: str | None
    conflict: ConflictRule
    delete: DeleteRule
    enabled: bool

    @classmethod
    def of(cls, flow: Flow, enabled: bool) -> FlowSummary:
        """The summary of one flow."""
        schedule = f"{flow.schedule.cron} ({flow.schedule.timezone})" if flow.schedule else None
        return cls(
            name=flow.name,
            source=f"{flow.source.connection}:{flow.source.entity}",
            target=f"{flow.target.connection}:{flow.target.entity}",
            direction=flow.direction,
            schedule=schedule,
            conflict=flow.conflict,
            delete=flow.delete,
            enabled=enabled,
        )


class Preview(BaseModel):
    """What a sample record becomes, each way, or what stops it."""

    to_target: dict[str, Any] | None = None
    to_source: dict[str, Any] | None = None
    problems: list[FieldProblem] = []


def current_document(session: Session, tenant_id: int) -> FlowDocument:
    """The newest flow document (empty when none was saved)."""
    latest = ConfigVersions(session).latest(tenant_id, FLOWS)
    return load_flows(latest.document) if latest else FlowDocument()


def find_flow(document: FlowDocument, name: str) -> Flow:
    """One flow of the document.

    Raises:
        Missing: no flow of that name.
    """
    try:
        return document.flow(name)
    except KeyError:
        raise Missing(f"no flow {name!r}") from None


def unknown_connections(session: Session, tenant_id: int, flow: Flow) -> list[str]:
    """Connections the flow names that the tenant has not set up (the flow cannot run)."""
    named = {flow.source.connection, flow.target.connection}
    if flow.routing is not None:
        named |= {r.connection for r in flow.routing.routes.values() if r.connection}
    named |= lookup_connections(flow)
    known = set(session.scalars(select(Connection.name).where(Connection.tenant_id == tenant_id)))
    return sorted(named - known)


def states(session: Session, tenant_id: int) -> dict[str, bool]:
    """Which flows are switched off (absent means on)."""
    latest = ConfigVersions(session).latest(tenant_id, FLOW_STATES)
    raw = yaml.safe_load(latest.document) if latest else None
    if not isinstance(raw, dict):
        return {}
    return {
        str(name): bool(value.get("enabled", True))
        for name, value in raw.items()
        if isinstance(value, dict)
    }


def set_enabled(session: Session, me: Principal, name: str, enabled: bool) -> None:
    """Switch a flow on or off (a new version of ``flow_states``, audited)."""
    find_flow(current_document(session, me.tenant_id), name)
    current = states(session, me.tenant_id)
    current[name] = enabled
    text = yaml.safe_dump({n: {"enabled": on} for n, on in sorted(current.items())})
    verb = "enable" if enabled else "disable"
    save_document(session, me, FLOW_STATES, text, comment=f"{verb} {name}", action=f"flow.{verb}")


def _save_flow(
    session: Session, me: Principal, document: FlowDocument, flow: Flow, why: str
) -> None:
    flows = tuple(flow if f.name == flow.name else f for f in document.flows)
    text = dump_flows(document.model_copy(update={"flows": flows}))
    save_document(session, me, FLOWS, text, comment=why, action="flow.update")


def update_settings(session: Session, me: Principal, name: str, change: FlowSettings) -> Flow:
    """Change direction, schedule, conflict or delete policy; saves a new flow document."""
    document = current_document(session, me.tenant_id)
    flow = find_flow(document, name)
    update: dict[str, Any] = change.model_dump(
        exclude_none=True, exclude={"clear_schedule", "schedule"}
    )
    if change.schedule is not None:
        update["schedule"] = change.schedule
    elif change.clear_schedule:
        update["schedule"] = None
    changed = flow.model_copy(update=update)
    _save_flow(session, me, document, changed, f"settings of {name}")
    return changed


def _entries(flow: Flow, rows: Sequence[FieldRow]) -> tuple[FieldMap, ...]:
    # Options the editor does not show (create_only, conflict...) stay with the same target.
    old = {entry.target: entry for entry in flow.fields}
    entries = []
    for row in rows:
        base = old.get(row.target) or FieldMap(source=row.source, target=row.target)
        entries.append(base.model_copy(update=row.model_dump()))
    return tuple(entries)


def replace_fields(session: Session, me: Principal, name: str, rows: Sequence[FieldRow]) -> Flow:
    """Save a new field map for one flow (validated as part of the whole document)."""
    document = current_document(session, me.tenant_id)
    flow = find_flow(document, name)
    changed = flow.model_copy(update={"fields": _entries(flow, rows)})
    _save_flow(session, me, document, changed, f"field map of {name}")
    return changed


def preview(
    document: FlowDocument, name: str, sample: dict[str, Any], rows: Sequence[FieldRow] | None
) -> Preview:
    """Map ``sample`` with the flow's field map (or the unsaved ``rows``), both ways."""
    flow = find_flow(document, name)
    if rows is not None:
        flow = flow.model_copy(update={"fields": _entries(flow, rows)})
    candidate = document.model_copy(
        update={"flows": tuple(flow if f.name == name else f for f in document.flows)}
    )
    try:
        checked = load_flows(dump_flows(candidate)).flow(name)
        mapper = FieldMapMapper.from_flow(checked, value_maps=candidate.value_maps)
    except FlowDocumentError as exc:
        return Preview(problems=[FieldProblem(p.path or "fields", p.message) for p in exc.problems])
    except ConfigError as exc:
        return Preview(problems=[FieldProblem("fields", exc.message)])
    result = Preview()
    for direction in (FieldDirection.TO_TARGET, FieldDirection.TO_SOURCE):
        if not mapper.fields(direction):
            continue
        try:
            mapped = mapper.map(sample, for_create=True, direction=direction)
        except MappingError as exc:
            result.problems.append(FieldProblem(exc.field or str(direction), exc.message))
            continue
        setattr(result, str(direction), {k: _shown(v) for k, v in mapped.items()})
    return result


def _shown(value: object) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
