from __future__ import annotations

from sqlalchemy import inspect, text

from syncloom.store import current_revision, head_revision, make_engine, upgrade
from syncloom.store.migrate import VERSION_TABLE
from syncloom.store.models import Base


def test_upgrade_from_empty_creates_every_table_and_seeds_roles(empty_db_url):
    assert current_revision(empty_db_url) is None

    assert upgrade(empty_db_url) == head_revision()

    engine = make_engine(empty_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert VERSION_TABLE in tables
        with engine.connect() as conn:
            roles = conn.scalars(text("SELECT name FROM roles ORDER BY name")).all()
        assert roles == ["admin", "operator", "viewer"]
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing(empty_db_url):
    upgrade(empty_db_url)

    assert upgrade(empty_db_url) == head_revision()

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM roles")) == 3
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []
