"""Solutions: the packaged flow documents for one CRM/ERP pair, and their options.

A Solution is data: ``creatio_intacct.yaml`` and ``creatio_d365.yaml`` ship inside this
package. :func:`load_solution` reads one, applies a few options (which ERP object an
Opportunity becomes, each flow's direction, the Connection names) and validates the result
with :func:`~syncloom.engine.flows.load_flows`, so a bad option fails at load time.

Example::

    doc = load_solution("creatio_intacct", opportunity_target="sales_order")
    doc = load_solution("creatio_d365", directions={"accounts_customers": "one_way"})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from syncloom.engine.flows import FlowDocument, load_flows
from syncloom.errors import ConfigError

__all__ = ["CHOICES", "SOLUTIONS", "load_solution", "solution_text"]

SOLUTIONS = ("creatio_intacct", "creatio_d365")

# option -> {value: flow kept}; the flows named for the other values are left out.
CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "creatio_intacct": {
        "opportunity_target": {
            "invoice": "opportunities_invoices",
            "sales_order": "opportunities_sales_orders",
        },
        "product_target": {"item": "products_items", "gl_account": "products_gl_accounts"},
        "contact_target": {"contact": "contacts", "employee": "contacts_employees"},
    },
    "creatio_d365": {},
}
DEFAULTS: dict[str, dict[str, str]] = {
    "creatio_intacct": {
        "opportunity_target": "invoice",
        "product_target": "item",
        "contact_target": "contact",
    },
    "creatio_d365": {},
}


@cache
def solution_text(name: str) -> str:
    """The packaged YAML of Solution ``name``, as shipped.

    Raises:
        ConfigError: when there is no such Solution.
    """
    if name not in SOLUTIONS:
        raise ConfigError(f"no Solution {name!r}; known: {', '.join(SOLUTIONS)}")
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def load_solution(
    name: str,
    *,
    directions: Mapping[str, str] | None = None,
    connections: Mapping[str, str] | None = None,
    only: tuple[str, ...] | None = None,
    entity_connections: Mapping[str, str] | None = None,
    **choices: str,
) -> FlowDocument:
    """Load a packaged Solution with its options applied.

    Args:
        name: ``creatio_intacct`` or ``creatio_d365``.
        directions: flow name -> ``one_way`` or ``both``, overriding the shipped direction.
        connections: shipped Connection name (``creatio``, ``intacct``, ``d365``) -> the name
            of the Connection to use instead.
        only: keep just these flows (and nothing else); dependencies on flows left out are
            dropped with them.
        entity_connections: legal entity (``E100``) -> the Connection signed in to it: every
            route to that entity writes through that Connection (one Connection per entity)
            instead of the flow's own.
        **choices: the Solution's choices (see :data:`CHOICES`), e.g.
            ``opportunity_target="sales_order"``, ``product_target="gl_account"``,
            ``contact_target="employee"`` for ``creatio_intacct``.

    Returns:
        The validated flow document.

    Raises:
        ConfigError: an unknown Solution, option or flow name; or a document that does not
            validate once the options are applied (a FlowDocumentError listing each problem).
    """
    raw: dict[str, Any] = yaml.safe_load(solution_text(name))
    dropped = _dropped_by_choices(name, choices)
    flows = raw["flows"]
    known = {flow["name"] for flow in flows}
    if only is not None:
        _check_names(known, only, "only")
        dropped |= known - set(only)
    raw["flows"] = [_without(flow, dropped) for flow in flows if flow["name"] not in dropped]
    _set_directions(raw["flows"], directions or {}, known)
    _rename_connections(raw["flows"], connections or {})
    _route_connections(raw["flows"], entity_connections or {})
    return load_flows(yaml.safe_dump(raw, sort_keys=False))


def _route_connections(flows: list[dict[str, Any]], by_entity: Mapping[str, str]) -> None:
    routed = {
        str(route["legal_entity"])
        for flow in flows
        for route in (flow.get("routing") or {}).get("routes", {}).values()
    }
    unknown = set(by_entity) - routed
    if unknown:
        raise ConfigError(
            f"entity_connections names entities no flow routes to: {sorted(unknown)}; "
            f"routed: {sorted(routed)}"
        )
    for flow in flows:
        routing = flow.get("routing")
        if not routing:
            continue
        for route in routing["routes"].values():
            connection = by_entity.get(str(route["legal_entity"]))
            if connection is not None:
                route["connection"] = connection


def _dropped_by_choices(name: str, choices: Mapping[str, str]) -> set[str]:
    table = CHOICES[name]
    unknown = set(choices) - set(table)
    if unknown:
        raise ConfigError(f"{name} has no option {sorted(unknown)}; options: {sorted(table)}")
    dropped: set[str] = set()
    for option, flows in table.items():
        value = choices.get(option, DEFAULTS[name][option])
        if value not in flows:
            raise ConfigError(f"{option} must be one of {sorted(flows)}, not {value!r}")
        dropped |= {flow for key, flow in flows.items() if key != value}
    return dropped


def _check_names(known: set[str], names: object, option: str) -> None:
    unknown = set(names) - known if isinstance(names, tuple | list | dict) else set()
    if unknown:
        raise ConfigError(f"{option} names unknown flows {sorted(unknown)}")


def _without(flow: dict[str, Any], dropped: set[str]) -> dict[str, Any]:
    """The flow without dependencies on flows that were left out."""
    flow = dict(flow)
    if "depends_on" in flow:
        flow["depends_on"] = [d for d in flow["depends_on"] if d["flow"] not in dropped]
    if "lines" in flow and "depends_on" in flow["lines"]:
        lines = dict(flow["lines"])
        lines["depends_on"] = [d for d in lines["depends_on"] if d["flow"] not in dropped]
        flow["lines"] = lines
    return flow


def _set_directions(
    flows: list[dict[str, Any]], directions: Mapping[str, str], known: set[str]
) -> None:
    _check_names(known, dict(directions), "directions")
    for flow in flows:
        if flow["name"] in directions:
            flow["direction"] = directions[flow["name"]]


def _rename_connections(flows: list[dict[str, Any]], connections: Mapping[str, str]) -> None:
    for flow in flows:
        for end in ("source", "target"):
            endpoint = dict(flow[end])
            endpoint["connection"] = connections.get(endpoint["connection"], endpoint["connection"])
            flow[end] = endpoint
        for lookup in _lookups(flow):
            lookup["connection"] = connections.get(lookup["connection"], lookup["connection"])


def _lookups(flow: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every lookup of a flow's raw document: its fields', its lines' and their contexts'."""
    lines = flow.get("lines") or {}
    for part in (flow, lines):
        for entry in [*part.get("fields", []), *part.get("context", [])]:
            if isinstance(entry, dict) and isinstance(entry.get("lookup"), dict):
                yield entry["lookup"]
