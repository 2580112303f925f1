from __future__ import annotations

from datetime import timedelta

from syncloom.store import Accounts
from syncloom.store.models import RoleName, User
from syncloom.store.types import utc_now


def test_passwords_are_stored_as_argon2_hashes_and_checked(sessions, tenant):
    email = f"ana@{tenant.slug}.example"
    with sessions.begin() as session:
        user = Accounts(session).create_user(email, "correct horse battery")

    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    with sessions.begin() as session:
        accounts = Accounts(session)
        assert accounts.authenticate(email.upper(), "correct horse battery") is not None
        assert accounts.authenticate(email, "wrong") is None
        assert accounts.authenticate("nobody@example.com", "correct horse battery") is None


def test_a_membership_gives_a_role_in_one_tenant(sessions, tenant):
    with sessions.begin() as session:
        accounts = Accounts(session)
        user = accounts.create_user(f"bo@{tenant.slug}.example", "pw-bo-123")
        other = accounts.create_tenant(f"{tenant.slug}-2", "two")
        accounts.grant(tenant.id, user.id, RoleName.VIEWER)
        accounts.grant(tenant.id, user.id, RoleName.OPERATOR)

    with sessions() as session:
        accounts = Accounts(session)
        assert accounts.role_of(tenant.id, user.id) == RoleName.OPERATOR
        assert accounts.role_of(other.id, user.id) is None


def test_api_tokens_are_stored_hashed_and_expire(sessions, tenant):
    with sessions.begin() as session:
        accounts = Accounts(session)
        live = accounts.issue_token(tenant.id, "ci")
        stale = accounts.issue_token(tenant.id, "old", expires_at=utc_now() - timedelta(days=1))
    secret = live.reveal()

    assert secret not in repr(live)
    with sessions.begin() as session:
        assert session.get(type(live.row), live.row.id).token_hash != secret
        accounts = Accounts(session)
        found = accounts.check_token(secret)
        assert found is not None
        assert found.tenant_id == tenant.id
        assert found.last_used_at is not None
        assert accounts.check_token(stale.reveal()) is None
        assert accounts.check_token(secret + "x") is None


def test_user_rows_never_hold_the_password(sessions, tenant):
    with sessions.begin() as session:
        Accounts(session).create_user(f"cy@{tenant.slug}.example", "s3cret-pass-word")
    with sessions() as session:
        row = session.query(User).filter_by(email=f"cy@{tenant.slug}.example").one()
    assert "s3cret-pass-word" not in repr(vars(row))
