"""Conflicts: three-way detection against the last synced base, and policies that settle it.

Both sides changed the same field since the last sync: which value wins? A field changed on one
side only is not a conflict, it simply travels. A field changed on both sides to different
values is settled by a :class:`ConflictPolicy` (per flow, with per-field overrides). Every
decision is a :class:`Resolution` carrying both values, the winner and why, for the record log.
All three value sets are compared in one namespace (the caller maps both sides to the same
field names first) and with :func:`~syncloom.engine.hashing.same_value`, so ``"1.0"`` and
``1`` are no change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from syncloom.connectors.base import Values
from syncloom.engine.flows import ConflictRule, Flow, Side
from syncloom.engine.hashing import same_value
from syncloom.errors import ConflictError

__all__ = [
    "ConflictOutcome",
    "ConflictPolicy",
    "CrmWins",
    "ErpWins",
    "FieldChange",
    "ManualReview",
    "NewestWins",
    "Resolution",
    "SideState",
    "Verdict",
    "detect_changes",
    "flow_policies",
    "policy_for",
    "resolve_changes",
]


@dataclass(frozen=True, slots=True)
class SideState:
    """One side's current values (in the shared namespace) and when they last changed."""

    values: Values
    modified_on_utc: datetime | None = None


class Verdict(enum.StrEnum):
    """What happens to one field."""

    CRM = "crm"
    ERP = "erp"
    AGREE = "agree"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field compared three ways."""

    field: str
    base: object
    crm: object
    erp: object
    crm_changed: bool
    erp_changed: bool

    @property
    def is_conflict(self) -> bool:
        """True when both sides changed the field, to different values."""
        return self.crm_changed and self.erp_changed and not same_value(self.crm, self.erp)


@dataclass(frozen=True, slots=True)
class Resolution:
    """How one changed field was settled, and why (written to the record log)."""

    field: str
    base: object
    crm: object
    erp: object
    verdict: Verdict
    reason: str
    conflict: bool = False

    @property
    def winner(self) -> Side | None:
        """The side whose value is kept, or ``None`` when both agree or a person decides."""
        return {Verdict.CRM: Side.CRM, Verdict.ERP: Side.ERP}.get(self.verdict)

    @property
    def value(self) -> object:
        """The winning value (the common one when both agree)."""
        return self.erp if self.verdict is Verdict.ERP else self.crm


class ConflictPolicy:
    """Which value wins when both sides changed a field? A subclass answers :meth:`resolve`.

    Contract: ``resolve`` is called only for a real conflict and returns a
    :class:`Resolution`; it never writes anything.

    Example::

        class ErpWinsOnWeekdays(ConflictPolicy):
            def resolve(self, change, crm, erp):
                return self.decide(change, Verdict.ERP, "the ERP owns this field")
    """

    rule: ClassVar[ConflictRule]

    def resolve(self, change: FieldChange, crm: SideState, erp: SideState) -> Resolution:
        """Settle one conflicting field; called only when both sides changed it."""
        raise NotImplementedError

    @staticmethod
    def decide(change: FieldChange, verdict: Verdict, reason: str) -> Resolution:
        """Build the resolution of ``change`` with ``verdict``."""
        return Resolution(
            change.field, change.base, change.crm, change.erp, verdict, reason, conflict=True
        )


class CrmWins(ConflictPolicy):
    """The CRM's value wins every conflict."""

    rule = ConflictRule.CRM_WINS

    def resolve(self, change: FieldChange, crm: SideState, erp: SideState) -> Resolution:
        """Keep the CRM's value."""
        return self.decide(change, Verdict.CRM, "both changed; policy crm_wins")


class ErpWins(ConflictPolicy):
    """The ERP's value wins every conflict."""

    rule = ConflictRule.ERP_WINS

    def resolve(self, change: FieldChange, crm: SideState, erp: SideState) -> Resolution:
        """Keep the ERP's value."""
        return self.decide(change, Verdict.ERP, "both changed; policy erp_wins")


class NewestWins(ConflictPolicy):
    """The side modified last wins; a tie (or no timestamps) goes to ``tie_winner``."""

    rule = ConflictRule.NEWEST_WINS

    def __init__(self, tie_winner: Side = Side.CRM) -> None:
        self.tie_winner = tie_winner

    def resolve(self, change: FieldChange, crm: SideState, erp: SideState) -> Resolution:
        """Keep the value of the side modified last."""
        crm_at, erp_at = crm.modified_on_utc, erp.modified_on_utc
        if crm_at is not None and erp_at is not None and crm_at != erp_at:
            side = Side.CRM if crm_at > erp_at else Side.ERP
            reason = f"both changed; {side} modified last ({max(crm_at, erp_at).isoformat()})"
        else:
            # Equal or unknown times: a fixed side keeps the outcome independent of read order.
            side = self.tie_winner
            reason = f"both changed at the same or an unknown time; tie goes to {side}"
        return self.decide(change, Verdict(side.value), reason)


