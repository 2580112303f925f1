from __future__ import annotations

import textwrap
from datetime import time

import pytest

from syncloom.engine.flows import (
    ConflictRule,
    DeleteRule,
    FieldDirection,
    FlowDocumentError,
    Side,
    ValueMap,
    Weekday,
    dump_flows,
    load_flows,
)
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError, MappingError

DOCUMENT = textwrap.dedent(
    """
    version: 1
    value_maps:
      countries:
        values: {US: USA, DE: DEU}
      terms:
        values: {30: N30, 60: N60}
        default: N30
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp_us, entity: Customer}
        direction: both
        filter: "Type == 'Customer' and not Blocked"
        schedule: {cron: "*/5 * * * *", timezone: Europe/Berlin}
        conflict: newest_wins
        fields:
          - {source: Name, target: CustomerName, transform: "upper(trim(value))",
             reverse_transform: "value"}
          - {source: Country, target: CountryCode, value_map: countries, conflict: erp_wins}
          - {source: Terms, target: TermCode, value_map: terms, direction: to_target}
          - {source: Code, target: CustomerId, create_only: true, required: true}
        match:
          scope_by_legal_entity: true
          tiers:
            - {name: stored_id, fields: [{source: ErpId, target: CustomerId, normalise: exact}]}
            - {name: tax_id, fields: [{source: TaxId, target: TaxNumber, normalise: tax_id}]}
        routing:
          field: Company
          routes:
            US: {legal_entity: E100, connection: erp_us}
            DE: {legal_entity: E200, connection: erp_de}
        batch_windows:
          - {start: "22:00", end: "06:00", timezone: America/New_York, days: [mon, tue]}
        flapping: {max_syncs: 4, window_min: 15}
      - name: orders
        source: {connection: crm, entity: Order}
        target: {connection: erp_us, entity: SalesOrder}
        delete: ignore
        depends_on: [{flow: accounts, field: AccountId}]
        fields:
          - {source: Number, target: OrderNo}
    """
)


def test_document_loads_into_typed_flows():
    doc = load_flows(DOCUMENT)
    accounts = doc.flow("accounts")
    assert accounts.source_side is Side.CRM
    assert accounts.target_side is Side.ERP
    assert accounts.delete is DeleteRule.INACTIVATE
    assert accounts.conflict_rule("CountryCode") is ConflictRule.ERP_WINS
    assert accounts.conflict_rule("CustomerName") is ConflictRule.NEWEST_WINS
    assert accounts.field_direction(accounts.fields[0]) is FieldDirection.BOTH
    assert accounts.field_direction(accounts.fields[2]) is FieldDirection.TO_TARGET
    assert accounts.batch_windows[0].start == time(22, 0)
    assert accounts.batch_windows[0].days == (Weekday.MON, Weekday.TUE)
    assert accounts.routing is not None
    assert accounts.routing.route("DE").legal_entity == "E200"
    assert doc.flow("orders").depends_on[0].flow == "accounts"
    assert doc.value_maps["terms"].forward(30) == "N30"


def test_defaults_never_hard_delete():
    doc = load_flows(DOCUMENT)
    assert doc.flow("accounts").delete is DeleteRule.INACTIVATE


def test_dump_round_trips():
    doc = load_flows(DOCUMENT)
    text = dump_flows(doc)
    assert load_flows(text) == doc
    assert "delete: ignore" in text
    assert "inactivate" not in text  # defaults are left out


def broken(replace: str, by: str) -> str:
    assert replace in DOCUMENT
    return DOCUMENT.replace(replace, by, 1)


def problems_of(text: str) -> list[str]:
    with pytest.raises(FlowDocumentError) as info:
        load_flows(text)
    assert isinstance(info.value, ConfigError)
    return [str(p) for p in info.value.problems]


def test_unknown_function_is_reported_with_its_path():
    assert problems_of(broken("upper(trim(value))", "uper(value)")) == [
        "flows[0].fields[0].transform: unknown function 'uper' (column 1)"
    ]


def test_every_problem_is_reported_at_once():
    text = broken("upper(trim(value))", "uper(value)")
    text = text.replace("value_map: countries", "value_map: countrys")
    text = text.replace('cron: "*/5 * * * *"', 'cron: "*/5 * *"')
    text = text.replace("timezone: America/New_York", "timezone: Mars/Olympus")
    text = text.replace("flow: accounts, field", "flow: acounts, field")
    text = text.replace("filter: \"Type == 'Customer' and not Blocked\"", 'filter: "Type =="')
    found = problems_of(text)
    assert found == [
        "flows[0].filter: syntax error: invalid syntax (column 0)",
        "flows[0].schedule.cron: invalid cron '*/5 * *'",
        "flows[0].batch_windows[0].timezone: unknown time zone 'Mars/Olympus'",
        "flows[0].fields[0].transform: unknown function 'uper' (column 1)",
        "flows[0].fields[1].value_map: unknown value map 'countrys'",
        "flows[1].depends_on[0].flow: unknown flow 'acounts'",
    ]


