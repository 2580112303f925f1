"""PagePlanner and DryRunReport: what a bulk page would do, decided without I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from syncloom.connectors.base import EntitySpec, FieldSpec, FieldType, Record, RecordKey
from syncloom.engine.bulk_index import TargetSnapshot
from syncloom.engine.bulk_plan import Action, LinkRow, PagePlanner
from syncloom.engine.bulk_report import DryRunReport
from syncloom.engine.flows import Side, load_flows
from syncloom.engine.keys import render_key
from syncloom.engine.mapper import FieldMapMapper
from syncloom.engine.matcher import Matcher
from syncloom.engine.record_job import FlowSide
from syncloom.store.models import LinkState

DOCUMENT = """
flows:
  - name: accounts
    source: {connection: crm, entity: Account}
    target: {connection: erp, entity: CUSTOMER}
    key: {template: "SL{hash10}"}
    filter: "Name != 'Skip Me'"
    match:
      tiers:
        - name: tax
          fields: [{source: Tax, target: TAXID, normalise: tax_id}]
    fields:
      - {source: Name, target: NAME}
      - {source: Country, target: COUNTRY, value_map: countries}
value_maps:
  countries: {values: {Germany: DE, France: FR}}
"""
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _side(system: str, entity: str, side: Side) -> FlowSide:
    return FlowSide(SimpleNamespace(system=system), system, entity, side)  # type: ignore[arg-type]


def _source(ident: str, **values: object) -> Record:
    return Record(RecordKey("crm", "Account", ident), {"Country": "Germany", **values}, AT)


def _target(ident: str, **values: object) -> Record:
    return Record(RecordKey("erp", "CUSTOMER", ident), {"COUNTRY": "DE", **values}, AT)


@pytest.fixture
def planner() -> PagePlanner:
    document = load_flows(DOCUMENT)
    flow = document.flow("accounts")
    matcher = Matcher.from_rules(flow.match)
    snapshot = TargetSnapshot(index=matcher.index(()), matcher=matcher)
    for record in (
        _target("C1", NAME="Acme", TAXID="DE-111"),
        _target("C2", NAME="Other name", TAXID="DE 222"),
        _target("C3", NAME="Twin A", TAXID="333"),
        _target("C4", NAME="Twin B", TAXID="333"),
    ):
        snapshot.add(record)
    return PagePlanner(
        flow=flow,
        source=_side("crm", "Account", Side.CRM),
        target=_side("erp", "CUSTOMER", Side.ERP),
        mapper=FieldMapMapper.from_flow(flow, value_maps=document.value_maps),
        snapshot=snapshot,
    )


def _link(state: LinkState, target: str | None = None, pending: str | None = None, leased=False):
    return LinkRow(7, state, target, pending, None, leased)


def test_new_record_is_created_under_the_key_its_template_renders(planner):
    source = _source("a1", Name="New Co", Tax="999")
    (item,) = planner.plan([source], {})
    assert item.action is Action.CREATE
    expected = render_key("SL{hash10}", source=source.key, payload={})
    assert item.target_key == f"erp:CUSTOMER:{expected}"
    assert item.to_target == {"NAME": "New Co", "COUNTRY": "DE"}
    assert item.log_action == "created"


def test_match_with_equal_values_binds_and_with_different_values_updates(planner):
    same, differs = _source("a1", Name="Acme", Tax="de111"), _source("a2", Name="New", Tax="DE222")
    bind, update = planner.plan([same, differs], {})
    assert (bind.action, bind.target_key, bind.matched) == (Action.BIND, "erp:CUSTOMER:C1", True)
    assert update.action is Action.UPDATE
    assert update.to_target == {"NAME": "New"}
    assert update.diff["NAME"]["erp"] == "Other name"
    assert update.log_action == "matched_updated"


def test_ambiguous_match_is_left_to_review_with_its_candidates(planner):
    (item,) = planner.plan([_source("a1", Name="Twin", Tax="333")], {})
    assert item.action is Action.REVIEW
    assert item.candidates == ("erp:CUSTOMER:C3", "erp:CUSTOMER:C4")
    assert not item.writes


def test_links_decide_before_matching(planner):
    source = _source("a1", Name="Acme", Tax="DE-111")
    key = str(source.key)
    linked = planner.plan([source], {key: _link(LinkState.LINKED, "erp:CUSTOMER:C1")})[0]
    assert (linked.action, linked.reason) == (Action.SKIP, "already linked")
    leased = planner.plan([source], {key: _link(LinkState.PENDING, leased=True)})[0]
    assert leased.action is Action.SKIP
    assert leased.reason.startswith("leased")
    # A reservation whose record exists (a crash after the batch): bound, not created again.
    found = planner.plan([source], {key: _link(LinkState.PENDING, pending="erp:CUSTOMER:C2")})[0]
    assert (found.action, found.target_key, found.link_id) == (
        Action.UPDATE,
        "erp:CUSTOMER:C2",
        7,
    )
    # A reservation whose record does not exist yet: created under the reserved key.
    fresh = planner.plan([source], {key: _link(LinkState.PENDING, pending="erp:CUSTOMER:SLX")})[0]
    assert (fresh.action, fresh.target_key) == (Action.CREATE, "erp:CUSTOMER:SLX")


def test_refresh_plans_linked_pairs_against_their_base_snapshot(planner):
    planner.refresh_linked = True
    source = _source("a1", Name="Acme Renamed", Tax="DE-111")
    link = LinkRow(7, LinkState.LINKED, "erp:CUSTOMER:C1", None, {"NAME": "Acme"}, False)
    (item,) = planner.plan([source], {str(source.key): link})
    assert item.action is Action.UPDATE
    assert item.to_target == {"NAME": "Acme Renamed"}
    assert not item.matched
    assert item.log_action == "updated"


def test_filtered_and_unmappable_records_are_not_written(planner):
    skipped, failed = planner.plan(
        [_source("a1", Name="Skip Me"), _source("a2", Name="X", Country="Atlantis")], {}
    )
    assert (skipped.action, skipped.reason) == (Action.SKIP, "filtered out")
    assert failed.action is Action.FAILED
    assert "Atlantis" in failed.reason


def test_dry_run_report_counts_everything_and_keeps_bounded_examples(planner):
    records = [_source(f"n{n}", Name=f"New {n}", Tax=f"9{n}") for n in range(4)]
    records += [_source("m1", Name="New", Tax="DE222"), _source("r1", Name="T", Tax="333")]
    report = DryRunReport("accounts", limit=2)
    report.add(planner.plan(records, {}))
    assert report.counts == {"read": 6, "create": 4, "match": 1, "update": 1, "ambiguous": 1}
    assert len(report.creates) == 2
    assert report.samples == [
        {"NAME": "New 0", "COUNTRY": "DE"},
        {"NAME": "New 1", "COUNTRY": "DE"},
    ]
    assert report.updates[0]["to_target"] == {"NAME": "New"}
    assert report.reviews[0]["candidates"] == ["erp:CUSTOMER:C3", "erp:CUSTOMER:C4"]
    assert report.as_dict()["counts"]["create"] == 4


def test_a_value_the_target_field_would_refuse_fails_the_record_before_any_write(planner):
    planner.snapshot.spec = EntitySpec(
        "CUSTOMER",
        ("CUSTOMERID",),
        "WHENMODIFIED",
        fields=(FieldSpec("COUNTRY", FieldType.ENUM, allowed_values=("DE", "US"), custom=True),),
    )
    created = planner.plan_one(_source("a9", Name="Paris Co", Country="France"), None)
    assert created.action is Action.FAILED
    assert "COUNTRY: 'FR' is not one of the allowed values (DE, US)" in created.reason
    assert "erp CUSTOMER" in created.reason
    refreshing = PagePlanner(
        flow=planner.flow,
        source=planner.source,
        target=planner.target,
        mapper=planner.mapper,
        snapshot=planner.snapshot,
        refresh_linked=True,
    )
    linked = _link(LinkState.LINKED, "erp:CUSTOMER:C1")
    updated = refreshing.plan_one(_source("a1", Name="Acme", Country="France"), linked)
    assert updated.action is Action.FAILED
    assert "COUNTRY" in updated.reason
    kept = refreshing.plan_one(_source("a1", Name="Acme Renamed", Country="Germany"), linked)
    assert kept.action is Action.UPDATE
