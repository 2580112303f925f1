"""Succession: deactivated sources and merge survivors, as declared in a flow document."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine.bulk_index import TargetSnapshot
from syncloom.engine.bulk_plan import Action, LinkRow, PagePlanner
from syncloom.engine.flows import FlowDocumentError, Side, load_flows
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.matcher import Matcher
from syncloom.engine.record_job import FlowSide
from syncloom.engine.succession import Retirement, Succession
from syncloom.store.models import LinkState

FLOW = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    inactive_when: INACTIVE
    merge: {tier: TIER}
    match:
      tiers:
        - name: customer_id
          fields: [{source: ErpId, target: CUSTOMERID, normalise: exact}]
    fields:
      - {source: Name, target: NAME}
"""
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _flow(inactive: str = '"Inactive == True"', tier: str = "customer_id"):
    return load_flows(FLOW.replace("INACTIVE", inactive).replace("TIER", tier)).flow("accounts")


def _record(ident: str, **values: object) -> Record:
    return Record(RecordKey("crm", "Account", ident), values, NOW)


def test_inactive_when_reads_the_source_record():
    retirement = Retirement.from_flow(_flow())
    assert retirement.is_retired({"Inactive": True})
    assert not retirement.is_retired({"Inactive": False})
    assert not retirement.is_retired({})


@pytest.mark.parametrize(
    ("inactive", "tier", "problem"),
    [
        ('"Inactive =="', "customer_id", "flows[0].inactive_when"),
        ('"Inactive == True"', "nickname", "flows[0].merge.tier: unknown match tier 'nickname'"),
    ],
)
def test_bad_inactive_when_or_merge_tier_is_refused_at_load(inactive, tier, problem):
    with pytest.raises(FlowDocumentError) as caught:
        _flow(inactive, tier)
    assert problem in str(caught.value)


def _survivor(candidates: list[Record], *, same_route=lambda r: True):
    succession = Succession.from_flow(_flow())
    twin = Record(RecordKey("erp", "CUSTOMER", "C1"), {"CUSTOMERID": "C1"}, NOW)
    asked: list[dict] = []

    async def search(criteria):
        asked.append(dict(criteria))
        return [r for r in candidates if r.values.get("ErpId") == criteria["ErpId"]]

    gone = RecordKey("crm", "Account", "gone")
    found = asyncio.run(succession.survivor(gone, twin, search, same_route))
    return found, asked


def test_the_one_record_claiming_the_twin_on_the_merge_tier_survives():
    found, asked = _survivor([_record("gone", ErpId="C1"), _record("kept", ErpId="C1")])
    assert asked == [{"ErpId": "C1"}]
    assert found is not None
    assert found.key.id == "kept"


def test_two_claimants_or_another_route_are_no_succession():
    two = [_record("a", ErpId="C1"), _record("b", ErpId="C1")]
    assert _survivor(two)[0] is None
    elsewhere = [_record("a", ErpId="C1")]
    assert _survivor(elsewhere, same_route=lambda r: False)[0] is None


def test_a_bulk_load_creates_no_twin_for_an_inactive_record_and_leaves_linked_ones_to_jobs():
    flow = _flow()
    matcher = Matcher.from_rules(flow.match)
    snapshot = TargetSnapshot(index=matcher.index(()), matcher=matcher)
    snapshot.add(Record(RecordKey("erp", "CUSTOMER", "C1"), {"NAME": "Closed"}, NOW))

    def side(system: str, entity: str, end: Side) -> FlowSide:
        return FlowSide(SimpleNamespace(system=system), system, entity, end)  # type: ignore[arg-type]

    planner = PagePlanner(
        flow=flow,
        source=side("crm", "Account", Side.CRM),
        target=side("erp", "CUSTOMER", Side.ERP),
        mapper=FieldMapMapper.from_flow(flow, value_maps={}),
        snapshot=snapshot,
        refresh_linked=True,
    )
    active = planner.plan_one(_record("a", Name="Open", Inactive=False), None)
    assert active.action is Action.CREATE
    inactive = planner.plan_one(_record("b", Name="Closed", Inactive=True), None)
    assert (inactive.action, inactive.reason) == (Action.SKIP, "inactive, and never synced")
    link = LinkRow(7, LinkState.LINKED, "erp:CUSTOMER:C1", None, None, False)
    linked = planner.plan_one(_record("c", Name="Closed", Inactive=True), link)
    assert (linked.action, linked.reason) == (Action.SKIP, "inactive")
