"""Field checks: payloads measured against the target's field list before any write."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from syncloom.connectors.base import EntitySpec, FieldSpec, FieldType
from syncloom.engine.field_checks import check_payload
from syncloom.errors import FieldValueError, MappingError
from tests.e2e.world import world

ENTITY = EntitySpec(
    name="CUSTOMER",
    key_fields=("CUSTOMERID",),
    modified_field="WHENMODIFIED",
    fields=(
        FieldSpec("CUSTOMERID", required=True),
        FieldSpec("NAME", required=True, max_length=10),
        FieldSpec("STATUS", FieldType.ENUM, allowed_values=("active", "inactive")),
        FieldSpec("CREDITLIMIT", FieldType.DECIMAL),
        FieldSpec("SEATS", FieldType.INTEGER),
        FieldSpec("ONHOLD", FieldType.BOOLEAN),
        FieldSpec("SINCE", FieldType.DATE),
        FieldSpec("OWNER", FieldType.GUID),
        FieldSpec("RECORDNO", FieldType.INTEGER, required=True, read_only=True),
        FieldSpec("UsrTier", required=True, max_length=3, custom=True),
    ),
)


def _fails(payload: dict[str, object], *, for_create: bool = False) -> MappingError:
    with pytest.raises(MappingError) as caught:
        check_payload(ENTITY, payload, for_create=for_create, record_key="crm:Account:1")
    return caught.value


def test_values_of_the_right_shape_pass():
    check_payload(
        ENTITY,
        {
            "NAME": "Acme",
            "STATUS": "active",
            "CREDITLIMIT": Decimal("10.5"),
            "SEATS": "12",
            "ONHOLD": False,
            "SINCE": date(2026, 1, 2),
            "OWNER": "6b0b2c1e-8f5e-4d3c-9a0b-1c2d3e4f5a6b",
            "UsrTier": "A",
            "UNLISTED": {"left": "to the target"},
        },
        for_create=True,
    )


def test_too_long_value_names_the_field_and_the_limit():
    error = _fails({"NAME": "A" * 11})
    assert error.field == "NAME"
    assert "11 characters" in str(error)
    assert "allows 10" in str(error)
    assert error.record_key == "crm:Account:1"


def test_value_outside_the_allowed_choices_is_refused():
    error = _fails({"STATUS": "archived"})
    assert error.field == "STATUS"
    assert "active, inactive" in str(error)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CREDITLIMIT", "ten"),
        ("CREDITLIMIT", True),
        ("SEATS", "1.5"),
        ("ONHOLD", "maybe"),
        ("SINCE", "next tuesday"),
        ("OWNER", "not-a-guid"),
        ("NAME", {"nested": 1}),
    ],
)
def test_value_of_the_wrong_type_is_refused(name, value):
    assert _fails({name: value}).field == name


def test_create_refuses_a_required_field_mapped_empty():
    assert _fails({"UsrTier": "A", "NAME": "  "}, for_create=True).field == "NAME"
    assert _fails({"NAME": "Acme", "UsrTier": None}, for_create=True).field == "UsrTier"
    # Unmapped required fields may get the system's default; keys come from the key template.
    check_payload(ENTITY, {"NAME": "Acme"}, for_create=True)
    check_payload(ENTITY, {"NAME": "Acme", "UsrTier": "A", "RECORDNO": None}, for_create=True)


def test_update_may_clear_a_required_field_it_does_not_create():
    check_payload(ENTITY, {"NAME": ""}, for_create=False)


def test_update_leaves_fields_it_does_not_write_alone():
    check_payload(ENTITY, {"CREDITLIMIT": 5}, for_create=False)


def test_custom_fields_are_checked_like_any_other():
    assert _fails({"UsrTier": "GOLD"}).field == "UsrTier"


# The CUSTOMER entity declares CREDITLIMIT a decimal; a phone number mapped into it is refused
# before Intacct ever sees it.
BAD_FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    fields:
      - {source: Name, target: NAME}
      - {source: Phone, target: CREDITLIMIT}
"""


async def _first_account_with_phone(crm):
    keys = [k async for page in crm.iter_keys("Account") for k in page]
    for key in keys:
        record = await crm.get("Account", key)
        if record is not None and record.values.get("Phone"):
            return record
    raise AssertionError("the seed has no account with a phone")


@pytest.mark.e2e
def test_refused_value_fails_the_job_before_anything_is_written(tmp_path):
    with world(tmp_path, BAD_FLOW) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account_with_phone(w.crm))
        customers = w.run(w.erp.search("CUSTOMER", {"NAME": account.values["Name"]}))
        with pytest.raises(MappingError) as caught:
            w.run(job.run(account.key))
        assert caught.value.field == "CREDITLIMIT"
        assert caught.value.record_key == str(account.key)
        after = w.run(w.erp.search("CUSTOMER", {"NAME": account.values["Name"]}))
        assert [r.key for r in after] == [r.key for r in customers]
        assert job.binder.to_other(str(account.key), job.source.side) is None


def test_refusal_is_typed_and_names_the_field_the_system_and_the_entity():
    with pytest.raises(FieldValueError) as caught:
        check_payload(ENTITY, {"UsrTier": "GOLD"}, for_create=False, system="intacct")
    error = caught.value
    assert (error.field, error.system, error.entity) == ("UsrTier", "intacct", "CUSTOMER")
    assert "intacct CUSTOMER" in str(error)
    assert "custom field" in str(error)
