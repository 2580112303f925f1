from __future__ import annotations

import textwrap
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from syncloom.engine.flows import FieldDirection, load_flows
from syncloom.engine.hashing import same_value
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.transforms import TransformTable
from syncloom.errors import MappingError

TABLE = TransformTable.builtins()

DOCUMENT = textwrap.dedent(
    """
    value_maps:
      countries: {values: {US: USA, DE: DEU, FR: FRA}}
      terms: {values: {"30": N30}, default: N30}
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp, entity: Customer}
        direction: both
        filter: "Type == 'Customer' and Credit > 0"
        fields:
          - {source: Name, target: CustomerName}
          - {source: Country, target: CountryCode, value_map: countries}
          - {source: Amount, target: Total}
          - {source: Email, target: EmailAddress, transform: "lower(trim(value))",
             reverse_transform: "value"}
          - {source: Terms, target: TermCode, value_map: terms, direction: to_target}
          - {source: Code, target: CustomerId, create_only: true, required: true,
             direction: to_target, transform: "concat('C-', upper(value))"}
          - {source: Notes, target: Memo, update_only: true, direction: to_target,
             transform: "truncate(value, 5)"}
          - {source: Credit, target: CreditLimit, transform: "round(value, 2)",
             direction: to_target}
          - {source: Opened, target: OpenedOn, transform: "format_date(value, '%d.%m.%Y')",
             direction: to_target}
          - {source: Qty, target: Quantity, transform: "int(value) * 2 + length(Name)",
             direction: to_target}
    """
)
DOC = load_flows(DOCUMENT, transforms=TABLE)
MAPPER = FieldMapMapper.from_flow(DOC.flow("accounts"), value_maps=DOC.value_maps, transforms=TABLE)
FIELDS = ["Type", "Name", "Country", "Amount", "Email", "Terms", "Code", "Notes", "Credit"]
FIELDS += ["Opened", "Qty"]


def outcome(call):
    """Return the call's result, or the MappingError it raised; anything else propagates."""
    try:
        return call()
    except MappingError as exc:
        return exc


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.text(max_size=12),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
records = st.dictionaries(st.sampled_from(FIELDS), anything)


@settings(max_examples=300, deadline=None)
@given(records, st.booleans(), st.none() | st.sets(st.sampled_from(FIELDS)))
def test_every_source_record_maps_or_raises_mapping_error(values, for_create, changed):
    result = outcome(lambda: MAPPER.map(values, for_create=for_create, changed_fields=changed))
    assert isinstance(result, dict) or (isinstance(result, MappingError) and result.field)
    accepted = outcome(lambda: MAPPER.accepts(values))
    assert isinstance(accepted, bool) or (
        isinstance(accepted, MappingError) and accepted.field == "filter"
    )


@settings(max_examples=200, deadline=None)
@given(records)
def test_every_target_record_maps_back_or_raises_mapping_error(values):
    result = outcome(lambda: MAPPER.map(values, direction=FieldDirection.TO_SOURCE))
    assert isinstance(result, dict) or (isinstance(result, MappingError) and result.field)


crm_records = st.fixed_dictionaries(
    {
        "Name": st.none() | st.text(min_size=1, max_size=20),
        "Country": st.none() | st.sampled_from(["US", "DE", "FR"]),
        "Amount": st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2),
        "Email": st.none() | st.emails().map(str.lower),
    }
)


@settings(max_examples=200, deadline=None)
@given(crm_records)
def test_fields_mapped_both_ways_survive_crm_to_erp_to_crm(crm):
    # Only the two-way fields changed, so one-way fields (needing other inputs) stay out.
    erp = MAPPER.map(crm, for_create=False, changed_fields=crm.keys())
    back = MAPPER.map(erp, changed_fields=erp.keys(), direction=FieldDirection.TO_SOURCE)
    for name, value in crm.items():
        assert same_value(back[name], value), name


def test_round_trip_example_with_decimal():
    crm = {"Name": "Acme", "Country": "DE", "Amount": Decimal("1.50"), "Email": "a@b.io"}
    erp = MAPPER.map(crm, changed_fields=crm.keys())
    assert erp["CountryCode"] == "DEU"
    assert MAPPER.map(erp, direction=FieldDirection.TO_SOURCE) == crm
