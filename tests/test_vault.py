from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine

from syncloom.engine.clock import SystemClock
from syncloom.errors import ConfigError, VaultError
from syncloom.settings import Settings
from syncloom.store import Accounts, make_engine, session_factory, upgrade
from syncloom.store.models import Connection
from syncloom.vault import (
    Binding,
    Keyring,
    MasterKey,
    Vault,
    check_keyring,
    key_id_of,
    open_credentials,
    open_vault,
    read_keyring_file,
    rotate_master_key,
    seal_credentials,
    write_keyring_file,
)
from tests.store.databases import fresh_pg_schema, fresh_sqlite

HERE = Binding(tenant_id=1, owner_id=7, purpose="credentials")
SECRET = b"password=hunter2-very-secret"


def _vault() -> Vault:
    return Vault(Keyring(current=MasterKey.generate()))


def test_round_trip():
    vault = _vault()
    assert vault.decrypt(vault.encrypt(SECRET, HERE), HERE) == SECRET
    value = {"user": "sync", "password": "p", "n": [1, 2]}
    assert vault.decrypt_json(vault.encrypt_json(value, HERE), HERE) == value


def test_every_encryption_uses_a_fresh_nonce():
    vault = _vault()
    first, second = vault.encrypt(SECRET, HERE), vault.encrypt(SECRET, HERE)
    assert first != second
    assert first[9:21] != second[9:21]
    assert SECRET not in first


@pytest.mark.parametrize("position", [0, 1, 9, 15, 25, -1])
def test_a_flipped_byte_fails_to_decrypt(position):
    vault = _vault()
    blob = bytearray(vault.encrypt(SECRET, HERE))
    blob[position] ^= 0x01
    with pytest.raises(VaultError):
        vault.decrypt(bytes(blob), HERE)


@pytest.mark.parametrize(
    "elsewhere",
    [
        Binding(tenant_id=1, owner_id=8, purpose="credentials"),
        Binding(tenant_id=2, owner_id=7, purpose="credentials"),
        Binding(tenant_id=1, owner_id=7, purpose="payload"),
    ],
)
def test_a_ciphertext_moved_to_another_place_fails_to_decrypt(elsewhere):
    vault = _vault()
    with pytest.raises(VaultError, match="altered or belongs elsewhere"):
        vault.decrypt(vault.encrypt(SECRET, HERE), elsewhere)


def test_the_wrong_key_fails_to_decrypt():
    blob = _vault().encrypt(SECRET, HERE)
    with pytest.raises(VaultError, match="does not hold"):
        _vault().decrypt(blob, HERE)


def test_garbage_is_not_a_ciphertext():
    with pytest.raises(VaultError, match="not a syncloom ciphertext"):
        _vault().decrypt(b"plain old bytes", HERE)


def test_retired_keys_still_open_old_ciphertexts():
    old = MasterKey.generate()
    blob = Vault(Keyring(current=old)).encrypt(SECRET, HERE)
    rotated = Vault(Keyring(current=old).rotated(MasterKey.generate()))

    assert rotated.decrypt(blob, HERE) == SECRET
    resealed = rotated.reseal(blob, HERE)
    assert key_id_of(resealed) == rotated.keyring.current.key_id != old.key_id


def test_secrets_never_appear_in_repr_or_str():
    key = MasterKey.generate()
    vault = Vault(Keyring(current=key, retired=(MasterKey.generate(),)))
    settings = Settings(master_key=key.to_base64())
    shown = " ".join(
        [repr(key), str(key), repr(vault), str(vault), repr(vault.keyring), repr(settings)]
    )
    assert key.to_base64() not in shown
    assert repr(key.secret) not in shown
    assert key.key_id in shown
    with pytest.raises(VaultError) as caught:
        _vault().decrypt(vault.encrypt(SECRET, HERE), HERE)
    assert "hunter2" not in str(caught.value)


def test_keyrings_parse_files_and_lists():
    one, two = MasterKey.generate(), MasterKey.generate()
    text = f"# comment\n{one.to_base64()}  # current\n\n{two.to_base64()}\n"
    assert Keyring.parse(text, source="f").key_ids == {one.key_id, two.key_id}
    listed = Keyring.parse(f"{two.to_base64()},{one.to_base64()}", source="env")
    assert listed.current == two
    assert listed.retired == (one,)


@pytest.mark.parametrize(
    "text", ["", "# only a comment\n", "not-base64!!", "c2hvcnQ=", "AAAA" * 12]
)
def test_a_corrupt_keyring_is_a_config_error(text):
    with pytest.raises(ConfigError, match="master key"):
        Keyring.parse(text, source="the master key file k")


def test_key_files_are_private_and_round_trip(tmp_path):
    keyring = Keyring(current=MasterKey.generate()).rotated(MasterKey.generate())
    path = tmp_path / "keys" / "master.key"

    write_keyring_file(path, keyring)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_keyring_file(path) == keyring
    assert "Back this file up" in path.read_text()


# --- With a database: first run, checks, rotation ----------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        fresh = fresh_sqlite(tmp_path)
    else:
        fresh = fresh_pg_schema(request.getfixturevalue("pg_url"))
    with fresh as url:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _seal_some(engine: Engine, vault: Vault, count: int = 3) -> dict[int, dict[str, str]]:
    sessions = session_factory(engine)
    sealed = {}
    with sessions.begin() as session:
        accounts = Accounts(session)
        tenants = [accounts.create_tenant("a", "A"), accounts.create_tenant("b", "B")]
        for n in range(count):
            connection = Connection(
                tenant_id=tenants[n % 2].id, name=f"c{n}", system="intacct", base_url="https://x"
            )
            session.add(connection)
            session.flush()
            values = {"user": f"u{n}", "password": f"secret-{n}"}
            seal_credentials(vault, connection, values)
            sealed[connection.id] = values
    return sealed


