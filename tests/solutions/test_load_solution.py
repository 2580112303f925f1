"""load_solution: the packaged documents load, validate and take their options."""

from __future__ import annotations

import pytest

from syncloom.engine.flows import FlowDirection, dump_flows, load_flows
from syncloom.engine.mapper import FieldMapMapper
from syncloom.errors import ConfigError
from syncloom.solutions import SOLUTIONS, load_solution, solution_text


@pytest.mark.parametrize("name", SOLUTIONS)
def test_every_solution_loads_and_every_flow_compiles(name):
    document = load_solution(name)
    assert document.flows
    for flow in document.flows:
        FieldMapMapper.from_flow(flow, value_maps=document.value_maps)
    assert load_flows(dump_flows(document)) == document


def test_intacct_defaults_keep_invoice_item_and_customer_contact():
    names = {f.name for f in load_solution("creatio_intacct").flows}
    assert {"opportunities_invoices", "products_items", "contacts"} <= names
    assert not names & {"opportunities_sales_orders", "products_gl_accounts", "contacts_employees"}


def test_choices_swap_flows_and_drop_dependencies_on_flows_left_out():
    document = load_solution(
        "creatio_intacct", opportunity_target="sales_order", product_target="gl_account"
    )
    names = {f.name for f in document.flows}
    assert "opportunities_sales_orders" in names
    assert "opportunities_invoices" not in names
    assert "products_items" not in names
    lines = document.flow("opportunities_sales_orders").lines
    assert lines is not None
    assert lines.depends_on == ()


def test_directions_and_connections_are_overridden():
    document = load_solution(
        "creatio_d365",
        directions={"accounts_customers": "one_way"},
        connections={"d365": "d365_prod"},
    )
    flow = document.flow("accounts_customers")
    assert flow.direction is FlowDirection.ONE_WAY
    assert flow.target.connection == "d365_prod"
    assert document.flow("invoices_status").source.connection == "d365_prod"


def test_only_keeps_the_named_flows():
    document = load_solution("creatio_d365", only=("accounts_customers", "products"))
    assert [f.name for f in document.flows] == ["accounts_customers", "products"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"opportunity_target": "quote"}, "opportunity_target must be one of"),
        ({"colour": "blue"}, "has no option"),
        ({"directions": {"nope": "both"}}, "unknown flows"),
        ({"directions": {"accounts_customers": "sideways"}}, "direction"),
    ],
)
def test_bad_options_fail_at_load(options, message):
    with pytest.raises(ConfigError, match=message):
        load_solution("creatio_intacct", **options)


def test_unknown_solution_is_refused():
    with pytest.raises(ConfigError, match="no Solution 'creatio_sap'"):
        solution_text("creatio_sap")
