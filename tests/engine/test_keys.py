from __future__ import annotations

import base64
import hashlib
import uuid

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


def test_keys_stay_those_of_the_full_digest_and_the_fixed_namespace():
    # Keys already reserved must keep rendering the same: compare with the long derivations.
    namespace = uuid.UUID("5d1b7a5e-3c2a-4f7e-9a51-0c6f2e9b1d10")
    for n in range(200):
        source = RecordKey("crm", "Account", f"{n:08d}-{n * 7919}")
        digest = hashlib.sha256(str(source).encode()).digest()
        full = base64.b32encode(digest).decode()[:10]
        assert render_key("SL{hash10}", source=source, payload={}) == f"SL{full}"
        assert render_key("{uuid}", source=source, payload={}) == str(
            uuid.uuid5(namespace, str(source))
        )
