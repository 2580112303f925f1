"""WatermarkStore.raise_to: a bulk load's seed moves a watermark up, never back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncloom.engine.watermarks import Watermark, WatermarkStore
from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'marks.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        tenant_id = Accounts(session).create_tenant("t", "T").id
    yield engine, WatermarkStore(tenant_id)
    engine.dispose()


def test_the_seed_sets_a_missing_watermark_with_its_seen_versions(db):
    engine, store = db
    with engine.begin() as conn:
        assert store.raise_to(conn, "accounts", "crm", Watermark(NOON, {"k": "v"}))
    with engine.begin() as conn:
        assert store.load(conn, "accounts", "crm") == Watermark(NOON, {"k": "v"})


def test_the_seed_moves_an_older_watermark_up_and_never_a_newer_one_back(db):
    engine, store = db
    with engine.begin() as conn:
        store.save(conn, "accounts", "crm", Watermark(NOON - timedelta(days=1)))
        assert store.raise_to(conn, "accounts", "crm", Watermark(NOON))
        assert not store.raise_to(conn, "accounts", "crm", Watermark(NOON - timedelta(hours=1)))
        assert not store.raise_to(conn, "accounts", "crm", Watermark())
        assert store.load(conn, "accounts", "crm").value_utc == NOON
        assert store.load(conn, "accounts", "erp") == Watermark()  # the other side untouched
