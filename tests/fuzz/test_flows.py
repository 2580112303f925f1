"""Property-based fuzzing of the flow-document validator.

Any text handed to :func:`~syncloom.engine.flows.load_flows` becomes a flow document or a
:class:`~syncloom.errors.ConfigError` that says where the problem is; never a ``KeyError``,
``TypeError`` or a YAML library error. Inputs: arbitrary text, arbitrary YAML values, and the
packaged Solutions with one part deleted, retyped or replaced.
"""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syncloom.engine.flows import load_flows
from syncloom.errors import ConfigError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOLUTIONS = [
    yaml.safe_load(resources.files("syncloom.solutions").joinpath(name).read_text("utf-8"))
    for name in ("creatio_intacct.yaml", "creatio_d365.yaml")
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["both", "crm_wins", "{hash10}", "{field:", "usmf", "*/5 * * * *", "'x'"]),
)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=12), kids, max_size=4)
    ),
    max_leaves=25,
)


def _load(text: str) -> None:
    try:
        document = load_flows(text)
    except ConfigError as exc:
        refusal = str(exc)
    else:
        assert document.flows is not None
        return
    assert refusal, "a refusal must say what is wrong"


@FUZZ
@given(st.text(max_size=400))
@example("flows: [")
@example("!!python/object/apply:os.system ['true']")
@example("a: &a [*a]")
@example("flows:\n  - name: x\n    source: {connection: crm}\n")
def test_any_text_is_a_document_or_a_config_error(text):
    _load(text)


@FUZZ
@given(YAML_VALUES)
def test_any_yaml_value_is_a_document_or_a_config_error(value):
    _load(yaml.safe_dump(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, kid in node.items():
            found += _paths(kid, (*prefix, key))
    elif isinstance(node, list):
        for index, kid in enumerate(node):
            found += _paths(kid, (*prefix, index))
    return found


@st.composite
def broken_solutions(draw: st.DrawFn) -> str:
    document = copy.deepcopy(draw(st.sampled_from(SOLUTIONS)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(YAML_VALUES)
        if not _paths(document):
            break
    return yaml.safe_dump(document)


@settings(FUZZ, max_examples=25)
@given(broken_solutions())
def test_a_solution_with_parts_deleted_or_retyped_is_a_document_or_a_config_error(text):
    _load(text)


def test_the_packaged_solutions_themselves_load():
    for document in SOLUTIONS:
        assert load_flows(yaml.safe_dump(document)).flows
