from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from syncloom.store import Accounts
from syncloom.store.base import TenantOwned
from syncloom.store.models import Base, Link, LinkState, Run, RunKind, Watermark

GLOBAL_TABLES = {"tenants", "users", "roles"}


def _link(tenant_id: int, **values) -> Link:
    return Link(tenant_id=tenant_id, flow="accounts", **values)


def test_a_crm_record_links_to_one_erp_record_per_flow(sessions, tenant):
    with sessions.begin() as session:
        session.add(_link(tenant.id, crm_key="creatio:Account:1", erp_key="intacct:CUSTOMER:C1"))

    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(_link(tenant.id, crm_key="creatio:Account:1", erp_key="intacct:CUSTOMER:C2"))


def test_an_erp_record_links_to_one_crm_record_per_flow(sessions, tenant):
    with sessions.begin() as session:
        session.add(_link(tenant.id, crm_key="creatio:Account:1", erp_key="intacct:CUSTOMER:C1"))

    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(_link(tenant.id, crm_key="creatio:Account:2", erp_key="intacct:CUSTOMER:C1"))


def test_the_same_keys_may_link_in_another_flow_or_tenant(sessions, tenant):
    with sessions.begin() as session:
        other = Accounts(session).create_tenant(f"{tenant.slug}-b", "other")
        session.add(_link(tenant.id, crm_key="creatio:Account:1", erp_key="intacct:CUSTOMER:C1"))
        session.add(
            Link(tenant_id=tenant.id, flow="contacts", crm_key="creatio:Account:1", erp_key="X")
        )
        session.add(_link(other.id, crm_key="creatio:Account:1", erp_key="intacct:CUSTOMER:C1"))

    with sessions() as session:
        assert len(session.scalars(Link.scoped(tenant.id)).all()) == 2
        assert len(session.scalars(Link.scoped(other.id)).all()) == 1


def test_pending_links_without_an_erp_key_do_not_collide(sessions, tenant):
    with sessions.begin() as session:
        for n in range(3):
            session.add(_link(tenant.id, crm_key=f"creatio:Account:{n}", pending_key=f"C{n}"))

    with sessions() as session:
        states = session.scalars(select(Link.state).where(Link.tenant_id == tenant.id)).all()
    assert states == [LinkState.PENDING] * 3


def test_timestamps_round_trip_as_aware_utc(sessions, tenant):
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=paris)
    with sessions.begin() as session:
        session.add(Watermark(tenant_id=tenant.id, flow="accounts", side="crm", value_utc=moment))

    with sessions() as session:
        loaded = session.scalars(Watermark.scoped(tenant.id)).one()

    assert loaded.value_utc == moment
    assert loaded.value_utc is not None
    assert loaded.value_utc.tzinfo is not None
    assert loaded.value_utc.utcoffset() == timedelta(0)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(sessions, tenant):
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as session:
        session.add(
            Watermark(
                tenant_id=tenant.id,
                flow="accounts",
                side="erp",
                value_utc=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
            )
        )


def test_timestamps_order_by_instant_across_offsets(sessions, tenant):
    early = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))  # 07:00 UTC
    late = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    with sessions.begin() as session:
        session.add(Run(tenant_id=tenant.id, flow="late", kind=RunKind.SCHEDULED, started_at=late))
        session.add(Run(tenant_id=tenant.id, flow="early", kind=RunKind.BULK, started_at=early))

    with sessions() as session:
        flows = session.scalars(
            select(Run.flow).where(Run.tenant_id == tenant.id).order_by(Run.started_at)
        ).all()
    assert flows == ["early", "late"]


def test_enum_columns_refuse_unknown_values(sessions, tenant):
    with pytest.raises(StatementError), sessions.begin() as session:
        session.add(Run(tenant_id=tenant.id, kind="nightly"))


def test_every_table_but_the_global_ones_belongs_to_a_tenant():
    owned = {mapper.class_.__tablename__ for mapper in Base.registry.mappers}
    owned -= GLOBAL_TABLES
    for mapper in Base.registry.mappers:
        table = mapper.class_.__tablename__
        if table in owned:
            assert issubclass(mapper.class_, TenantOwned), table
            column = mapper.local_table.c.tenant_id
            assert not column.nullable, table
            assert {fk.column.table.name for fk in column.foreign_keys} == {"tenants"}, table
