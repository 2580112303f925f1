"""Config documents as the portal sees them: history, diff, rollback, export and import.

Every save is a new immutable version (DESIGN §1.7); a rollback is a new version equal to an
old one. The flow document (``flows``) is validated before it is saved, and every problem is
reported with its path in the document.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime

import yaml
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncloom.engine.flows import FlowDocumentError, load_flows
from syncloom.errors import ConfigError
from syncloom.portal.auth import Principal
from syncloom.portal.problems import FieldProblem, Invalid, Missing
from syncloom.store.audit import AuditLog
from syncloom.store.config_versions import ConfigVersions
from syncloom.store.models import ConfigVersion

__all__ = [
    "FLOWS",
    "DiffLine",
    "DocumentSummary",
    "VersionView",
    "check_document",
    "diff_versions",
    "find_version",
    "list_documents",
    "rollback",
    "save_document",
]

FLOWS = "flows"
NAME_PATTERN = r"^[a-z][a-z0-9_.\-]{0,99}$"


class DocumentSummary(BaseModel):
    """A named document and its newest version."""

    name: str
    latest_version: int
    updated_at: datetime


class VersionView(BaseModel):
    """One version of a document."""

    name: str
    version: int
    author: str
    comment: str
    restored_from: int | None
    created_at: datetime
    document: str | None = None

    @classmethod
    def of(cls, row: ConfigVersion, *, with_document: bool = False) -> VersionView:
        """The view of one row, with or without its text."""
        return cls(
            name=row.name,
            version=row.version,
            author=row.author,
            comment=row.comment,
            restored_from=row.restored_from,
            created_at=row.created_at,
            document=row.document if with_document else None,
        )


class DiffLine(BaseModel):
    """One line of a unified diff and how to show it (add, del, hunk, same)."""

    kind: str
    text: str


def list_documents(session: Session, tenant_id: int) -> list[DocumentSummary]:
    """Every document name of the tenant with its newest version."""
    query = (
        select(
            ConfigVersion.name, func.max(ConfigVersion.version), func.max(ConfigVersion.created_at)
        )
        .where(ConfigVersion.tenant_id == tenant_id)
        .group_by(ConfigVersion.name)
        .order_by(ConfigVersion.name)
    )
    return [
        DocumentSummary(name=name, latest_version=version, updated_at=updated)
        for name, version, updated in session.execute(query)
    ]


def find_version(session: Session, tenant_id: int, name: str, version: int) -> ConfigVersion:
    """One version of the tenant's document.

    Raises:
        Missing: no such document or version in this tenant.
    """
    try:
        return ConfigVersions(session).get(tenant_id, name, version)
    except ConfigError:
        raise Missing(f"{name} has no version {version}") from None


def history(session: Session, tenant_id: int, name: str) -> list[ConfigVersion]:
    """Every version, newest first.

    Raises:
        Missing: the tenant has no document of this name.
    """
    rows = list(ConfigVersions(session).history(tenant_id, name))
    if not rows:
        raise Missing(f"no config document {name!r}")
    return rows[::-1]


def diff_versions(
    session: Session, tenant_id: int, name: str, old: int, new: int
) -> list[DiffLine]:
    """The unified diff from version ``old`` to ``new``."""
    before = find_version(session, tenant_id, name, old).document
    after = find_version(session, tenant_id, name, new).document
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), f"{name} v{old}", f"{name} v{new}", lineterm=""
    )
    return [DiffLine(kind=_kind(line), text=line) for line in lines]


def _kind(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")


def check_document(name: str, text: str) -> None:
    """Refuse a document that would not load.

    Raises:
        Invalid: naming ``document`` or, for the flow document, each path inside it.
    """
    if name == FLOWS:
        try:
            load_flows(text)
        except FlowDocumentError as exc:
            raise Invalid(
                [
                    FieldProblem(f"document.{p.path}" if p.path else "document", p.message)
                    for p in exc.problems
                ]
            ) from None
        return
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid([FieldProblem("document", f"not valid YAML: {exc}")]) from None


def save_document(
    session: Session, me: Principal, name: str, text: str, *, comment: str, action: str
) -> ConfigVersion:
    """Validate and save a new version, and audit it (``action`` e.g. ``config.import``)."""
    if not re.match(NAME_PATTERN, name):
        raise Invalid([FieldProblem("name", "use lower-case letters, digits, '.', '_' or '-'")])
    check_document(name, text)
    latest = ConfigVersions(session).latest(me.tenant_id, name)
    row = ConfigVersions(session).save(me.tenant_id, name, text, author=me.email, comment=comment)
    before = latest.version if latest else None
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action=action,
        target=f"config:{name}",
        delta={"version": [before, row.version]},
        comment=comment,
    )
    return row


def rollback(
    session: Session, me: Principal, name: str, to_version: int, comment: str = ""
) -> ConfigVersion:
    """Save a new version equal to ``to_version``, and audit it."""
    find_version(session, me.tenant_id, name, to_version)
    latest = ConfigVersions(session).latest(me.tenant_id, name)
    row = ConfigVersions(session).rollback(
        me.tenant_id, name, to_version, author=me.email, comment=comment
    )
    AuditLog(session).record(
        me.tenant_id,
        actor=me.email,
        user_id=me.user_id,
        action="config.rollback",
        target=f"config:{name}",
        delta={
            "version": [latest.version if latest else None, row.version],
            "restored_from": [None, to_version],
        },
        comment=row.comment,
    )
    return row
