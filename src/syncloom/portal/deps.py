"""PortalDeps: everything the portal needs, passed in whole to :func:`create_app`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from syncloom.engine.clock import Clock, SystemClock
from syncloom.notify.email import SmtpRelay
from syncloom.portal.control import DetachedEngine, EngineControl
from syncloom.portal.schemas import ConnectionSchemas
from syncloom.portal.signing import CookieSigner, derive_key
from syncloom.portal.throttle import LoginThrottle
from syncloom.vault import Vault

__all__ = ["PortalDeps"]


@dataclass
class PortalDeps:
    """The portal's collaborators.

    Attributes:
        sessions: the database session factory (every query is scoped to a tenant).
        vault: seals connection credentials.
        engine: runs, dry runs, backfills, replays and connection tests.
        clock: where "now" comes from.
        smtp: the relay email alerts go through (``None``: email alerts are refused).
        session_ttl: how long a sign-in lasts.
        secure_cookies: always mark cookies ``Secure`` (they are anyway under TLS).
        login_limit: failed sign-ins allowed per account in 15 minutes; one client address
            gets four times as many, so a shared proxy does not lock everyone out at once.
        schemas: the entities and fields of each Connection, read from its system and kept
            a while (``None``: built over this vault with the real connectors).
    """

    sessions: sessionmaker[Session]
    vault: Vault
    engine: EngineControl = field(default_factory=DetachedEngine)
    clock: Clock = field(default_factory=SystemClock)
    smtp: SmtpRelay | None = None
    session_ttl: timedelta = timedelta(hours=12)
    secure_cookies: bool = False
    login_limit: int = 5
    schemas: ConnectionSchemas | None = None
    signer: CookieSigner = field(init=False, repr=False)
    throttle: LoginThrottle = field(init=False, repr=False)
    address_throttle: LoginThrottle = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.schemas is None:
            self.schemas = ConnectionSchemas(self.vault, clock=self.clock)
        secret = self.vault.keyring.current.secret
        self.signer = CookieSigner(derive_key(secret, "cookies"))
        self.throttle = LoginThrottle(self.clock, limit=self.login_limit)
        self.address_throttle = LoginThrottle(self.clock, limit=4 * self.login_limit)
