"""Credentials of Connections and the master key's life cycle: first run, checks, rotation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, or_, select
from sqlalchemy.orm import Session

from syncloom.errors import ConfigError, VaultError
from syncloom.settings import Settings
from syncloom.store.models import Connection
from syncloom.vault.cipher import Binding, Vault
from syncloom.vault.keys import Keyring, MasterKey, read_keyring_file, write_keyring_file

__all__ = [
    "CREDENTIALS",
    "RotationReport",
    "check_keyring",
    "credentials_binding",
    "load_keyring",
    "open_credentials",
    "open_vault",
    "rotate_credentials",
    "rotate_master_key",
    "seal_credentials",
    "stored_key_ids",
]

CREDENTIALS = "credentials"


def credentials_binding(connection: Connection) -> Binding:
    """Where a Connection's credentials belong: its tenant, its id, ``"credentials"``."""
    if connection.id is None:
        raise ValueError("flush the connection first: its credentials are bound to its id")
    return Binding(tenant_id=connection.tenant_id, owner_id=connection.id, purpose=CREDENTIALS)


def seal_credentials(vault: Vault, connection: Connection, values: dict[str, str]) -> None:
    """Encrypt ``values`` (user, password, client secret...) into the Connection's row."""
    connection.credentials = vault.encrypt_json(values, credentials_binding(connection))
    connection.credentials_key_id = vault.keyring.current.key_id


def open_credentials(vault: Vault, connection: Connection) -> dict[str, str]:
    """Decrypt a Connection's credentials (``{}`` when it has none).

    Raises:
        VaultError: wrong key, tampered or moved ciphertext.
    """
    if connection.credentials is None:
        return {}
    values = vault.decrypt_json(connection.credentials, credentials_binding(connection))
    if not isinstance(values, dict):
        raise VaultError(f"the {credentials_binding(connection)} are not a mapping")
    return {str(name): str(value) for name, value in values.items()}


def stored_key_ids(engine: Engine) -> set[str]:
    """The ids of every key some stored credential is sealed with (none before migrations)."""
    if not inspect(engine).has_table(Connection.__tablename__):
        return set()
    query = select(Connection.credentials_key_id).distinct()
    with engine.connect() as conn:
        return {key_id for key_id in conn.scalars(query) if key_id is not None}


def check_keyring(keyring: Keyring, engine: Engine) -> None:
    """Make sure the keyring opens every stored credential.

    Raises:
        VaultError: some credentials were sealed with a key the keyring lacks.
    """
    missing = stored_key_ids(engine) - keyring.key_ids
    if missing:
        raise VaultError(
            "the master key does not match the stored credentials (sealed with key "
            f"{', '.join(sorted(missing))}); restore the right key file or SYNCLOOM_MASTER_KEY"
        )


def load_keyring(settings: Settings) -> Keyring | None:
    """The keyring from ``SYNCLOOM_MASTER_KEY`` or the key file; ``None`` if neither exists.

    Raises:
        ConfigError: the key setting is empty or malformed, or the key file is corrupt.
    """
    if settings.master_key is not None:
        return Keyring.parse(settings.master_key.get_secret_value(), source="SYNCLOOM_MASTER_KEY")
    if not settings.key_file.exists():
        return None
    return read_keyring_file(settings.key_file)


def open_vault(
    settings: Settings, engine: Engine, *, on_created: Callable[[Path], None] | None = None
) -> Vault:
    """The vault for this process, checked against the stored credentials.

    On first run (no key configured, no key file, nothing sealed yet) a new key file is
    created with mode 0600 and ``on_created`` is told its path, so the caller can warn the
    user to back it up.

    Raises:
        ConfigError: malformed key or key file, or the key file is gone while credentials
            remain sealed (a new key then would make them unreadable, so none is made).
        VaultError: the key does not match the stored credentials.
    """
    keyring = load_keyring(settings)
    if keyring is None:
        sealed_with = stored_key_ids(engine)
        if sealed_with:
            raise ConfigError(
                f"the master key file {settings.key_file} is missing but credentials are "
                f"sealed with key {', '.join(sorted(sealed_with))}; restore it from backup"
            )
        keyring = Keyring(current=MasterKey.generate())
        write_keyring_file(settings.key_file, keyring)
        if on_created is not None:
            on_created(settings.key_file)
    check_keyring(keyring, engine)
    return Vault(keyring)


