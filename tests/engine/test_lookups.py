"""Lookups, rules and routing fallbacks of a flow document, run against an in-memory entity."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from syncloom.connectors.base import Record, RecordKey, Values
from syncloom.engine.flows import (
    FieldLookup,
    FieldMap,
    FlowDocumentError,
    LookupChoice,
    Routing,
    Rule,
    load_flows,
)
from syncloom.engine.lookups import LookupRunner, decide
from syncloom.errors import MappingError

TODAY = date(2026, 6, 1)
SUM = LookupChoice.SUM
AGREEMENTS = [
    {"Item": "A", "Customer": "C1", "Group": "", "From": date(2026, 1, 1), "To": None,
     "Qty": 0, "Price": Decimal(90)},
    {"Item": "A", "Customer": "C1", "Group": "", "From": date(2026, 1, 1), "To": None,
     "Qty": 10, "Price": Decimal(80)},
    {"Item": "A", "Customer": "", "Group": "G", "From": date(2025, 1, 1), "To": None,
     "Qty": 0, "Price": Decimal(95)},
    {"Item": "B", "Customer": "", "Group": "G", "From": date(2025, 1, 1),
     "To": date(2025, 12, 31), "Qty": 0, "Price": Decimal(70)},
]  # fmt: skip


class Entity:
    """Search by equal fields over a list of rows, counting the searches."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = rows
        self.searches: list[tuple[str, str, Values]] = []

    async def search(self, connection: str, entity: str, criteria: Values) -> list[Record]:
        self.searches.append((connection, entity, dict(criteria)))
        return [
            Record(RecordKey("erp", entity, str(n)), row, datetime(2026, 1, 1, tzinfo=UTC))
            for n, row in enumerate(self.rows)
            if all(row.get(k) == v for k, v in criteria.items())
        ]


def _price(**changes: object) -> FieldLookup:
    spec = {
        "connection": "erp",
        "entity": "Agreements",
        "value": "Price",
        "match": {"Item": "ItemNumber"},
        "any_of": [{"Customer": "CustomerAccount"}, {"Group": "PriceGroup"}],
        "ranges": [
            {"value": "today", "from_field": "From", "to_field": "To"},
            {"value": "Quantity", "from_field": "Qty"},
        ],
        "choose": "lowest",
    }
    return FieldLookup.model_validate({**spec, **changes})


def _run(lookup: FieldLookup, **context: object) -> object:
    runner = LookupRunner(Entity(AGREEMENTS).search, today=lambda: TODAY)
    entry = FieldMap(source="Price", target="SalesPrice", lookup=lookup)
    scope = runner.base_context(context)
    mapped = {"SalesPrice": Decimal(100)}
    return asyncio.run(runner.apply([entry], mapped, scope))["SalesPrice"]


def test_the_customers_own_agreement_wins_over_its_group_and_breaks_by_quantity():
    base = {"ItemNumber": "A", "CustomerAccount": "C1", "PriceGroup": "G"}
    assert _run(_price(), **base, Quantity=Decimal(2)) == Decimal(90)
    assert _run(_price(), **base, Quantity=Decimal(12)) == Decimal(80)


def test_the_group_agreement_applies_when_the_customer_has_none():
    context = {"ItemNumber": "A", "CustomerAccount": "C9", "PriceGroup": "G", "Quantity": 1}
    assert _run(_price(), **context) == Decimal(95)


def test_an_expired_agreement_falls_back_to_the_mapped_value_or_as_told():
    context = {"ItemNumber": "B", "CustomerAccount": "C1", "PriceGroup": "G", "Quantity": 1}
    assert _run(_price(), **context) == Decimal(100)
    assert _run(_price(fallback="empty"), **context) is None
    with pytest.raises(MappingError, match="SalesPrice"):
        _run(_price(fallback="error"), **context)


def test_a_lookup_switched_off_keeps_the_mapped_value_and_searches_nothing():
    entity = Entity(AGREEMENTS)
    runner = LookupRunner(entity.search, today=lambda: TODAY)
    entry = FieldMap(source="Price", target="SalesPrice", lookup=_price(enabled=False))
    out = asyncio.run(runner.apply([entry], {"SalesPrice": 1}, {"ItemNumber": "A"}))
    assert out == {"SalesPrice": 1}
    assert entity.searches == []


def test_a_missing_match_value_finds_nothing_without_searching():
    entity = Entity(AGREEMENTS)
    runner = LookupRunner(entity.search, today=lambda: TODAY)
    found = asyncio.run(runner.candidates(_price(), {"CustomerAccount": "C1"}))
    assert found == []
    assert entity.searches == []


