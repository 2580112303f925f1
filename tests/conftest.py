from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("SYNCLOOM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not reachable" for the skip message
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL for tests; skips (or fails in CI) when it is unreachable."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("SYNCLOOM_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required here but unreachable: {problem}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable ({problem}); set SYNCLOOM_TEST_PG_URL")
    return PG_URL


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
