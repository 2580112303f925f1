"""A fresh store with one tenant and a vault, for the privacy tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from syncloom.store import make_engine, session_factory, upgrade
from syncloom.store.accounts import Accounts
from syncloom.vault import Keyring, MasterKey, Vault


@dataclass
class Store:
    url: str
    sessions: sessionmaker[Session]
    tenant_id: int
    other_tenant_id: int
    vault: Vault


@pytest.fixture
def store(tmp_path) -> Store:
    url = f"sqlite:///{tmp_path / 'privacy.db'}"
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        accounts = Accounts(session)
        tenant = accounts.create_tenant("acme", "Acme").id
        other = accounts.create_tenant("globex", "Globex").id
    return Store(url, sessions, tenant, other, Vault(Keyring(current=MasterKey.generate())))