def test_sum_totals_every_candidate():
    rows = [{"Item": "A", "Qty": Decimal("1.5")}, {"Item": "A", "Qty": 2}, {"Item": "B", "Qty": 9}]
    runner = LookupRunner(Entity(rows).search, today=lambda: TODAY)
    spec = FieldLookup(
        connection="erp", entity="Stock", value="Qty", match={"Item": "Item"}, choose=SUM
    )
    assert asyncio.run(runner.value(spec, {"Item": "A"}, None, "Total")) == Decimal("3.5")


def test_context_values_are_looked_up_in_order_and_read_by_later_lookups():
    customers = [{"Account": "C9", "Group": "G"}]
    runner = LookupRunner(Entity(customers).search, today=lambda: TODAY)
    spec = FieldLookup(connection="erp", entity="Customers", value="Group",
                       match={"Account": "CustomerAccount"})  # fmt: skip
    doc = load_flows(
        "flows:\n- name: f\n  source: {connection: a, entity: X}\n"
        "  target: {connection: b, entity: Y}\n"
        "  context: [{name: PriceGroup, lookup: " + spec.model_dump_json() + "}]\n"
    )
    context = asyncio.run(runner.context(doc.flows[0].context, {"CustomerAccount": "C9"}))
    assert context["PriceGroup"] == "G"


def test_rules_take_the_first_row_that_holds():
    rules = [
        Rule(when={"legal_entity": "usmf", "OrderType": ("Service", "Rush")}, value="12"),
        Rule(when={"legal_entity": "demf"}, value="21"),
        Rule(value="11"),
    ]
    assert decide(rules, {"legal_entity": "usmf", "OrderType": "Rush"}, None) == "12"
    assert decide(rules, {"legal_entity": "usmf", "OrderType": "Standard"}, None) == "11"
    assert decide(rules, {"legal_entity": "demf"}, None) == "21"
    assert decide(rules[:2], {"legal_entity": "xx"}, "mapped") == "mapped"


def test_routing_falls_back_to_further_fields_with_a_route():
    routing = Routing.model_validate(
        {
            "field": "BusinessUnit",
            "fallback_fields": ["LegalEntity"],
            "routes": {"bu-de": {"legal_entity": "demf"}, "usmf": {"legal_entity": "usmf"}},
            "default": {"legal_entity": "usmf"},
        }
    )

    def entity(values: dict[str, object]) -> str | None:
        route = routing.route_values(values)
        return route.legal_entity if route else None

    assert entity({"BusinessUnit": "bu-de", "LegalEntity": "usmf"}) == "demf"
    assert entity({"BusinessUnit": "bu-xx", "LegalEntity": "usmf"}) == "usmf"
    assert entity({}) == "usmf"


FLOW = """
flows:
- name: f
  source: {connection: erp, entity: Rows, side: erp}
  target: {connection: crm, entity: Things, side: crm}
  direction: %s
  %s
  match: {tiers: [{name: code, fields: [{source: Code, target: Code}]}]}
  fields:
  - {source: Total, target: Total}
"""


def test_checks_refuse_a_written_grouped_source_and_a_flow_that_could_never_link():
    grouped = FLOW % ("both", "aggregate: {group_by: [Code], sum: [Total]}")
    with pytest.raises(FlowDocumentError, match="aggregate"):
        load_flows(grouped)
    load_flows(FLOW % ("one_way", "aggregate: {group_by: [Code], sum: [Total]}"))
    blind = FLOW.replace(
        "  match: {tiers: [{name: code, fields: [{source: Code, target: Code}]}]}\n", ""
    )
    with pytest.raises(FlowDocumentError, match="create_missing"):
        load_flows(blind % ("one_way", "create_missing: false"))


def test_checks_refuse_a_lookup_on_a_field_that_travels_back():
    text = (FLOW % ("both", "")).replace(
        "- {source: Total, target: Total}",
        "- {source: CityId, target: City, lookup: {connection: crm, entity: City, value: Name,"
        " match: {Id: CityId}}}",
    )
    with pytest.raises(FlowDocumentError, match="to the target only"):
        load_flows(text)


def test_a_search_repeated_for_one_record_is_sent_once():
    entity = Entity(AGREEMENTS)
    runner = LookupRunner(entity.search, today=lambda: TODAY)
    context = {"ItemNumber": "A", "CustomerAccount": "C1", "PriceGroup": "G", "Quantity": 1}

    async def two_records() -> None:
        for _ in range(2):
            scope = runner.base_context(context)  # a record's lookups start here
            assert await runner.value(_price(), scope, None, "SalesPrice") == Decimal(90)
            assert await runner.value(_price(), scope, None, "SalesPrice") == Decimal(90)

    asyncio.run(two_records())
    assert len(entity.searches) == 2  # once per record, not once per lookup
