from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from syncloom import __version__
from syncloom.cli import app
from syncloom.store import (
    Accounts,
    current_revision,
    head_revision,
    make_engine,
    session_factory,
    upgrade,
)
from syncloom.store.models import Connection
from syncloom.vault import (
    Keyring,
    MasterKey,
    Vault,
    open_credentials,
    read_keyring_file,
    seal_credentials,
    write_keyring_file,
)

ENTRY = [sys.executable, "-c", "from syncloom.cli import main; main()"]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A clean directory and environment, as a first-time user has."""
    for name in list(os.environ):
        if name.startswith("SYNCLOOM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _syncloom(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLOOM_")}
    return subprocess.run(
        [*ENTRY, *args],
        cwd=workdir,
        env={**clean, "COLUMNS": "200", "SYNCLOOM_WEB_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess[str], pattern: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in result.stderr


def _seal_one(url: str, key: MasterKey) -> int:
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            tenant = Accounts(session).create_tenant("acme", "Acme")
            connection = Connection(
                tenant_id=tenant.id, name="erp", system="intacct", base_url="https://x"
            )
            session.add(connection)
            session.flush()
            seal_credentials(Vault(Keyring(current=key)), connection, {"password": "pw-1"})
            return connection.id
    finally:
        engine.dispose()


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"syncloom {__version__}"


@pytest.mark.parametrize("args", [["--bogus"], ["db", "upgrade", "--nope"], ["run", "-x"]])
def test_unknown_options_are_one_line_and_exit_2(workdir, args):
    result = _syncloom(workdir, *args)
    _one_error_line(result, "No such option")
    assert result.stdout == ""
    assert list(workdir.iterdir()) == []


def test_db_upgrade_brings_the_default_database_to_head(workdir):
    result = CliRunner().invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert head_revision() in result.output
    assert current_revision("sqlite:///.syncloom/syncloom.db") == head_revision()


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("mysql://u:hunter2@h/db", "SYNCLOOM_DATABASE_URL: unsupported database 'mysql'"),
        ("::nonsense::", "SYNCLOOM_DATABASE_URL: the database URL cannot be parsed"),
        ("postgresql://u:hunter2@127.0.0.1:1/db", "cannot use the database at .*:1/db"),
    ],
)
@pytest.mark.parametrize("command", [["db", "upgrade"], ["run", "--once"]])
def test_a_bad_database_url_is_one_line_and_writes_nothing(workdir, url, pattern, command):
    result = _syncloom(workdir, *command, SYNCLOOM_DATABASE_URL=url)

    _one_error_line(result, pattern)
    assert "hunter2" not in result.stderr
    assert list(workdir.iterdir()) == []


def test_first_run_creates_the_database_and_a_private_key_and_says_to_back_it_up(workdir):
    result = _syncloom(workdir, "run", "--once")

    assert result.returncode == 0, result.stderr
    key_file = workdir / ".syncloom" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "Back it up" in result.stderr
    assert str(key_file.relative_to(workdir)) in result.stderr
    assert current_revision(f"sqlite:///{workdir / '.syncloom' / 'syncloom.db'}") == head_revision()
    assert "syncloom is ready" in result.stderr
    assert "node: started" in result.stderr

    again = _syncloom(workdir, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert "Back it up" not in again.stderr
    assert read_keyring_file(key_file).current.key_id in key_file.read_text()


@pytest.mark.parametrize(
    ("content", "pattern"),
    [("garbage\n", "master key file .*must be base64"), ("# nothing\n", "holds no master key")],
)
def test_a_corrupt_key_file_is_one_line_and_writes_nothing(workdir, content, pattern):
    (workdir / "bad.key").write_text(content)

    result = _syncloom(workdir, "run", "--once", SYNCLOOM_KEY_FILE="bad.key")

    _one_error_line(result, pattern)
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.key"]


@pytest.mark.parametrize("value", ["", "not-a-key", "c2hvcnQ="])
def test_a_malformed_master_key_is_one_line_and_writes_nothing(workdir, value):
    result = _syncloom(workdir, "run", "--once", SYNCLOOM_MASTER_KEY=value)

    _one_error_line(result, "SYNCLOOM_MASTER_KEY")
    assert list(workdir.iterdir()) == []


def test_a_wrong_master_key_is_refused_before_anything_is_written(workdir):
    url = f"sqlite:///{workdir / 'sync.db'}"
    upgrade(url)
    _seal_one(url, MasterKey.generate())
    before = (workdir / "sync.db").read_bytes()

    result = _syncloom(
        workdir,
        "run",
        "--once",
        SYNCLOOM_DATABASE_URL=url,
        SYNCLOOM_MASTER_KEY=MasterKey.generate().to_base64(),
    )

    _one_error_line(result, "master key does not match the stored credentials")
    assert not (workdir / ".syncloom").exists()
    assert (workdir / "sync.db").read_bytes() == before


def test_a_missing_key_file_is_not_replaced_while_credentials_need_it(workdir):
    url = f"sqlite:///{workdir / 'sync.db'}"
    upgrade(url)
    _seal_one(url, MasterKey.generate())

    result = _syncloom(
        workdir, "run", "--once", SYNCLOOM_DATABASE_URL=url, SYNCLOOM_KEY_FILE="gone.key"
    )

    _one_error_line(result, "gone.key is missing but credentials are sealed")
    assert not (workdir / "gone.key").exists()


def test_vault_rotate_reseals_credentials_under_a_new_key(workdir, monkeypatch):
    url = f"sqlite:///{workdir / 'sync.db'}"
    old = MasterKey.generate()
    write_keyring_file(workdir / "master.key", Keyring(current=old))
    upgrade(url)
    connection_id = _seal_one(url, old)
    monkeypatch.setenv("SYNCLOOM_DATABASE_URL", url)
    monkeypatch.setenv("SYNCLOOM_KEY_FILE", str(workdir / "master.key"))

    result = CliRunner().invoke(app, ["vault", "rotate", "--drop-retired"])

    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 credentials" in result.output
    ring = read_keyring_file(workdir / "master.key")
    assert ring.current != old
    assert ring.retired == ()
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            row = session.get(Connection, connection_id)
            assert open_credentials(Vault(ring), row) == {"password": "pw-1"}
    finally:
        engine.dispose()


def test_vault_rotate_without_a_key_is_one_line(workdir):
    result = _syncloom(workdir, "vault", "rotate")
    _one_error_line(result, "no master key to rotate")
    assert list(workdir.iterdir()) == []


def test_demo_once_loads_both_solutions_and_says_what_synced(workdir):
    result = _syncloom(
        workdir, "demo", "--once", "--base-port", "0", "--web-port", "0", "--records", "5"
    )

    assert result.returncode == 0, result.stderr
    urls = set(re.findall(r"│ (https?://127\.0\.0\.1:\d+)\s", result.stdout))
    assert len(urls) == 4
    assert {"creatio-intacct", "intacct", "creatio-d365", "d365"} <= set(result.stdout.split())
    assert "what synced" in result.stdout
    assert "accounts_customers" in result.stdout
    assert "sign in as admin@demo.local" in result.stdout


def test_demo_serves_until_interrupted(workdir):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLOOM_")}
    process = subprocess.Popen(
        [*ENTRY, "demo", "--base-port", "0", "--web-port", "0", "--records", "5"],
        cwd=workdir,
        env={**clean, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        urls: list[str] = []
        deadline = time.monotonic() + 60
        while len(urls) < 4 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            urls += re.findall(r"│ (https?://127\.0\.0\.1:\d+)\s", line)
        assert len(urls) == 4, process.stderr.read() if process.poll() is not None else urls
        for url in urls:
            response = httpx.get(f"{url}/_sim/stats", verify=False, timeout=10)
            assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) in (0, 130)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
