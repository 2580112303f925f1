"""Succession: what becomes of a twin when its source record retires or is merged away.

What should the ERP do when a CRM record is deactivated, or merged into another one? Never
lose the ERP record: a deactivated source is handled by the flow's delete policy while it
still exists (``inactive_when``: the twin is set inactive, never deleted unless the policy
says ``propagate``), and a source that vanished because a CRM merge folded it into a
survivor hands its twin to the survivor (``merge: {tier: ...}``): the survivor is the source
record that now matches the twin on that match tier, typically because the merge gave it
the duplicate's ERP id. Only when no survivor claims the twin does the delete policy apply.

Example (a flow document)::

    inactive_when: "UsrInactive == True"
    merge: {tier: customer_account}
    inactivate: {field: OnHoldStatus, value: All}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from syncloom.connectors.base import Record, RecordKey, Values
from syncloom.engine.expressions import Expression, ExpressionError, Scope
from syncloom.engine.flows import Flow, MatchTier
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError

__all__ = ["Retirement", "Succession"]

Search = Callable[[Values], Awaitable[Sequence[Record]]]
"""Search the flow's source entity for records whose fields equal the criteria."""


class Retirement:
    """Whether a source record that still exists is retired (deactivated) for the flow."""

    def __init__(self, expression: Expression | None) -> None:
        self._expression = expression

    @classmethod
    def from_flow(cls, flow: Flow) -> Retirement:
        """Compile the flow's ``inactive_when`` (it reads the record's fields, no value maps).

        Raises:
            ConfigError: the expression does not compile (load_flows reports it first).
        """
        if flow.inactive_when is None:
            return cls(None)
        try:
            expression = Expression.compile_transform(
                flow.inactive_when, functions=TransformTable.load(), lookups=()
            )
        except ExpressionError as exc:
            raise ConfigError(f"flow {flow.name!r}: inactive_when: {exc.message}") from exc
        return cls(expression)

    def is_retired(self, values: Values) -> bool:
        """True when the record is deactivated by the flow's ``inactive_when``."""
        if self._expression is None:
            return False
        return bool(self._expression.evaluate(Scope(values=values), field="inactive_when"))


class Succession:
    """Finds the survivor of a merge: the source record that now claims a vanished one's twin."""

    def __init__(self, tier: MatchTier | None) -> None:
        self.tier = tier

    @classmethod
    def from_flow(cls, flow: Flow) -> Succession:
        """The flow's merge tier, looked up among its match tiers.

        Raises:
            ConfigError: the tier is not one of the flow's match tiers.
        """
        if flow.merge is None:
            return cls(None)
        for tier in flow.match.tiers:
            if tier.name == flow.merge.tier:
                return cls(tier)
        raise ConfigError(f"flow {flow.name!r}: merge tier {flow.merge.tier!r} is not a match tier")

    async def survivor(
        self, gone: RecordKey, twin: Record, search: Search, same_route: Callable[[Record], bool]
    ) -> Record | None:
        """The one source record other than ``gone`` matching ``twin`` on the merge tier.

        ``same_route`` keeps candidates routed like the twin (the same legal entity), since
        ERP ids repeat across legal entities. Two candidates are no succession: the delete
        policy applies, as it would without a merge tier.
        """
        if self.tier is None:
            return None
        criteria: dict[str, object] = {}
        for pair in self.tier.fields:
            value = twin.values.get(pair.target)
            if value in (None, ""):
                return None
            criteria[pair.source] = value
        found = [r for r in await search(criteria) if r.key != gone and same_route(r)]
        return found[0] if len(found) == 1 else None
