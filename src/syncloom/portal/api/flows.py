"""REST: flows: settings, field map, switches, preview, run now, dry run and backfill."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime, BaseModel, Field

from syncloom.portal import actions
from syncloom.portal import flows as flow_edits
from syncloom.portal.auth import Admin, Operator, Viewer, deps_of
from syncloom.portal.control import Queued
from syncloom.portal.flows import FieldRow, FlowSettings, FlowSummary, Preview

router = APIRouter(prefix="/flows", tags=["flows"])


class FieldMapBody(BaseModel):
    """A whole field map."""

    fields: list[FieldRow] = Field(max_length=500)


class PreviewBody(BaseModel):
    """A sample record, and optionally an unsaved field map to try on it."""

    record: dict[str, Any]
    fields: list[FieldRow] | None = Field(default=None, max_length=500)


class BackfillBody(BaseModel):
    """Where a backfill starts."""

    since: AwareDatetime


class Started(BaseModel):
    """The engine's id for the work it started."""

    run: str


def _summary(request: Request, tenant_id: int, name: str) -> FlowSummary:
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, tenant_id)
        enabled = flow_edits.states(session, tenant_id).get(name, True)
        return FlowSummary.of(flow_edits.find_flow(document, name), enabled)


@router.get("")
def flows(request: Request, me: Viewer) -> list[FlowSummary]:
    """Every flow of the newest flow document, with its switch."""
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
        switches = flow_edits.states(session, me.tenant_id)
        return [FlowSummary.of(f, switches.get(f.name, True)) for f in document.flows]


@router.get("/{name}")
def flow(request: Request, me: Viewer, name: str) -> dict[str, Any]:
    """One flow as in the flow document."""
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
        return flow_edits.find_flow(document, name).model_dump(mode="json")


@router.patch("/{name}")
def change_flow(request: Request, me: Admin, name: str, body: FlowSettings) -> FlowSummary:
    """Change direction, schedule, conflict or delete policy."""
    with deps_of(request).sessions.begin() as session:
        flow_edits.update_settings(session, me, name, body)
    return _summary(request, me.tenant_id, name)


@router.put("/{name}/fields")
def change_fields(request: Request, me: Admin, name: str, body: FieldMapBody) -> dict[str, Any]:
    """Replace the field map (validated with the whole document)."""
    with deps_of(request).sessions.begin() as session:
        return flow_edits.replace_fields(session, me, name, body.fields).model_dump(mode="json")


@router.post("/{name}/enable")
def enable(request: Request, me: Operator, name: str) -> FlowSummary:
    """Switch the flow on."""
    with deps_of(request).sessions.begin() as session:
        flow_edits.set_enabled(session, me, name, True)
    return _summary(request, me.tenant_id, name)


@router.post("/{name}/disable")
def disable(request: Request, me: Operator, name: str) -> FlowSummary:
    """Switch the flow off."""
    with deps_of(request).sessions.begin() as session:
        flow_edits.set_enabled(session, me, name, False)
    return _summary(request, me.tenant_id, name)


@router.post("/{name}/preview")
def preview(request: Request, me: Viewer, name: str, body: PreviewBody) -> Preview:
    """Map a sample record both ways without saving anything."""
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
    return flow_edits.preview(document, name, body.record, body.fields)


@router.post("/{name}/run", status_code=202)
def run_now(request: Request, me: Operator, name: str) -> Started:
    """Poll the flow now."""
    return Started(run=actions.run_now(deps_of(request), me, name))


@router.post("/{name}/dry-run")
def dry_run(request: Request, response: Response, me: Operator, name: str) -> dict[str, Any]:
    """Read and map without writing; the engine's report.

    When the workers run in other processes, the answer is 202 with ``{"job": ...}``; the
    report is that job's result at ``GET /api/jobs/{job}``.
    """
    report = actions.dry_run(deps_of(request), me, name)
    if isinstance(report, Queued):
        response.status_code = 202
        return {"job": report.job}
    return report


@router.post("/{name}/backfill", status_code=202)
def backfill(request: Request, me: Operator, name: str, body: BackfillBody) -> Started:
    """Re-sync every record changed since a date."""
    return Started(run=actions.backfill(deps_of(request), me, name, body.since.astimezone(UTC)))
