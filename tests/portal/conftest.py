from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.portal.fixtures import World, build_world, seed_database, sign_in


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """One migrated, seeded database file that each test copies (migrating is slow)."""
    path = tmp_path_factory.mktemp("portal-template") / "template.db"
    return path, seed_database(path)


@pytest.fixture
def world(tmp_path: Path, seeded: tuple[Path, dict[str, int]]) -> World:
    return build_world(tmp_path, *seeded)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app(), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> str:
    """Sign the client in as the acme admin; returns the CSRF token."""
    return sign_in(client, "admin@acme.test")
