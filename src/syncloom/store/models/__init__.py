"""The tables of syncloom (DESIGN §5), as SQLAlchemy 2 typed declarative models."""

from __future__ import annotations

from syncloom.store.base import Base
from syncloom.store.models.accounts import (
    ApiToken,
    AuditEntry,
    Membership,
    Role,
    RoleName,
    Tenant,
    User,
)
from syncloom.store.models.config import ConfigVersion, Connection, Environment
from syncloom.store.models.history import (
    DeadLetter,
    DeadLetterStatus,
    RecordLogEntry,
    ReviewItem,
    ReviewStatus,
    Run,
    RunKind,
    RunStatus,
)
from syncloom.store.models.ops import AlertRule, AlertState, GovernorBucket
from syncloom.store.models.sync import (
    IntakeEvent,
    IntakeStatus,
    Link,
    LinkState,
    Watermark,
    WriteLedgerEntry,
)

__all__ = [
    "AlertRule",
    "AlertState",
    "ApiToken",
    "AuditEntry",
    "Base",
    "ConfigVersion",
    "Connection",
    "DeadLetter",
    "DeadLetterStatus",
    "Environment",
    "GovernorBucket",
    "IntakeEvent",
    "IntakeStatus",
    "Link",
    "LinkState",
    "Membership",
    "RecordLogEntry",
    "ReviewItem",
    "ReviewStatus",
    "Role",
    "RoleName",
    "Run",
    "RunKind",
    "RunStatus",
    "Tenant",
    "User",
    "Watermark",
    "WriteLedgerEntry",
]
