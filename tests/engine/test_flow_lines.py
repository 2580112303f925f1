"""Document lines in the flow document and the mapper: validation and the nested field map."""

from __future__ import annotations

from decimal import Decimal

import pytest

from syncloom.engine.flows import FlowDocumentError, dump_flows, load_flows
from syncloom.engine.mapper import FieldMapMapper
from syncloom.errors import MappingError

DOCUMENT = """
value_maps:
  units: {values: {ea: EACH, hr: HOUR}}
flows:
  - name: products
    source: {connection: crm, entity: Product}
    target: {connection: erp, entity: ITEM}
  - name: orders
    source: {connection: crm, entity: Order}
    target: {connection: erp, entity: SODOCUMENT}
    fields:
      - {source: Number, target: PONUMBER}
    lines:
      LINES
"""

GOOD_LINES = """entity: OrderProduct
      parent_field: OrderId
      target: lines
      fields:
        - {source: Quantity, target: QUANTITY, required: true}
        - {source: Unit, target: UNIT, value_map: units}
        - {source: Price, target: PRICE, transform: "round(Price * 2, 2)"}
      depends_on:
        - {flow: products, field: ProductId, target: ITEMID}"""


def _load(lines: str):
    return load_flows(DOCUMENT.replace("LINES", lines))


def test_lines_load_round_trip_and_map_each_line():
    document = _load(GOOD_LINES)
    assert load_flows(dump_flows(document)) == document
    flow = document.flow("orders")
    mapper = FieldMapMapper.from_flow(flow, value_maps=document.value_maps)
    line = {"Quantity": Decimal(3), "Unit": "hr", "Price": Decimal("10.125"), "Other": 1}
    assert mapper.map_line(line) == {
        "QUANTITY": Decimal(3),
        "UNIT": "HOUR",
        "PRICE": Decimal("20.25"),
    }
    # The document's own map never carries the lines: they are added once, on create.
    assert mapper.map({"Number": "PO-1"}, for_create=True) == {"PONUMBER": "PO-1"}


def test_a_line_that_cannot_be_mapped_names_its_field():
    document = _load(GOOD_LINES)
    mapper = FieldMapMapper.from_flow(document.flow("orders"), value_maps=document.value_maps)
    with pytest.raises(MappingError) as caught:
        mapper.map_line({"Quantity": None, "Unit": "ea", "Price": Decimal(1)})
    assert caught.value.field == "QUANTITY"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("{entity: OrderProduct, target: lines, fields: [{source: A, target: B}]}", "parent_field"),
        ("{field: items, fields: [{source: A, target: B}]}", "exactly one of target"),
        (
            "{field: items, target: x, target_entity: Lines, fields: [{source: A, target: B}]}",
            "exactly one of target",
        ),
        ("{target_entity: Lines, fields: [{source: A, target: B}]}", "target_parent_field"),
        ("{target: lines, fields: [{source: A, target: B, value_map: nope}]}", "unknown value map"),
        ("{target: lines, fields: [{source: A, target: B, transform: 'uper(A)'}]}", "uper"),
        (
            "{target: lines, fields: [{source: A, target: B}], depends_on: [{flow: x, field: P}]}",
            "unknown flow 'x'",
        ),
    ],
)
def test_bad_lines_are_reported_with_their_path(lines, message):
    with pytest.raises(FlowDocumentError) as caught:
        _load(lines)
    text = str(caught.value)
    assert message in text
    assert "flows[1].lines" in text
