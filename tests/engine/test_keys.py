from __future__ import annotations

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.keys import render_key
from syncloom.errors import MappingError

SRC = RecordKey("crm", "Account", "7f1e0c2a-0000-4000-8000-000000000001")


def test_same_source_always_gives_the_same_key_and_others_differ():
    first = render_key("{uuid}", source=SRC, payload={})
    assert first == render_key("{uuid}", source=SRC, payload={})
    assert first != render_key("{uuid}", source=RecordKey("crm", "Account", "other"), payload={})
    assert len(render_key("SL{hash10}", source=SRC, payload={})) == 12


def test_fields_and_legal_entity_fill_composite_keys():
    key = render_key("{field:dataAreaId}/SL{hash10}", source=SRC, payload={"dataAreaId": "usmf"})
    assert key.startswith("usmf/SL")
    assert render_key(
        "{legal_entity}-{source_id}", source=SRC, payload={}, legal_entity="E100"
    ) == (f"E100-{SRC.id}")


@pytest.mark.parametrize("template", ["{field:Missing}", "{legal_entity}", "{nonsense}"])
def test_unfillable_templates_are_mapping_errors(template):
    with pytest.raises(MappingError):
        render_key(template, source=SRC, payload={"Other": 1})
