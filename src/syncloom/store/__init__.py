"""The store: syncloom's own tables, their migrations and small typed repositories.

Start here::

    from syncloom.store import make_engine, session_factory, upgrade
    upgrade(url)
    sessions = session_factory(make_engine(url))
    with sessions.begin() as session:
        ConfigVersions(session).save(tenant_id, "flows", text, author="ana@example.com")
"""

from __future__ import annotations

from syncloom.store.accounts import Accounts, IssuedToken
from syncloom.store.audit import AuditLog
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.db import describe_url, make_engine, normalize_url, session_factory
from syncloom.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Accounts",
    "AuditLog",
    "ConfigVersions",
    "IssuedToken",
    "current_revision",
    "describe_url",
    "head_revision",
    "make_engine",
    "normalize_url",
    "session_factory",
    "upgrade",
]
