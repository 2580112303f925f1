"""REST: alert rules (failed runs, dead-letter growth, staleness) and their test."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from syncloom.portal import alerts
from syncloom.portal.alerts import AlertRuleIn, AlertRuleView
from syncloom.portal.auth import Admin, Operator, Viewer, deps_of
from syncloom.portal.params import RowId
from syncloom.store.models import AlertRule

router = APIRouter(prefix="/alerts", tags=["alerts"])


class TestResult(BaseModel):
    """Whether the test alert went out."""

    ok: bool
    message: str


@router.get("")
def rules(request: Request, me: Viewer) -> list[AlertRuleView]:
    """Every alert rule of the tenant."""
    with deps_of(request).sessions() as session:
        rows = session.scalars(AlertRule.scoped(me.tenant_id).order_by(AlertRule.name))
        return [AlertRuleView.of(row) for row in rows]


@router.post("", status_code=201)
def add_rule(request: Request, me: Admin, body: AlertRuleIn) -> AlertRuleView:
    """Create an alert rule."""
    with deps_of(request).sessions.begin() as session:
        return AlertRuleView.of(alerts.save_rule(session, me, body, None))


@router.get("/{rule_id}")
def rule(request: Request, me: Viewer, rule_id: RowId) -> AlertRuleView:
    """One alert rule."""
    with deps_of(request).sessions() as session:
        return AlertRuleView.of(alerts.find_rule(session, me.tenant_id, rule_id))


@router.put("/{rule_id}")
def replace_rule(request: Request, me: Admin, rule_id: RowId, body: AlertRuleIn) -> AlertRuleView:
    """Replace an alert rule."""
    with deps_of(request).sessions.begin() as session:
        return AlertRuleView.of(alerts.save_rule(session, me, body, rule_id))


@router.delete("/{rule_id}", status_code=204)
def delete_rule(request: Request, me: Admin, rule_id: RowId) -> None:
    """Delete an alert rule."""
    with deps_of(request).sessions.begin() as session:
        alerts.delete_rule(session, me, rule_id)


@router.post("/{rule_id}/test")
def test_rule(request: Request, me: Operator, rule_id: RowId) -> TestResult:
    """Send a test alert on the rule's channel."""
    ok, message = alerts.test_rule(deps_of(request), me, rule_id)
    return TestResult(ok=ok, message=message)
