"""Settings: where the database is, where the master key comes from, what to listen on.

Every setting reads from the environment with the ``SYNCLOOM_`` prefix (``SYNCLOOM_DATABASE_URL``,
``SYNCLOOM_MASTER_KEY``, ``SYNCLOOM_KEY_FILE``, ``SYNCLOOM_WEB_PORT``...). Bad values become one
:class:`~syncloom.errors.ConfigError` with one clear line, never a validation dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from syncloom.errors import ConfigError
from syncloom.store.db import describe_url, normalize_url

__all__ = ["DEFAULT_DATA_DIR", "Settings", "load_settings"]

DEFAULT_DATA_DIR = Path(".syncloom")


class Settings(BaseSettings):
    """The process-wide settings of syncloom.

    Attributes:
        database_url: SQLite file (default ``./.syncloom/syncloom.db``) or PostgreSQL URL.
        master_key: base64 of a 32-byte key; a comma-separated list keeps retired keys after it.
        key_file: the keyring file used when ``master_key`` is unset; created on first run.
        web_host: address the portal listens on (loopback by default).
        web_port: port the portal listens on.
        log_format: ``console`` for people, ``json`` for log collectors.
        log_level: the lowest level logged.
        executor_id: this process's stable id among workers (DBOS executor id).
        app_version: the version of the durable workflows' shapes; processes of one version
            recover and dequeue each other's work, so it stays the same across releases
            unless a release's notes say to change it.
        retry_cap_s: the longest wait between two attempts of a failed record job (the
            wait doubles per attempt, with jitter, up to this; a vendor's Retry-After can ask
            for more). Lower it where outages are short and freshness matters more.
    """

    model_config = SettingsConfigDict(
        env_prefix="SYNCLOOM_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = f"sqlite:///./{DEFAULT_DATA_DIR / 'syncloom.db'}"
    master_key: SecretStr | None = None
    key_file: Path = DEFAULT_DATA_DIR / "master.key"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8600, ge=0, le=65535)
    log_format: Literal["json", "console"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    executor_id: str = Field(default="local", min_length=1, max_length=100)
    app_version: str = Field(default="1", min_length=1, max_length=100)
    retry_cap_s: float = Field(default=3600.0, ge=1.0, le=86400.0)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            normalize_url(value)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def __repr_args__(self) -> Any:
        # The URL may carry a password; show it hidden like the key.
        for name, value in super().__repr_args__():
            if name == "database_url":
                value = describe_url(str(value))
            yield name, value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment (and ``overrides``, e.g. from CLI options).

    Returns:
        The settings.

    Raises:
        ConfigError: a setting is invalid; the message names the environment variable.
    """
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"SYNCLOOM_{field.upper()}: {message}") from None