def rotate_credentials(session: Session, vault: Vault) -> int:
    """Re-seal every stored credential not yet under the vault's current key.

    Runs in the caller's transaction; safe to repeat after a crash.

    Returns:
        How many credentials were re-sealed.
    """
    current = vault.keyring.current.key_id
    query = select(Connection).where(
        Connection.credentials.is_not(None),
        or_(Connection.credentials_key_id.is_(None), Connection.credentials_key_id != current),
    )
    count = 0
    for connection in session.scalars(query):
        binding = credentials_binding(connection)
        connection.credentials = vault.reseal(connection.credentials or b"", binding)
        connection.credentials_key_id = current
        count += 1
    session.flush()
    return count


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a master-key rotation did."""

    resealed: int
    current_key_id: str
    retired_key_ids: tuple[str, ...]
    keyring_path: Path


def rotate_master_key(
    settings: Settings,
    engine: Engine,
    *,
    new_key_file: Path | None = None,
    drop_retired: bool = False,
) -> RotationReport:
    """Move every stored credential to a new master key without ever losing one.

    The order is what keeps data safe: the new keyring (new key first, every old key kept as
    retired) is written to disk before any row changes, so a crash at any point leaves a
    keyring that opens every row. Only then are the rows re-sealed, in one transaction.
    Retired keys are dropped from the file only with ``drop_retired`` and only once no row
    needs them: no credential, and no sealed history (which stays under the key it was
    written with until retention or erasure removes it).

    Args:
        settings: where the current key comes from.
        engine: the database holding the credentials.
        new_key_file: where to write the new keyring; when it already holds a key, that key
            becomes the new current one. Required when the key comes from the environment.
        drop_retired: forget the old keys once nothing is sealed with them.

    Returns:
        The report.

    Raises:
        ConfigError: no current key, or nowhere to write the new keyring.
        VaultError: the current key does not open the stored credentials.
    """
    old = load_keyring(settings)
    if old is None:
        raise ConfigError(f"no master key to rotate: {settings.key_file} does not exist")
    check_keyring(old, engine)
    destination = _rotation_destination(settings, new_key_file)
    new_key = MasterKey.generate()
    if new_key_file is not None and new_key_file.exists():
        new_key = read_keyring_file(new_key_file).current
    keyring = old.rotated(new_key)
    write_keyring_file(destination, keyring)
    with Session(engine) as session, session.begin():
        resealed = rotate_credentials(session, Vault(keyring))
    if drop_retired and stored_key_ids(engine) | _history_key_ids(engine) <= {new_key.key_id}:
        keyring = keyring.without_retired()
        write_keyring_file(destination, keyring)
    return RotationReport(
        resealed=resealed,
        current_key_id=new_key.key_id,
        retired_key_ids=tuple(k.key_id for k in keyring.retired),
        keyring_path=destination,
    )


def _history_key_ids(engine: Engine) -> set[str]:
    """Keys that sealed history (record-log diffs, dead letters, link snapshots) still needs."""
    # Imported here: the privacy module, which knows the sealed columns, imports the vault.
    from syncloom.engine.privacy import sealed_key_ids

    if not inspect(engine).has_table(Connection.__tablename__):
        return set()
    return sealed_key_ids(engine)


def _rotation_destination(settings: Settings, new_key_file: Path | None) -> Path:
    if new_key_file is not None:
        return new_key_file
    if settings.master_key is not None:
        raise ConfigError(
            "the master key comes from SYNCLOOM_MASTER_KEY; pass --new-key-file to write the "
            "new keyring to a file"
        )
    return settings.key_file
