"""Flow pages: list with switches; one flow's settings, actions and field-map editor."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from syncloom.engine.flows import ConflictRule, DeleteRule, FieldDirection, Flow, FlowDirection
from syncloom.errors import ConfigError
from syncloom.portal import actions
from syncloom.portal import flows as flow_edits
from syncloom.portal.auth import Admin, Operator, Principal, Viewer, deps_of
from syncloom.portal.control import Queued
from syncloom.portal.flows import FieldRow, FlowSettings, FlowSummary, Preview
from syncloom.portal.forms import parse
from syncloom.portal.problems import FieldProblem, Invalid, Missing, Unavailable
from syncloom.portal.rendering import redirect, render
from syncloom.portal.reports import lay_out
from syncloom.portal.schemas import EntityFields, schemas_of
from syncloom.store.models import Connection, RoleName

router = APIRouter(include_in_schema=False)
BLANK_ROWS = 2


@router.get("/flows", response_class=HTMLResponse)
def flows_page(request: Request, me: Viewer) -> Response:
    """Every flow with its switch and a run-now button."""
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
        switches = flow_edits.states(session, me.tenant_id)
    rows = [FlowSummary.of(f, switches.get(f.name, True)) for f in document.flows]
    return render(request, "flows.html", me, flows=rows)


def _schema_rows(session: Session, tenant_id: int, flow: Flow) -> list[Connection | None]:
    """The Connection rows of the flow's source and target, detached for use after the session."""
    rows: list[Connection | None] = []
    for side in (flow.source, flow.target):
        row = session.scalar(
            select(Connection).where(
                Connection.tenant_id == tenant_id, Connection.name == side.connection
            )
        )
        if row is not None:
            session.expunge(row)
        rows.append(row)
    return rows


def _pickers(
    request: Request, flow: Flow, rows: list[Connection | None], refresh: bool = False
) -> tuple[dict[str, EntityFields], list[str]]:
    """Fields of the flow's source and target as their systems list them, and what failed."""
    found: dict[str, EntityFields] = {}
    problems: list[str] = []
    for label, side, row in zip(
        ("source", "target"), (flow.source, flow.target), rows, strict=True
    ):
        if row is None:
            continue
        try:
            found[label] = schemas_of(deps_of(request)).fields(row, side.entity, refresh=refresh)
        except (Unavailable, Missing, ConfigError) as exc:
            problems.append(f"Fields of {side.connection}:{side.entity} could not be read: {exc}")
    return found, problems


def _page(request: Request, me: Principal, name: str, **extra: Any) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
        enabled = flow_edits.states(session, me.tenant_id).get(name, True)
        flow = flow_edits.find_flow(document, name)
        unknown = flow_edits.unknown_connections(session, me.tenant_id, flow)
        sides = _schema_rows(session, me.tenant_id, flow)
    # Only those who may save a field map are offered the systems' field lists.
    schemas, schema_problems = (
        ({}, []) if not me.can(RoleName.ADMIN) else _pickers(request, flow, sides)
    )
    rows = extra.pop("rows", None)
    if rows is None:
        rows = [e.model_dump(include=set(FieldRow.model_fields)) for e in flow.fields]
    context: dict[str, Any] = {
        "flow": flow,
        "summary": FlowSummary.of(flow, enabled),
        "unknown_connections": unknown,
        "rows": rows + [{} for _ in range(BLANK_ROWS)],
        "errors": {},
        "sample": "{}",
        "directions": [str(d) for d in FlowDirection],
        "field_directions": ["", *[str(d) for d in FieldDirection]],
        "conflicts": [str(c) for c in ConflictRule],
        "deletes": [str(d) for d in DeleteRule],
        "schemas": schemas,
        "schema_problems": schema_problems,
        **extra,
    }
    status = 422 if context["errors"] else 200
    return render(request, "flow.html", me, status_code=status, **context)


@router.get("/flows/{name}", response_class=HTMLResponse)
def flow_page(request: Request, me: Viewer, name: str) -> Response:
    """One flow: settings, actions and the field-map editor."""
    return _page(request, me, name)


def _form_key(path: str) -> str:
    found = re.search(r"fields[\[.](\d+)\]?\.(\w+)$", path)
    if found:
        return f"fields-{found.group(1)}-{found.group(2)}"
    tail = re.sub(r"^(document\.)?flows\[\d+\]\.", "", path)
    return tail.replace(".", "_")


def _errors(exc: Invalid) -> dict[str, str]:
    return {_form_key(p.field): p.message for p in exc.problems}


@router.post("/flows/{name}/settings")
async def save_settings(request: Request, me: Admin, name: str) -> Response:
    """Save direction, schedule, conflict and delete policy."""
    form = await request.form()
    cron = str(form.get("schedule_cron", "")).strip()
    data: dict[str, Any] = {
        key: form.get(key) for key in ("direction", "conflict", "delete") if form.get(key)
    }
    if cron:
        data["schedule"] = {"cron": cron, "timezone": form.get("schedule_timezone") or "UTC"}
    else:
        data["clear_schedule"] = True
    try:
        with deps_of(request).sessions.begin() as session:
            flow_edits.update_settings(session, me, name, parse(FlowSettings, data))
    except Invalid as exc:
        return _page(request, me, name, errors=_errors(exc))
    return redirect(request, f"/flows/{name}", f"Settings of {name} saved.")


