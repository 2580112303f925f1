from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from syncloom.store import Accounts, make_engine, session_factory, upgrade
from syncloom.store.models import Tenant
from tests.store.databases import fresh_pg_schema, fresh_sqlite

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


def _fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        return fresh_sqlite(tmp_path_factory.mktemp("db"))
    return fresh_pg_schema(request.getfixturevalue("pg_url"))


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """An empty database per test, on each backend."""
    with _fresh(request, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """A migrated database shared by one test module, on each backend."""
    with _fresh(request, tmp_path_factory) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def tenant(sessions: sessionmaker[Session], request: pytest.FixtureRequest) -> Tenant:
    """A tenant of its own for each test, so tests sharing a database never see each other."""
    slug = f"t-{uuid.uuid4().hex[:12]}"
    with sessions.begin() as session:
        return Accounts(session).create_tenant(slug, request.node.name)
