from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from syncloom.connectors.base import Values
from syncloom.engine.flows import FieldDirection, load_flows
from syncloom.engine.mapper import (
    FieldMapMapper,
    Mapper,
    changed_by,
    convert,
    mapping,
    none,
    only_create,
)
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError, MappingError

TABLE = TransformTable.builtins()


def test_direct_pairs_copy_and_convert():
    class AccountMapper(Mapper):
        direct = [("Name", "CustomerName"), (convert("Amount", Decimal), "Total")]

    assert AccountMapper().map({"Name": "Acme", "Amount": "12.50"}) == {
        "CustomerName": "Acme",
        "Total": Decimal("12.50"),
    }


def test_missing_source_maps_to_none_and_none_modifier_drops_falsy():
    class ContactMapper(Mapper):
        direct = [("Email", "EmailAddress"), (none("Phone"), "PhoneNo")]

    assert ContactMapper().map({"Phone": ""}) == {"EmailAddress": None, "PhoneNo": None}


def test_mapping_methods_return_fragments():
    class ContactMapper(Mapper):
        @mapping
        def full_name(self, values: Values) -> dict[str, object]:
            return {"Name": f"{values['First']} {values['Last']}"}

        @mapping
        def nothing(self, values: Values) -> None:
            return None

    assert ContactMapper().map({"First": "Ada", "Last": "Lovelace"}) == {"Name": "Ada Lovelace"}


def test_changed_by_limits_a_mapping_to_changes_of_its_fields():
    class PhoneMapper(Mapper):
        direct = [("Name", "Name")]

        @changed_by("Phone")
        @mapping
        def phone(self, values: Values) -> dict[str, object]:
            return {"PhoneNo": values["Phone"]}

    values = {"Name": "Acme", "Phone": "555"}
    assert PhoneMapper().map(values, changed_fields={"Name"}) == {"Name": "Acme"}
    assert PhoneMapper().map(values, changed_fields={"Phone"}) == {"PhoneNo": "555"}
    assert PhoneMapper().map(values) == {"Name": "Acme", "PhoneNo": "555"}


def test_only_create_runs_on_creates_only():
    class CustomerMapper(Mapper):
        @only_create
        @mapping
        def customer_id(self, values: Values) -> dict[str, object]:
            return {"CustomerId": f"C-{values['Code']}"}

    assert CustomerMapper().map({"Code": "7"}, for_create=True) == {"CustomerId": "C-7"}
    assert CustomerMapper().map({"Code": "7"}, for_create=False) == {}


def test_subclasses_inherit_mappings():
    class Base(Mapper):
        @mapping
        def a(self, values: Values) -> dict[str, object]:
            return {"A": 1}

    class Child(Base):
        @mapping
        def b(self, values: Values) -> dict[str, object]:
            return {"B": 2}

    assert Child().map({}) == {"A": 1, "B": 2}


def test_bad_values_become_mapping_errors_naming_the_field():
    class Broken(Mapper):
        direct = [(convert("Amount", Decimal), "Total")]

        @mapping
        def key(self, values: Values) -> dict[str, object]:
            return {"X": values["Missing"]}

    with pytest.raises(MappingError) as info:
        Broken().map({"Amount": "twelve"})
    assert info.value.field == "Total"

    class Careless(Mapper):
        @mapping
        def key(self, values: Values) -> dict[str, object]:
            return {"X": values["Missing"]}

    with pytest.raises(MappingError, match="key") as info2:
        Careless().map({})
    assert isinstance(info2.value.__cause__, KeyError)


def test_mapping_returning_a_non_dict_is_a_mapping_error():
    class Wrong(Mapper):
        @mapping
        def key(self, values: Values) -> object:
            return ["not", "a", "dict"]

    with pytest.raises(MappingError, match="returned list"):
        Wrong().map({})


def test_code_mapper_refuses_other_direction():
    class One(Mapper):
        direct = [("A", "B")]

    with pytest.raises(ConfigError):
        One().map({}, direction=FieldDirection.TO_SOURCE)


