"""Alert rules as the portal edits them, and the "send a test alert" button."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from syncloom.errors import SyncError
from syncloom.notify import Channel
from syncloom.notify.alerts import AlertEvaluator, AlertKind
from syncloom.portal.auth import Principal
from syncloom.portal.deps import PortalDeps
from syncloom.portal.problems import FieldProblem, Invalid, Missing
from syncloom.store.audit import AuditLog
from syncloom.store.models import AlertRule

__all__ = ["AlertRuleIn", "AlertRuleView", "delete_rule", "find_rule", "save_rule", "test_rule"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


class AlertRuleIn(BaseModel):
    """An alert rule as submitted."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: AlertKind
    flow: str | None = Field(default=None, max_length=100)
    threshold: int = Field(default=1, ge=1, le=1_000_000)
    window_min: int = Field(default=60, ge=1, le=100_000)
    minutes: int = Field(default=60, ge=1, le=100_000, description="staleness limit")
    channel: Channel
    target: str = Field(min_length=3, max_length=500, description="email address or webhook URL")
    enabled: bool = True

    @field_validator("target")
    @classmethod
    def _target_fits_channel(cls, target: str, info: ValidationInfo) -> str:
        channel = info.data.get("channel")
        if channel is Channel.EMAIL and not _EMAIL.match(target):
            raise ValueError("an email channel needs an email address")
        if channel is Channel.SLACK and not _URL.match(target):
            raise ValueError("a Slack channel needs its incoming-webhook URL")
        return target

    def params(self) -> dict[str, Any]:
        """The rule's parameters as stored."""
        return {
            "flow": self.flow or None,
            "threshold": self.threshold,
            "window_min": self.window_min,
            "minutes": self.minutes,
        }


class AlertRuleView(BaseModel):
    """An alert rule as shown (a Slack webhook URL is a secret: only its host is shown)."""

    id: int
    name: str
    kind: str
    params: dict[str, Any]
    channel: str
    target: str
    enabled: bool

    @classmethod
    def of(cls, row: AlertRule) -> AlertRuleView:
        """The view of one rule."""
        target = row.target
        if row.channel == Channel.SLACK:
            target = re.sub(r"^(https?://[^/]+)/.*$", r"\1/…", target)
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            params=row.params,
            channel=row.channel,
            target=target,
            enabled=row.enabled,
        )


def find_rule(session: Session, tenant_id: int, rule_id: int) -> AlertRule:
    """One rule of the tenant.

    Raises:
        Missing: no such rule in this tenant.
    """
    row = session.get(AlertRule, rule_id)
    if row is None or row.tenant_id != tenant_id:
        raise Missing(f"no alert rule {rule_id}")
    return row


def save_rule(session: Session, me: Principal, data: AlertRuleIn, rule_id: int | None) -> AlertRule:
    """Create (``rule_id=None``) or replace a rule; audited."""
    clash = session.scalar(
        select(AlertRule.id).where(AlertRule.tenant_id == me.tenant_id, AlertRule.name == data.name)
    )
    if clash is not None and clash != rule_id:
        raise Invalid([FieldProblem("name", f"a rule called {data.name!r} exists")])
    row = (
        find_rule(session, me.tenant_id, rule_id) if rule_id else AlertRule(tenant_id=me.tenant_id)
    )
    row.name, row.kind, row.params = data.name, str(data.kind), data.params()
    row.channel, row.target, row.enabled = str(data.channel), data.target, data.enabled
    session.add(row)
    session.flush()
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action="alert.update" if rule_id else "alert.create",
        target=f"alert:{row.id}:{row.name}",
        delta={"kind": [None, row.kind], "channel": [None, row.channel]},
    )
    return row


def delete_rule(session: Session, me: Principal, rule_id: int) -> None:
    """Delete a rule; audited."""
    row = find_rule(session, me.tenant_id, rule_id)
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action="alert.delete",
        target=f"alert:{row.id}:{row.name}",
    )
    session.delete(row)


def test_rule(deps: PortalDeps, me: Principal, rule_id: int) -> tuple[bool, str]:
    """Send a test message on the rule's channel; returns (ok, what happened)."""
    with deps.sessions() as session:
        rule = find_rule(session, me.tenant_id, rule_id)
        session.expunge(rule)
    sender = AlertEvaluator(deps.sessions, deps.clock, smtp=deps.smtp)
    try:
        sender.send(rule, f"syncloom test alert: {rule.name}", f"A test sent by {me.email}.")
    except SyncError as exc:
        return False, exc.message
    return True, f"test alert sent by {rule.channel}"