class ManualReview(ConflictPolicy):
    """No side wins automatically; the conflict goes to a person."""

    rule = ConflictRule.MANUAL_REVIEW

    def resolve(self, change: FieldChange, crm: SideState, erp: SideState) -> Resolution:
        """Send the field to review."""
        return self.decide(change, Verdict.REVIEW, "both changed; policy manual_review")


_POLICIES: Mapping[ConflictRule, Callable[[], ConflictPolicy]] = {
    ConflictRule.CRM_WINS: CrmWins,
    ConflictRule.ERP_WINS: ErpWins,
    ConflictRule.NEWEST_WINS: NewestWins,
    ConflictRule.MANUAL_REVIEW: ManualReview,
}


def policy_for(rule: ConflictRule) -> ConflictPolicy:
    """Return the policy instance for a rule named in a flow document."""
    return _POLICIES[rule]()


def detect_changes(
    base: Values | None, crm: Values, erp: Values, fields: Iterable[str] | None = None
) -> list[FieldChange]:
    """Compare each field three ways.

    Args:
        base: the values both sides had at the last sync; ``None`` before the first sync,
            when every field that differs counts as changed on both sides.
        crm: the CRM's current values.
        erp: the ERP's current values.
        fields: the fields to compare; default every field named in any of the three.

    Returns:
        One :class:`FieldChange` per field, in a stable (sorted) order.
    """
    names = sorted(set(fields) if fields is not None else {*(base or {}), *crm, *erp})
    changes = []
    for name in names:
        crm_value, erp_value = crm.get(name), erp.get(name)
        if base is None:
            differ = not same_value(crm_value, erp_value)
            changes.append(FieldChange(name, None, crm_value, erp_value, differ, differ))
            continue
        base_value = base.get(name)
        crm_changed = not same_value(crm_value, base_value)
        erp_changed = not same_value(erp_value, base_value)
        changes.append(
            FieldChange(name, base_value, crm_value, erp_value, crm_changed, erp_changed)
        )
    return changes


@dataclass(frozen=True, slots=True)
class ConflictOutcome:
    """Every changed field settled: what to write to each side, and what needs a person."""

    resolutions: tuple[Resolution, ...]

    @property
    def to_crm(self) -> dict[str, object]:
        """Fields to write to the CRM: the ERP won and the CRM differs."""
        return {r.field: r.erp for r in self.resolutions if r.verdict is Verdict.ERP}

    @property
    def to_erp(self) -> dict[str, object]:
        """Fields to write to the ERP: the CRM won and the ERP differs."""
        return {r.field: r.crm for r in self.resolutions if r.verdict is Verdict.CRM}

    @property
    def reviews(self) -> tuple[Resolution, ...]:
        """Conflicts waiting for a person."""
        return tuple(r for r in self.resolutions if r.verdict is Verdict.REVIEW)

    def raise_for_review(self, record_key: str | None = None) -> None:
        """Raise :class:`ConflictError` when any field waits for review.

        Raises:
            ConflictError: naming the fields (not their values) that need a decision.
        """
        if self.reviews:
            names = ", ".join(r.field for r in self.reviews)
            raise ConflictError(f"conflict needs review on: {names}", record_key=record_key)


def resolve_changes(
    changes: Iterable[FieldChange],
    crm: SideState,
    erp: SideState,
    policy: ConflictPolicy | Callable[[str], ConflictPolicy],
) -> ConflictOutcome:
    """Settle every changed field.

    Args:
        changes: from :func:`detect_changes`.
        crm: the CRM's state (its modified-on time feeds :class:`NewestWins`).
        erp: the ERP's state.
        policy: one policy for the whole record, or a function from field to policy.

    Returns:
        The outcome; unchanged fields do not appear in it.
    """
    choose = (lambda _field: policy) if isinstance(policy, ConflictPolicy) else policy
    resolutions = []
    for change in changes:
        resolution = _settle(change, crm, erp, choose)
        if resolution is not None:
            resolutions.append(resolution)
    return ConflictOutcome(tuple(resolutions))


def _settle(
    change: FieldChange,
    crm: SideState,
    erp: SideState,
    choose: Callable[[str], ConflictPolicy],
) -> Resolution | None:
    def plain(verdict: Verdict, reason: str) -> Resolution:
        return Resolution(change.field, change.base, change.crm, change.erp, verdict, reason)

    if change.is_conflict:
        return choose(change.field).resolve(change, crm, erp)
    if change.crm_changed and change.erp_changed:
        return plain(Verdict.AGREE, "both changed to the same value")
    if change.crm_changed:
        return plain(Verdict.CRM, "changed only in crm")
    if change.erp_changed:
        return plain(Verdict.ERP, "changed only in erp")
    return None


def flow_policies(flow: Flow) -> Callable[[str], ConflictPolicy]:
    """Return the per-field policy chooser of ``flow``: field overrides, else the flow's rule."""
    cache: dict[ConflictRule, ConflictPolicy] = {}

    def choose(field: str) -> ConflictPolicy:
        rule = flow.conflict_rule(field)
        if rule not in cache:
            cache[rule] = policy_for(rule)
        return cache[rule]

    return choose