def test_shape_errors_carry_paths():
    text = broken("direction: both", "direction: sideways").replace(
        "delete: ignore", "delete: shred"
    )
    found = problems_of(text)
    assert found == [
        "flows[0].direction: Input should be 'one_way' or 'both'",
        "flows[1].delete: Input should be 'propagate', 'inactivate' or 'ignore'",
    ]


def test_unknown_keys_are_refused():
    assert problems_of(broken("delete: ignore", "delet: ignore")) == [
        "flows[1].delet: Extra inputs are not permitted"
    ]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "entity: Account}\n    target: {connection: erp_us, entity: Customer}",
            "entity: Account, side: erp}\n    target: {connection: erp_us, entity: Customer, "
            "side: erp}",
            "flows[0].target.side: source and target are on the same side",
        ),
        (
            "{source: Number, target: OrderNo}",
            "{source: Number, target: OrderNo, direction: both}",
            "flows[1].fields[0].direction: 'both' in a one_way flow",
        ),
        (
            "create_only: true",
            "create_only: true, update_only: true",
            "flows[0].fields[3]: a field cannot be both create_only and update_only",
        ),
        (
            "{source: Number, target: OrderNo}",
            "{source: Number, target: OrderNo}\n      - {source: N2, target: OrderNo}",
            "flows[1].fields[1].target: target field 'OrderNo' is mapped twice",
        ),
        (
            "depends_on: [{flow: accounts, field: AccountId}]",
            "depends_on: [{flow: orders, field: X}]",
            "flows[1].depends_on[0].flow: a flow cannot depend on itself",
        ),
        (
            "values: {US: USA, DE: DEU}",
            "values: {US: USA, DE: USA}",
            "flows[0].fields[1].value_map: value map 'countries' is not one-to-one; "
            "give it a reverse table",
        ),
        (
            'start: "22:00", end: "06:00"',
            'start: "22:00", end: "22:00"',
            "flows[0].batch_windows[0].end: a window must not start and end at the same time",
        ),
    ],
)
def test_meaning_checks(replace, by, expected):
    assert problems_of(broken(replace, by)) == [expected]


def test_duplicate_flow_names():
    text = broken("name: orders", "name: accounts").replace(
        "depends_on: [{flow: accounts, field: AccountId}]", ""
    )
    assert problems_of(text) == ["flows[1].name: flow 'accounts' is defined twice"]


def test_dependency_cycles_are_found():
    text = DOCUMENT.replace(
        "flapping: {max_syncs: 4, window_min: 15}",
        "flapping: {max_syncs: 4, window_min: 15}\n    depends_on: [{flow: orders, field: X}]",
    )
    found = problems_of(text)
    assert found == [
        "flows[0].depends_on: dependencies form a cycle",
        "flows[1].depends_on: dependencies form a cycle",
    ]


def test_declared_source_fields_make_unknown_names_errors():
    text = broken("direction: both", "direction: both\n    source_fields: [Type]")
    assert problems_of(text) == ["flows[0].filter: unknown name 'Blocked' (column 28)"]


def test_duplicate_yaml_keys_are_refused_not_silently_overwritten():
    found = problems_of(broken("delete: ignore", "delete: ignore\n    delete: propagate"))
    assert len(found) == 1
    assert "duplicate key 'delete'" in found[0]


def test_invalid_yaml_is_one_problem():
    assert problems_of("flows: [")[0].startswith("not valid YAML")


def test_custom_transform_table_is_used_for_checks():
    table = TransformTable.builtins().extended({"uper": str.upper})
    assert load_flows(broken("upper(trim(value))", "uper(value)"), transforms=table)


def test_value_map_translation_both_ways():
    table = ValueMap(values={"US": "USA", "DE": "DEU"}, reverse_default="US")
    assert table.forward("US") == "USA"
    assert table.backward("DEU") == "DE"
    assert table.backward("XXX") == "US"
    assert table.forward(None) is None
    with pytest.raises(MappingError, match="'FR' is not in countries"):
        table.forward("FR", name="countries")
