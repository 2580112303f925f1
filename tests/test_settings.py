from __future__ import annotations

from pathlib import Path

import pytest

from syncloom.errors import ConfigError
from syncloom.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("SYNCLOOM_"):
            monkeypatch.delenv(name)


def test_defaults_keep_everything_local():
    settings = load_settings()
    assert settings.database_url == "sqlite:///./.syncloom/syncloom.db"
    assert settings.key_file == Path(".syncloom/master.key")
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8600)
    assert settings.log_format == "console"
    assert settings.master_key is None
    assert settings.retry_cap_s == 3600.0


def test_environment_variables_use_the_prefix(monkeypatch):
    monkeypatch.setenv("SYNCLOOM_DATABASE_URL", "postgresql://sync@db/sync")
    monkeypatch.setenv("SYNCLOOM_WEB_PORT", "9000")
    monkeypatch.setenv("SYNCLOOM_LOG_FORMAT", "json")
    monkeypatch.setenv("SYNCLOOM_LOG_LEVEL", "debug")
    monkeypatch.setenv("SYNCLOOM_EXECUTOR_ID", "worker-2")
    monkeypatch.setenv("SYNCLOOM_RETRY_CAP_S", "30")
    settings = load_settings()
    assert settings.database_url == "postgresql://sync@db/sync"
    assert settings.web_port == 9000
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")
    assert settings.executor_id == "worker-2"
    assert settings.retry_cap_s == 30.0


def test_overrides_win_and_none_means_unset(monkeypatch):
    monkeypatch.setenv("SYNCLOOM_WEB_PORT", "9000")
    assert load_settings(web_port=9100).web_port == 9100
    assert load_settings(web_port=None).web_port == 9000


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SYNCLOOM_DATABASE_URL", "mysql://u:pw@h/db", "SYNCLOOM_DATABASE_URL: unsupported"),
        ("SYNCLOOM_DATABASE_URL", "::nonsense::", "SYNCLOOM_DATABASE_URL: the database URL"),
        ("SYNCLOOM_WEB_PORT", "70000", "SYNCLOOM_WEB_PORT"),
        ("SYNCLOOM_LOG_FORMAT", "xml", "SYNCLOOM_LOG_FORMAT"),
        ("SYNCLOOM_RETRY_CAP_S", "0", "SYNCLOOM_RETRY_CAP_S"),
    ],
)
def test_bad_values_are_one_line_config_errors(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message
    assert "pw@" not in message


def test_the_database_password_is_hidden_in_repr(monkeypatch):
    monkeypatch.setenv("SYNCLOOM_DATABASE_URL", "postgresql://sync:hunter2@db/sync")
    monkeypatch.setenv("SYNCLOOM_MASTER_KEY", "A" * 43 + "=")
    settings = load_settings()
    assert "hunter2" not in repr(settings)
    assert "AAAA" not in repr(settings)
    assert "hunter2" not in str(settings)