def _opened(engine: Engine, vault: Vault) -> dict[int, dict[str, str]]:
    with session_factory(engine)() as session:
        rows = session.query(Connection).all()
        return {row.id: open_credentials(vault, row) for row in rows}


def test_a_row_copied_onto_another_connection_fails(engine):
    vault = _vault()
    ids = list(_seal_some(engine, vault, 2))
    with session_factory(engine).begin() as session:
        first, second = (session.get(Connection, i) for i in ids)
        second.credentials = first.credentials
    with pytest.raises(VaultError):
        _opened(engine, vault)


def test_first_run_creates_a_private_key_file_and_says_so(engine, tmp_path):
    settings = Settings(key_file=tmp_path / "new" / "master.key")
    told: list[Path] = []

    vault = open_vault(settings, engine, on_created=told.append)

    assert told == [settings.key_file]
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert read_keyring_file(settings.key_file) == vault.keyring
    assert open_vault(settings, engine).keyring == vault.keyring


def test_a_lost_key_file_is_not_silently_replaced(engine, tmp_path):
    settings = Settings(key_file=tmp_path / "master.key")
    _seal_some(engine, open_vault(settings, engine))
    settings.key_file.unlink()

    with pytest.raises(ConfigError, match="restore it from backup"):
        open_vault(settings, engine)
    assert not settings.key_file.exists()


def test_a_wrong_master_key_is_refused_at_start(engine):
    _seal_some(engine, _vault())
    with pytest.raises(VaultError, match="does not match"):
        open_vault(Settings(master_key=MasterKey.generate().to_base64()), engine)


def test_rotation_reseals_everything_so_the_old_key_is_no_longer_needed(engine, tmp_path):
    settings = Settings(key_file=tmp_path / "master.key")
    old = open_vault(settings, engine)
    sealed = _seal_some(engine, old, 5)

    report = rotate_master_key(settings, engine)

    assert report.resealed == 5
    assert report.retired_key_ids == (old.keyring.current.key_id,)
    new_ring = read_keyring_file(settings.key_file)
    assert new_ring.current.key_id == report.current_key_id
    only_new = Vault(new_ring.without_retired())
    assert _opened(engine, only_new) == sealed
    with pytest.raises(VaultError):
        check_keyring(old.keyring, engine)


def test_rotation_can_drop_retired_keys_once_unused(engine, tmp_path):
    settings = Settings(key_file=tmp_path / "master.key")
    sealed = _seal_some(engine, open_vault(settings, engine))

    report = rotate_master_key(settings, engine, drop_retired=True)

    ring = read_keyring_file(settings.key_file)
    assert report.retired_key_ids == ()
    assert ring.retired == ()
    assert _opened(engine, Vault(ring)) == sealed


def test_rotation_keeps_a_retired_key_that_sealed_history_still_needs(engine, tmp_path):
    from syncloom.engine.dead_letters import DeadLetterQueue
    from syncloom.engine.record_log import RecordLog
    from syncloom.store.models import Tenant

    settings = Settings(key_file=tmp_path / "master.key")
    old = open_vault(settings, engine)
    _seal_some(engine, old, 2)
    sessions = session_factory(engine)
    with sessions() as session:
        tenant = session.query(Tenant).first().id
    with sessions.begin() as session:
        RecordLog(sessions, tenant, old).add(
            session, flow="f", record_key="k", action="failed", diff={"a": 1}, error="refused"
        )
    DeadLetterQueue(sessions, tenant, SystemClock(), old).park(
        flow="f", record_key="k", payload={"k": 1}, error_class="E", error_text="no", attempts=1
    )

    report = rotate_master_key(settings, engine, drop_retired=True)

    # Credentials moved to the new key, but the history sealed under the old one still needs
    # it: dropping it would leave the record log and the dead letter unreadable.
    assert report.retired_key_ids == (old.keyring.current.key_id,)
    vault = Vault(read_keyring_file(settings.key_file))
    (entry,) = RecordLog(sessions, tenant, vault).history("f", "k")
    assert (entry.diff, entry.error) == ({"a": 1}, "refused")
    (letter,) = DeadLetterQueue(sessions, tenant, SystemClock(), vault).list()
    assert (letter.payload, letter.error_text) == ({"k": 1}, "no")


def test_rotation_from_an_environment_key_writes_a_new_keyring_file(engine, tmp_path):
    key = MasterKey.generate()
    settings = Settings(master_key=key.to_base64())
    sealed = _seal_some(engine, Vault(Keyring(current=key)))
    with pytest.raises(ConfigError, match="--new-key-file"):
        rotate_master_key(settings, engine)

    given = MasterKey.generate()
    write_keyring_file(tmp_path / "next.key", Keyring(current=given))
    report = rotate_master_key(settings, engine, new_key_file=tmp_path / "next.key")

    ring = read_keyring_file(tmp_path / "next.key")
    assert report.current_key_id == given.key_id == ring.current.key_id
    assert ring.retired == (key,)
    assert _opened(engine, Vault(Keyring(current=given))) == sealed
