from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from syncloom.errors import ConfigError
from syncloom.store import ConfigVersions


def test_each_save_is_a_new_numbered_version(sessions, tenant):
    with sessions.begin() as session:
        versions = ConfigVersions(session)
        first = versions.save(tenant.id, "flows", "a: 1\n", author="ana", comment="first")
        second = versions.save(tenant.id, "flows", "a: 2\n", author="bo", comment="raise a")
        other = versions.save(tenant.id, "schedules", "x\n", author="ana")

    assert (first.version, second.version, other.version) == (1, 2, 1)
    with sessions() as session:
        latest = ConfigVersions(session).latest(tenant.id, "flows")
        assert latest is not None
        assert (latest.version, latest.document, latest.author) == (2, "a: 2\n", "bo")
        assert latest.created_at.tzinfo is not None


def test_rollback_is_a_new_version_equal_to_an_old_one(sessions, tenant):
    with sessions.begin() as session:
        versions = ConfigVersions(session)
        versions.save(tenant.id, "flows", "good\n", author="ana")
        versions.save(tenant.id, "flows", "broken\n", author="bo")
        restored = versions.rollback(tenant.id, "flows", 1, author="ana")

    assert (restored.version, restored.document, restored.restored_from) == (3, "good\n", 1)
    with sessions() as session:
        history = ConfigVersions(session).history(tenant.id, "flows")
    assert [v.document for v in history] == ["good\n", "broken\n", "good\n"]
    assert history[2].comment == "rollback to version 1"


def test_rollback_to_a_missing_version_is_a_config_error(sessions, tenant):
    with pytest.raises(ConfigError, match="no version 7"), sessions.begin() as session:
        ConfigVersions(session).rollback(tenant.id, "flows", 7, author="ana")


def test_the_orm_refuses_to_change_a_saved_version(sessions, tenant):
    with sessions.begin() as session:
        ConfigVersions(session).save(tenant.id, "flows", "v1\n", author="ana")

    with sessions() as session:
        saved = ConfigVersions(session).get(tenant.id, "flows", 1)
        saved.document = "edited in place\n"
        with pytest.raises(ConfigError, match="immutable"):
            session.commit()

    with sessions() as session:
        session.delete(ConfigVersions(session).get(tenant.id, "flows", 1))
        with pytest.raises(ConfigError, match="immutable"):
            session.commit()

    with sessions() as session:
        assert ConfigVersions(session).get(tenant.id, "flows", 1).document == "v1\n"


@pytest.mark.parametrize(
    "statement", ["UPDATE config_versions SET document = 'x'", "DELETE FROM config_versions"]
)
def test_the_database_refuses_to_change_a_saved_version(sessions, tenant, statement):
    with sessions.begin() as session:
        ConfigVersions(session).save(tenant.id, "flows", "v1\n", author="ana")

    with pytest.raises(DBAPIError, match="immutable"), sessions.begin() as session:
        session.execute(text(f"{statement} WHERE tenant_id = :t"), {"t": tenant.id})

    with sessions() as session:
        assert ConfigVersions(session).get(tenant.id, "flows", 1).document == "v1\n"


def test_versions_are_scoped_by_tenant(sessions, tenant):
    from syncloom.store import Accounts

    with sessions.begin() as session:
        other = Accounts(session).create_tenant(f"{tenant.slug}-other", "other")
        ConfigVersions(session).save(other.id, "flows", "theirs\n", author="zed")

    with sessions() as session:
        assert ConfigVersions(session).latest(tenant.id, "flows") is None
        with pytest.raises(ConfigError):
            ConfigVersions(session).get(tenant.id, "flows", 1)
