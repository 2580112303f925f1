"""Shared portal test fixtures: a migrated database, two tenants, a user per role, an engine."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import SystemClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.portal import PortalDeps, create_app
from syncloom.store import Accounts, make_engine, session_factory, upgrade
from syncloom.store.models import RoleName
from syncloom.vault import Keyring, MasterKey, Vault

PASSWORD = "correct horse battery staple"


@dataclass
class RecordingEngine:
    """An EngineControl for tests: records calls; replay really closes the dead letters."""

    sessions: sessionmaker[Session]
    calls: list[tuple[str, Any]] = field(default_factory=list)
    connection_ok: bool = True
    vault: Vault | None = None  # the portal's vault: dead letter payloads are sealed with it

    def run_now(self, tenant_id: int, flow: str) -> str:
        self.calls.append(("run_now", (tenant_id, flow)))
        return f"run-{flow}-1"

    def dry_run(self, tenant_id: int, flow: str) -> dict[str, Any]:
        self.calls.append(("dry_run", (tenant_id, flow)))
        return {
            "flow": flow,
            "counts": {"create": 2, "update": 1, "skip": 4},
            "actions": [
                {"record_key": "creatio:Account:a1", "action": "create", "fields": "Name"},
                {"record_key": "creatio:Account:a2", "action": "update", "fields": "Phone"},
            ],
        }

    def backfill(self, tenant_id: int, flow: str, since: datetime) -> str:
        self.calls.append(("backfill", (tenant_id, flow, since)))
        return f"backfill-{flow}"

    def replay(self, tenant_id: int, dead_letter_ids: Sequence[int]) -> list[int]:
        self.calls.append(("replay", (tenant_id, list(dead_letter_ids))))
        queue = DeadLetterQueue(self.sessions, tenant_id, SystemClock(), self.vault)
        return [queue.mark_replayed(letter_id).id for letter_id in dead_letter_ids]

    def test_connection(self, tenant_id: int, connection_id: int) -> tuple[bool, str]:
        self.calls.append(("test_connection", (tenant_id, connection_id)))
        if self.connection_ok:
            return True, "signed in; 3 entities visible"
        return False, "the system refused the credentials"

    def job(self, tenant_id: int, job: str) -> None:
        return None  # every action here runs where it is asked: there are no jobs to follow


@dataclass
class World:
    """Two tenants (acme with a user per role, globex with one admin) and the app over them."""

    sessions: sessionmaker[Session]
    deps: PortalDeps
    engine: RecordingEngine
    acme: int
    globex: int
    users: dict[str, int]

    def app(self) -> Any:
        return create_app(self.deps)


def seed_database(path: Path) -> dict[str, int]:
    """Migrate a fresh database file and add the tenants and users; returns their ids."""
    url = f"sqlite:///{path}"
    upgrade(url)
    database = make_engine(url)
    ids = _seed(session_factory(database))
    database.dispose()
    return ids


def build_world(tmp_path: Path, template: Path, ids: dict[str, int]) -> World:
    """A world over a copy of the seeded template database."""
    path = tmp_path / "portal.db"
    shutil.copyfile(template, path)
    return _world(session_factory(make_engine(f"sqlite:///{path}")), ids)


def build_world_at(url: str) -> World:
    """A world in a fresh database at ``url`` (migrated and seeded here)."""
    upgrade(url)
    sessions = session_factory(make_engine(url))
    return _world(sessions, _seed(sessions))


def _world(sessions: sessionmaker[Session], ids: dict[str, int]) -> World:
    engine = RecordingEngine(sessions)
    deps = PortalDeps(sessions=sessions, vault=Vault(Keyring(current=MasterKey.generate())))
    deps.engine = engine
    engine.vault = deps.vault
    users = {k: v for k, v in ids.items() if k not in ("acme", "globex")}
    return World(sessions, deps, engine, ids["acme"], ids["globex"], users)


def _seed(sessions: sessionmaker[Session]) -> dict[str, int]:
    users: dict[str, int] = {}
    with sessions.begin() as session:
        accounts = Accounts(session)
        acme = accounts.create_tenant("acme", "Acme").id
        globex = accounts.create_tenant("globex", "Globex").id
        for role in RoleName:
            user = accounts.create_user(f"{role}@acme.test", PASSWORD)
            accounts.grant(acme, user.id, role)
            users[str(role)] = user.id
        other = accounts.create_user("admin@globex.test", PASSWORD)
        accounts.grant(globex, other.id, RoleName.ADMIN)
        users["globex_admin"] = other.id
    return {**users, "acme": acme, "globex": globex}


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