def _rows(form: FormData) -> list[dict[str, Any]]:
    indexes = sorted({int(m.group(1)) for k in form if (m := re.match(r"fields-(\d+)-", k))})
    rows = []
    for index in indexes:
        row = {
            key: str(form.get(f"fields-{index}-{key}", "")).strip()
            for key in ("source", "target", "direction", "transform", "value_map")
        }
        if row["source"] or row["target"]:
            rows.append(row)
    return rows


def _parse_rows(rows: list[dict[str, Any]]) -> list[FieldRow]:
    parsed, problems = [], []
    for index, row in enumerate(rows):
        try:
            parsed.append(parse(FieldRow, {k: v for k, v in row.items() if v != ""}))
        except Invalid as exc:
            problems += [
                FieldProblem(f"fields[{index}].{p.field}", p.message) for p in exc.problems
            ]
    if problems:
        raise Invalid(problems)
    return parsed


@router.post("/flows/{name}/fields")
async def save_fields(request: Request, me: Admin, name: str) -> Response:
    """Save the field map from the editor."""
    form = await request.form()
    rows = _rows(form)
    try:
        with deps_of(request).sessions.begin() as session:
            flow_edits.replace_fields(session, me, name, _parse_rows(rows))
    except Invalid as exc:
        sample = str(form.get("sample", "{}"))
        return _page(request, me, name, rows=rows, errors=_errors(exc), sample=sample)
    return redirect(request, f"/flows/{name}", f"Field map of {name} saved.")


@router.post("/flows/{name}/preview", response_class=HTMLResponse)
async def preview(request: Request, me: Viewer, name: str) -> Response:
    """Map the sample record with the editor's (unsaved) rows."""
    form = await request.form()
    rows, sample = _rows(form), str(form.get("sample", "{}"))
    try:
        record = json.loads(sample or "{}")
        if not isinstance(record, dict):
            record = None
    except ValueError:
        record = None
    if record is None:
        return _page(
            request,
            me,
            name,
            rows=rows,
            sample=sample,
            errors={"sample": "must be a JSON object of field values"},
        )
    try:
        parsed = _parse_rows(rows)
    except Invalid as exc:
        return _page(request, me, name, rows=rows, sample=sample, errors=_errors(exc))
    with deps_of(request).sessions() as session:
        document = flow_edits.current_document(session, me.tenant_id)
    result: Preview = flow_edits.preview(document, name, record, parsed)
    return _page(request, me, name, rows=rows, sample=sample, preview=result)


@router.post("/flows/{name}/fields/refresh")
def refresh_fields(request: Request, me: Admin, name: str) -> Response:
    """Read the source's and target's field lists from their systems again."""
    with deps_of(request).sessions() as session:
        flow = flow_edits.find_flow(flow_edits.current_document(session, me.tenant_id), name)
        sides = _schema_rows(session, me.tenant_id, flow)
    _, problems = _pickers(request, flow, sides, refresh=True)
    if problems:
        return redirect(request, f"/flows/{name}", " ".join(problems), "error")
    return redirect(request, f"/flows/{name}", "Field lists read again from the systems.")


@router.post("/flows/{name}/switch")
async def switch(request: Request, me: Operator, name: str) -> Response:
    """Switch the flow on or off."""
    enabled = str((await request.form()).get("enabled", "")) == "true"
    with deps_of(request).sessions.begin() as session:
        flow_edits.set_enabled(session, me, name, enabled)
    verb = "switched on" if enabled else "switched off"
    return redirect(request, "/flows", f"{name} {verb}.")


@router.post("/flows/{name}/run")
def run_now(request: Request, me: Operator, name: str) -> Response:
    """Poll the flow now."""
    try:
        run_id = actions.run_now(deps_of(request), me, name)
    except ConfigError as exc:
        return redirect(request, f"/flows/{name}", exc.message, "error")
    return redirect(request, f"/flows/{name}", f"Run {run_id} started for {name}.")


@router.post("/flows/{name}/dry-run", response_class=HTMLResponse)
def dry_run(request: Request, me: Operator, name: str) -> Response:
    """Read and map without writing, and show the report."""
    try:
        report = actions.dry_run(deps_of(request), me, name)
    except ConfigError as exc:
        return redirect(request, f"/flows/{name}", exc.message, "error")
    if isinstance(report, Queued):
        text = f"Dry run {report.job} queued for {name}; a worker runs it."
        return redirect(request, f"/flows/{name}", text)
    return _page(request, me, name, report=lay_out(report))


@router.post("/flows/{name}/backfill")
async def backfill(request: Request, me: Operator, name: str) -> Response:
    """Re-sync every record changed since the chosen date (UTC)."""
    text = str((await request.form()).get("since", ""))
    try:
        since = datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return _page(request, me, name, errors={"since": "enter a date and time"})
    try:
        run_id = actions.backfill(deps_of(request), me, name, since)
    except ConfigError as exc:
        return redirect(request, f"/flows/{name}", exc.message, "error")
    return redirect(
        request, f"/flows/{name}", f"Backfill {run_id} started from {since:%Y-%m-%d %H:%M} UTC."
    )
