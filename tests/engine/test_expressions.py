from __future__ import annotations

from decimal import Decimal

import pytest

from syncloom.engine.expressions import Expression, ExpressionError, Scope
from syncloom.engine.transforms import TransformTable
from syncloom.errors import ConfigError, MappingError

TABLE = TransformTable.builtins()


def run(text: str, value: object = None, **values: object) -> object:
    return Expression.compile(text, functions=TABLE).evaluate(Scope(values=values, value=value))


def test_transform_of_value():
    assert run("upper(trim(value))", "  acme ") == "ACME"


def test_bare_function_name_is_a_transform_of_value():
    expr = Expression.compile_transform("upper", functions=TABLE)
    assert expr.evaluate(Scope(values={}, value="x")) == "X"
    with pytest.raises(ExpressionError, match="is a function; call it"):
        Expression.compile("upper", functions=TABLE)


def test_fields_conditionals_and_decimal_literals():
    assert run("Amount * 1.1 if Kind == 'B' else Amount", Kind="B", Amount=Decimal(10)) == Decimal(
        "11.0"
    )
    assert run("Amount * 1.1 if Kind == 'B' else Amount", Kind="A", Amount=Decimal(10)) == 10


def test_missing_field_reads_as_none():
    assert run("coalesce(Phone, Mobile, 'n/a')", Mobile="555") == "555"


def test_boolean_logic_membership_and_index():
    assert run("Country in ['US', 'CA'] and not Blocked", Country="US", Blocked=False) is True
    assert run("split(Name, ' ')[1]", Name="Ada Lovelace") == "Lovelace"
    assert run("split(Name, ' ')[5]", Name="Ada") is None


def test_lookup_uses_scope_value_maps():
    expr = Expression.compile("lookup('countries', value)", functions=TABLE, lookups={"countries"})
    scope = Scope(values={}, value="US", lookups={"countries": {"US": "USA"}.get})
    assert expr.evaluate(scope) == "USA"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uper(value)", "unknown function 'uper'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("_secret", "name '_secret' is not allowed"),
        ("().__class__.__bases__", "attribute access is not allowed"),
        ("value.upper()", "only named functions"),
        ("upper(value).__class__", "attribute access is not allowed"),
        ("value is None", "Is is not allowed"),
        ("[x for x in value]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("upper(value=1)", "positional"),
        ("upper(*value)", "positional"),
        ("truncate(value)", "does not take 1 arguments"),
        ("value +", "syntax error"),
        ("lookup('nope', value)", "unknown value map 'nope'"),
        ("lookup(value, value)", "value-map name in quotes"),
        ("x := 1", "syntax error"),
        ("Nope", "unknown name 'Nope'"),
        ("a" * 3000, "longer than"),
        ("b'bytes'", "bytes literal"),
    ],
)
def test_hostile_or_wrong_expressions_are_refused_at_load(text, message):
    with pytest.raises(ExpressionError, match=message) as info:
        Expression.compile(text, functions=TABLE, names={"Name"}, lookups={"countries"})
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(
    "text",
    ["9 ** 9 ** 9", "2 ** 100", "'x' * 10 ** 7", "[1] * 10 ** 6", "10 ** 60 * 10 ** 60 * 10 ** 60"],
)
def test_huge_powers_and_strings_are_refused_at_run_time(text):
    with pytest.raises(MappingError, match="Total"):
        Expression.compile(text, functions=TABLE).evaluate(Scope(values={}), field="Total")


def test_runtime_failures_become_mapping_errors_naming_the_field():
    expr = Expression.compile("value / 0", functions=TABLE)
    with pytest.raises(MappingError) as info:
        expr.evaluate(Scope(values={}, value=Decimal(1)), field="Amount")
    assert info.value.field == "Amount"
    with pytest.raises(MappingError, match="Name"):
        Expression.compile("value + 1", functions=TABLE).evaluate(
            Scope(values={}, value="a"), field="Name"
        )


def test_text_concatenation_is_bounded():
    expr = Expression.compile("value + value", functions=TABLE)
    with pytest.raises(MappingError, match="too long"):
        expr.evaluate(Scope(values={}, value="x" * 60_000))