DOCUMENT = textwrap.dedent(
    """
    value_maps:
      countries: {values: {US: USA, DE: DEU}}
      terms: {values: {"30": N30}, default: N30}
    flows:
      - name: accounts
        source: {connection: crm, entity: Account}
        target: {connection: erp, entity: Customer}
        direction: both
        filter: "Type == 'Customer'"
        fields:
          - {source: Name, target: CustomerName, transform: "upper(trim(value))",
             reverse_transform: "value"}
          - {source: Country, target: CountryCode, value_map: countries}
          - {source: Terms, target: TermCode, value_map: terms, direction: to_target}
          - {source: Code, target: CustomerId, create_only: true, required: true,
             direction: to_target}
          - {source: Notes, target: Memo, update_only: true, transform: "truncate(value, 5)"}
          - {source: Credit, target: CreditLimit, transform: "round(value, 2)"}
    """
)


@pytest.fixture
def mapper() -> FieldMapMapper:
    doc = load_flows(DOCUMENT, transforms=TABLE)
    return FieldMapMapper.from_flow(
        doc.flow("accounts"), value_maps=doc.value_maps, transforms=TABLE
    )


RECORD = {
    "Type": "Customer",
    "Name": " acme ",
    "Country": "DE",
    "Terms": 30,
    "Code": "A1",
    "Notes": "long notes",
    "Credit": "10.005",
}


def test_field_map_on_create(mapper):
    assert mapper.map(RECORD, for_create=True) == {
        "CustomerName": "ACME",
        "CountryCode": "DEU",
        "TermCode": "N30",
        "CustomerId": "A1",
        "CreditLimit": Decimal("10.01"),
    }


def test_field_map_on_update_respects_update_only_and_changes(mapper):
    assert mapper.map(RECORD, for_create=False, changed_fields={"Notes", "Country"}) == {
        "CountryCode": "DEU",
        "Memo": "long ",
    }


def test_field_map_reverse_direction_uses_reverse_table(mapper):
    erp = {"CustomerName": "ACME", "CountryCode": "USA", "CreditLimit": Decimal("5.00")}
    mapped = mapper.map(erp, direction=FieldDirection.TO_SOURCE)
    assert mapped["Name"] == "ACME"
    assert mapped["Country"] == "US"
    assert mapped["Credit"] == Decimal("5.00")
    assert "Terms" not in mapped
    assert "Code" not in mapped
    assert mapper.fields(FieldDirection.TO_SOURCE) == ("Name", "Country", "Notes", "Credit")


def test_required_field_without_value_is_a_mapping_error(mapper):
    with pytest.raises(MappingError) as info:
        mapper.map({**RECORD, "Code": ""}, for_create=True)
    assert info.value.field == "CustomerId"


def test_unmapped_value_names_field_and_map(mapper):
    with pytest.raises(MappingError, match="'FR' is not in value map 'countries'") as info:
        mapper.map({**RECORD, "Country": "FR"})
    assert info.value.field == "CountryCode"


def test_bad_number_names_the_field(mapper):
    with pytest.raises(MappingError) as info:
        mapper.map({**RECORD, "Credit": "lots"})
    assert info.value.field == "CreditLimit"


def test_filter(mapper):
    assert mapper.accepts(RECORD)
    assert not mapper.accepts({**RECORD, "Type": "Partner"})


def test_map_both_at_once_is_refused(mapper):
    with pytest.raises(ConfigError):
        mapper.map(RECORD, direction=FieldDirection.BOTH)


def test_skip_empty_leaves_the_written_value_alone_instead_of_clearing_it():
    doc = load_flows(
        textwrap.dedent(
            """
            flows:
              - name: accounts
                source: {connection: crm, entity: Account}
                target: {connection: erp, entity: Customer}
                fields:
                  - {source: Name, target: CustomerName}
                  - {source: TaxGroup, target: SalesTaxGroup, skip_empty: true}
                  - {source: Phone, target: PhoneNumber}
            """
        ),
        transforms=TABLE,
    )
    mapper = FieldMapMapper.from_flow(doc.flow("accounts"), value_maps={}, transforms=TABLE)
    assert mapper.map({"Name": "Acme", "TaxGroup": "", "Phone": ""}) == {
        "CustomerName": "Acme",
        "PhoneNumber": "",
    }
    assert mapper.map({"Name": "Acme", "TaxGroup": None}) == {
        "CustomerName": "Acme",
        "PhoneNumber": None,
    }
    assert mapper.map({"Name": "Acme", "TaxGroup": "EU"})["SalesTaxGroup"] == "EU"
