from __future__ import annotations

import pytest
from sqlalchemy import text

from syncloom.errors import ConfigError
from syncloom.store import describe_url, make_engine, normalize_url


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_urls_get_our_drivers(given, driver):
    assert normalize_url(given).drivername == driver


@pytest.mark.parametrize("bad", ["not a url", "", "mysql://u@h/db", "oracle://x"])
def test_bad_urls_are_config_errors(bad):
    with pytest.raises(ConfigError):
        normalize_url(bad)


def test_messages_never_show_the_password():
    assert "hunter2" not in describe_url("postgresql://u:hunter2@h/db")
    with pytest.raises(ConfigError) as caught:
        normalize_url("mysql://u:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


def test_sqlite_engines_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert conn.scalar(text("PRAGMA foreign_keys")) == 1
            assert conn.scalar(text("PRAGMA busy_timeout")) == 5000
    finally:
        engine.dispose()
    assert (tmp_path / "sub" / "dir" / "x.db").exists()


def test_an_uncreatable_sqlite_directory_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot create the directory"):
        make_engine(f"sqlite:///{blocker / 'x.db'}")
