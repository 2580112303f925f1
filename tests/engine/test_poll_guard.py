"""One scheduled poll of a flow at a time: a fire that finds its flow being polled skips."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from syncloom.engine.poll_guard import PollGuard
from syncloom.store import make_engine
from tests.store.databases import fresh_pg_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two workers have."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'guard.db'}"
        first, second = make_engine(url), make_engine(url)
        yield first, second
    else:
        with fresh_pg_schema(request.getfixturevalue("pg_url")) as url:
            first, second = make_engine(url), make_engine(url)
            yield first, second
    first.dispose()
    second.dispose()


def test_a_second_poller_of_the_same_flow_is_turned_away_until_the_first_is_done(engines):
    first, second = engines
    with PollGuard(first).hold(1, "accounts") as polling:
        assert polling
        with PollGuard(second).hold(1, "accounts") as again:
            assert not again
        # Other flows and other tenants poll freely meanwhile.
        with PollGuard(second).hold(1, "contacts") as other_flow:
            assert other_flow
        with PollGuard(second).hold(2, "accounts") as other_tenant:
            assert other_tenant
    with PollGuard(second).hold(1, "accounts") as after:
        assert after


def test_a_turned_away_poller_does_not_wait(engines):
    first, second = engines
    answered = threading.Event()
    with PollGuard(first).hold(1, "accounts"):

        def try_second() -> None:
            with PollGuard(second).hold(1, "accounts") as polling:
                assert not polling
            answered.set()

        thread = threading.Thread(target=try_second)
        thread.start()
        assert answered.wait(5)
        thread.join()
