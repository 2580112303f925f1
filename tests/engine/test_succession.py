"""Succession: deactivated sources and merge survivors, as declared in a flow document."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine.flows import FlowDocumentError, load_flows
from syncloom.engine.succession import Retirement, Succession

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
