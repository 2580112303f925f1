"""AlertEvaluator: checks a tenant's alert rules and sends each alert once per episode.

Which conditions can a rule watch? ``failed_runs`` (runs failed in the last ``window_min``
minutes reach ``threshold``), ``dead_letter_growth`` (new dead letters in the last
``window_min`` minutes reach ``threshold``) and ``staleness`` (no record of the flow synced in
``minutes`` minutes). A rule fires once when its condition starts to hold, stays quiet while it
holds, and re-arms when it clears, so nobody is paged every minute for the same trouble.

Example::

    AlertEvaluator(sessions, clock, smtp=relay).evaluate(tenant_id)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import Clock
from syncloom.notify import Channel, SmtpRelay, deliver
from syncloom.store.models import AlertRule, AlertState, DeadLetter, Link, Run, RunStatus

__all__ = ["AlertEvaluator", "AlertKind", "Reading", "read_rule"]


class AlertKind(enum.StrEnum):
    """What an alert rule watches."""

    FAILED_RUNS = "failed_runs"
    DEAD_LETTER_GROWTH = "dead_letter_growth"
    STALENESS = "staleness"


@dataclass(frozen=True, slots=True)
class Reading:
    """A rule's current value, whether it breaches, and the sentence that says so."""

    value: float
    breached: bool
    text: str


def _since(params: dict[str, Any], now: datetime) -> datetime:
    return now - timedelta(minutes=int(params.get("window_min", 60)))


def _staleness(session: Session, rule: AlertRule, now: datetime) -> Reading:
    flow = rule.params.get("flow")
    query = select(func.max(Link.synced_at)).where(Link.tenant_id == rule.tenant_id)
    if flow:
        query = query.where(Link.flow == flow)
    last: Any = session.scalar(query)
    # An aggregate bypasses the column type: SQLite hands back naive UTC text.
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    minutes = (now - last).total_seconds() / 60 if last else float("inf")
    limit = int(rule.params.get("minutes", 60))
    text = f"no record of {flow or 'any flow'} synced in {limit} minutes"
    return Reading(minutes, minutes >= limit, text)


def _count(session: Session, rule: AlertRule, now: datetime) -> Reading:
    params, flow = rule.params, rule.params.get("flow")
    since = _since(params, now)
    if rule.kind == AlertKind.FAILED_RUNS:
        what = "failed runs"
        query = select(func.count(Run.id)).where(
            Run.tenant_id == rule.tenant_id, Run.started_at >= since, Run.status == RunStatus.FAILED
        )
        query = query.where(Run.flow == flow) if flow else query
    else:
        what = "new dead letters"
        query = select(func.count(DeadLetter.id)).where(
            DeadLetter.tenant_id == rule.tenant_id, DeadLetter.created_at >= since
        )
        query = query.where(DeadLetter.flow == flow) if flow else query
    count = session.scalar(query) or 0
    text = f"{count} {what} in {flow or 'all flows'} in the last {params.get('window_min', 60)} min"
    return Reading(float(count), count >= int(params.get("threshold", 1)), text)


def read_rule(session: Session, rule: AlertRule, now: datetime) -> Reading:
    """Measure one rule's condition now."""
    if rule.kind == AlertKind.STALENESS:
        return _staleness(session, rule, now)
    return _count(session, rule, now)


class AlertEvaluator:
    """Evaluates the rules of a tenant and delivers the alerts that start firing."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        smtp: SmtpRelay | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._smtp = smtp
        self._transport = transport

    def evaluate(self, tenant_id: int) -> list[str]:
        """Check every enabled rule; returns the names of the rules that fired now."""
        now = self._clock.now_utc()
        fired = []
        with self._sessions.begin() as session:
            rules = session.scalars(
                AlertRule.scoped(tenant_id).where(AlertRule.enabled.is_(True))
            ).all()
            for rule in rules:
                if self._step(session, rule, now):
                    fired.append(rule.name)
        return fired

    def _step(self, session: Session, rule: AlertRule, now: datetime) -> bool:
        state = session.scalar(
            AlertState.scoped(rule.tenant_id).where(AlertState.rule_id == rule.id)
        )
        if state is None:
            state = AlertState(tenant_id=rule.tenant_id, rule_id=rule.id)
            session.add(state)
        reading = read_rule(session, rule, now)
        state.last_value = reading.value if reading.value != float("inf") else None
        starts = reading.breached and not state.firing
        state.firing = reading.breached
        if not starts:
            return False
        self.send(rule, f"syncloom alert: {rule.name}", reading.text)
        state.last_fired_at = now
        return True

    def send(self, rule: AlertRule, subject: str, text: str) -> None:
        """Deliver one message on the rule's channel.

        Raises:
            ConfigError: email without an SMTP relay.
            RemoteError: the relay or webhook refused.
        """
        deliver(
            Channel(rule.channel),
            rule.target,
            subject,
            text,
            smtp=self._smtp,
            transport=self._transport,
        )
