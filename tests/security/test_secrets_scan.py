"""A secrets scan of what a faulty, crashing run leaves behind: logs, database, reports, output.

One chaos round (faults on all three simulators, sessions and tokens expired, the worker
SIGKILLed and restarted, the node logging JSON at DEBUG) runs with distinctive credentials.
While it runs, a harvester copies every session id, login ticket, CSRF token and Bearer token
the simulators hand out. Afterwards none of those, and none of the credentials, may appear in
plaintext in the worker's log, the database file (our tables and the runtime's checkpoints),
the chaos reports or this test's own output; no JWT may appear at all; and the Connection rows
hold only ciphertext that needs the master key to open.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncloom.engine.privacy import is_sealed
from syncloom.errors import VaultError
from syncloom.store import make_engine, session_factory
from syncloom.store.models import Connection, RecordLogEntry
from syncloom.vault import Vault, open_credentials, read_keyring_file
from syncloom.vault.keys import Keyring, MasterKey
from tests.chaos.judge import REPORTS, write_reports
from tests.chaos.rounds import run_round
from tests.chaos.world import ChaosWorld, Credentials, chaos_world

pytestmark = pytest.mark.e2e

JWT = re.compile(rb"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")


class SessionHarvester:
    """Copies every live session secret out of the in-process simulators, every 50 ms."""

    def __init__(self, world: ChaosWorld) -> None:
        self.crm = world.sims["crm"].server.app.gate
        self.erp = world.sims["erp"].server.app.gate
        self.found: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.sample()

    def sample(self) -> None:
        for ticket, login in list(self.crm.logins.items()):
            self.found.update({ticket, login.csrf})
        self.found.update(list(self.crm.tokens))
        self.found.update(list(self.erp.sessions))

    def __enter__(self) -> SessionHarvester:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()


def _credentials() -> Credentials:
    return Credentials(
        crm_password=f"crm-pw-{secrets.token_hex(6)}",
        erp_sender_password=f"sender-pw-{secrets.token_hex(6)}",
        erp_user_password=f"user-pw-{secrets.token_hex(6)}",
        fo_client_secret=f"fo-secret-{secrets.token_hex(6)}",
        crm_hook_secret=f"hook-secret-{secrets.token_hex(6)}",
    )


def _artifacts(world: ChaosWorld) -> dict[str, bytes]:
    files = [world.log_file, *sorted(world.tmp_path.glob("chaos.db*")), *REPORTS.glob("*.json")]
    return {str(path): path.read_bytes() for path in files if path.is_file()}


def _leaks(blobs: dict[str, bytes], needles: set[str]) -> list[str]:
    found = []
    for name, blob in blobs.items():
        found += [f"{name}: a secret of {len(n)} chars" for n in needles if n.encode() in blob]
        if JWT.search(blob):
            found.append(f"{name}: a JWT")
    return found


def test_no_secret_reaches_a_log_the_database_a_report_or_the_output(tmp_path, capfd):
    creds = _credentials()
    with chaos_world(tmp_path, credentials=creds) as world, SessionHarvester(world) as harvest:
        report = run_round(world, random.Random(5), 1, new=4, updates=2, kills=1)
        write_reports("secrets-scan", [report])
    assert report.converged, report
    assert len(harvest.found) >= 2, "no session was ever opened: the scan proves nothing"
    blobs = _artifacts(world)
    out, err = capfd.readouterr()
    blobs["test output"] = (out + err).encode()
    assert blobs[str(world.log_file)].count(b"\n") > 10, "the worker logged next to nothing"
    needles = set(creds.all()) | harvest.found
    assert _leaks(blobs, needles) == []
    _assert_history_is_sealed(world)
    # The scanner itself can fail: a planted secret and a planted token are both caught.
    ticket = sorted(harvest.found)[0]
    planted = {"planted": f"login ok {ticket} for eyJhbGciOiJI.eyJhdWQiOiJo.c2lnbmF0dXJl".encode()}
    assert len(_leaks(planted, needles)) == 2


def _assert_history_is_sealed(world: ChaosWorld) -> None:
    """Record values and vendor error text (which echoes them) are ciphertext at rest."""
    sessions = session_factory(make_engine(world.database_url))
    with sessions() as session:
        entries = session.scalars(sa.select(RecordLogEntry)).all()
    assert len(entries) > 4, "the round logged next to nothing"
    plain_diffs = [e.id for e in entries if e.diff and not is_sealed(e.diff)]
    assert plain_diffs == [], "record log diffs stored in plaintext"
    plain_errors = [e.error for e in entries if e.error and not e.error.startswith("sealed:")]
    assert plain_errors == [], "record log error text stored in plaintext"


def test_the_database_holds_only_ciphertext_that_needs_the_master_key(tmp_path):
    creds = _credentials()
    with chaos_world(tmp_path, credentials=creds) as world:
        sessions = session_factory(make_engine(world.database_url))
        with sessions() as session:
            rows = session.scalars(sa.select(Connection)).all()
            assert len(rows) == 3
            vault = Vault(read_keyring_file(world.keyring_file))
            stranger = Vault(Keyring(MasterKey.generate()))
            for row in rows:
                assert row.credentials is not None
                blob = bytes(row.credentials)
                assert not any(secret.encode() in blob for secret in creds.all())
                with pytest.raises(ValueError):
                    json.loads(blob)
                assert open_credentials(vault, row)  # the right key opens it...
                with pytest.raises(VaultError):
                    open_credentials(stranger, row)  # ...and no other does
        raw = Path(world.database_url.removeprefix("sqlite:///")).read_bytes()
        assert not any(secret.encode() in raw for secret in creds.all())
