"""Alert pages: rules with a form, edit, delete and a test button."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.notify import Channel
from syncloom.notify.alerts import AlertKind
from syncloom.portal import alerts
from syncloom.portal.alerts import AlertRuleIn, AlertRuleView
from syncloom.portal.auth import Admin, Operator, Principal, Viewer, deps_of
from syncloom.portal.forms import parse, read_form
from syncloom.portal.params import RowId
from syncloom.portal.problems import Invalid
from syncloom.portal.rendering import redirect, render
from syncloom.store.models import AlertRule

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    me: Principal,
    *,
    form: dict[str, Any] | None = None,
    errors: Any = None,
    editing: int | None = None,
) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        rows = [
            AlertRuleView.of(r)
            for r in session.scalars(AlertRule.scoped(me.tenant_id).order_by(AlertRule.name))
        ]
    return render(
        request,
        "alerts.html",
        me,
        status_code=422 if errors else 200,
        rules=rows,
        form=form or {},
        errors=errors or {},
        editing=editing,
        kinds=[str(k) for k in AlertKind],
        channels=[str(c) for c in Channel],
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, me: Viewer) -> Response:
    """Every alert rule and a form to add one."""
    return _page(request, me)


async def _save(request: Request, me: Principal, rule_id: RowId | None) -> Response:
    form = await read_form(request)
    data = {k: v for k, v in form.items() if v != ""}
    data["enabled"] = form.get("enabled") == "true"
    try:
        with deps_of(request).sessions.begin() as session:
            row = alerts.save_rule(session, me, parse(AlertRuleIn, data), rule_id)
            name = row.name
    except Invalid as exc:
        return _page(request, me, form=form, errors=exc.by_field(), editing=rule_id)
    return redirect(request, "/alerts", f"Alert rule {name} saved.")


@router.post("/alerts")
async def add_rule(request: Request, me: Admin) -> Response:
    """Create a rule from the form."""
    return await _save(request, me, None)


@router.post("/alerts/{rule_id}")
async def change_rule(request: Request, me: Admin, rule_id: RowId) -> Response:
    """Replace a rule from the form."""
    return await _save(request, me, rule_id)


@router.post("/alerts/{rule_id}/delete")
def delete_rule(request: Request, me: Admin, rule_id: RowId) -> Response:
    """Delete a rule."""
    with deps_of(request).sessions.begin() as session:
        alerts.delete_rule(session, me, rule_id)
    return redirect(request, "/alerts", "Alert rule deleted.")


@router.post("/alerts/{rule_id}/test")
def test_rule(request: Request, me: Operator, rule_id: RowId) -> Response:
    """Send a test alert and say whether it went out."""
    ok, message = alerts.test_rule(deps_of(request), me, rule_id)
    verdict = "Test alert sent" if ok else "Test alert failed"
    return redirect(request, "/alerts", f"{verdict}: {message}", "ok" if ok else "error")
