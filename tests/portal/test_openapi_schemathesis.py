"""schemathesis against the portal's OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from syncloom.portal import create_app
from syncloom.store import Accounts, ConfigVersions
from tests.portal.fixtures import World, build_world, seed_database

FLOWS = (
    "flows:\n  - {name: accounts, source: {connection: c, entity: A},"
    " target: {connection: e, entity: B}}\n"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("schemathesis")
    ids = seed_database(folder / "template.db")
    world = build_world(folder, folder / "template.db", ids)
    with world.sessions.begin() as session:
        ConfigVersions(session).save(world.acme, "flows", FLOWS, author="seed")
    return world


def bearer(world: World) -> dict[str, str]:
    with world.sessions.begin() as session:
        admin = world.users["admin"]
        issued = Accounts(session).issue_token(world.acme, "schemathesis", user_id=admin)
        return {"Authorization": f"Bearer {issued.reveal()}"}


def test_no_request_gets_a_5xx(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(world.deps))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            # A fresh token per case: a generated DELETE may revoke an earlier one.
            case.call_and_validate(headers=bearer(world), checks=[not_a_server_error])

        check()
