"""ConfigVersions: the history of a tenant's configuration documents.

Every save is a new immutable version with author and comment; a rollback is a new version
equal to an old one, so history only ever grows (DESIGN §1.7).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syncloom.errors import ConfigError
from syncloom.store.models import ConfigVersion

__all__ = ["ConfigVersions"]


class ConfigVersions:
    """Saves, reads and rolls back versions of named documents, within the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self, tenant_id: int, name: str, document: str, *, author: str, comment: str = ""
    ) -> ConfigVersion:
        """Store ``document`` as the next version of ``name``.

        Args:
            tenant_id: the owning tenant.
            name: the document's name (e.g. ``"flows"``).
            document: the full text (YAML).
            author: who saved it.
            comment: why.

        Returns:
            The new version, flushed (its ``version`` is set).
        """
        return self._append(tenant_id, name, document, author=author, comment=comment)

    def latest(self, tenant_id: int, name: str) -> ConfigVersion | None:
        """The newest version of ``name``, or ``None`` if it was never saved."""
        query = (
            ConfigVersion.scoped(tenant_id)
            .where(ConfigVersion.name == name)
            .order_by(ConfigVersion.version.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def get(self, tenant_id: int, name: str, version: int) -> ConfigVersion:
        """One version of ``name``.

        Raises:
            ConfigError: no such version.
        """
        query = ConfigVersion.scoped(tenant_id).where(
            ConfigVersion.name == name, ConfigVersion.version == version
        )
        found = self.session.scalars(query).first()
        if found is None:
            raise ConfigError(f"{name} has no version {version}")
        return found

    def history(self, tenant_id: int, name: str) -> Sequence[ConfigVersion]:
        """Every version of ``name``, oldest first."""
        query = (
            ConfigVersion.scoped(tenant_id)
            .where(ConfigVersion.name == name)
            .order_by(ConfigVersion.version)
        )
        return self.session.scalars(query).all()

    def rollback(
        self, tenant_id: int, name: str, to_version: int, *, author: str, comment: str = ""
    ) -> ConfigVersion:
        """Save a new version whose document equals version ``to_version``.

        Raises:
            ConfigError: ``to_version`` does not exist.
        """
        old = self.get(tenant_id, name, to_version)
        return self._append(
            tenant_id,
            name,
            old.document,
            author=author,
            comment=comment or f"rollback to version {to_version}",
            restored_from=to_version,
        )

    def _append(
        self,
        tenant_id: int,
        name: str,
        document: str,
        *,
        author: str,
        comment: str,
        restored_from: int | None = None,
    ) -> ConfigVersion:
        newest = self.session.scalar(
            select(func.max(ConfigVersion.version)).where(
                ConfigVersion.tenant_id == tenant_id, ConfigVersion.name == name
            )
        )
        # Two concurrent saves pick the same number; the unique constraint lets one of them win.
        row = ConfigVersion(
            tenant_id=tenant_id,
            name=name,
            version=(newest or 0) + 1,
            document=document,
            author=author,
            comment=comment,
            restored_from=restored_from,
        )
        self.session.add(row)
        self.session.flush()
        return row
