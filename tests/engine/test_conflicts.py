from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncloom.engine.conflicts import (
    ConflictPolicy,
    CrmWins,
    ErpWins,
    ManualReview,
    NewestWins,
    SideState,
    Verdict,
    detect_changes,
    flow_policies,
    policy_for,
    resolve_changes,
)
from syncloom.engine.flows import ConflictRule, Endpoint, FieldMap, Flow, Side
from syncloom.engine.hashing import same_value
from syncloom.errors import ConflictError

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def outcome(base, crm, erp, policy, crm_at=T0, erp_at=T0):
    crm_state, erp_state = SideState(crm, crm_at), SideState(erp, erp_at)
    return resolve_changes(detect_changes(base, crm, erp), crm_state, erp_state, policy)


def test_one_sided_changes_travel_without_conflict():
    result = outcome({"a": 1, "b": 2}, {"a": 5, "b": 2}, {"a": 1, "b": 7}, ManualReview())
    assert result.to_erp == {"a": 5}
    assert result.to_crm == {"b": 7}
    assert result.reviews == ()
    assert [r.reason for r in result.resolutions] == ["changed only in crm", "changed only in erp"]


def test_type_spelling_is_no_change():
    result = outcome({"a": Decimal("1.0")}, {"a": "1"}, {"a": 1.0}, ManualReview())
    assert result.resolutions == ()


def test_both_changed_to_same_value_agree():
    result = outcome({"a": 1}, {"a": 2}, {"a": "2"}, ManualReview())
    assert [r.verdict for r in result.resolutions] == [Verdict.AGREE]
    assert result.to_crm == result.to_erp == {}


@pytest.mark.parametrize(
    ("policy", "verdict", "value"),
    [(CrmWins(), Verdict.CRM, "crm"), (ErpWins(), Verdict.ERP, "erp")],
)
def test_fixed_winner_policies(policy, verdict, value):
    result = outcome({"a": "base"}, {"a": "crm"}, {"a": "erp"}, policy)
    (resolution,) = result.resolutions
    assert resolution.verdict is verdict
    assert resolution.value == value
    assert resolution.conflict
    assert (resolution.base, resolution.crm, resolution.erp) == ("base", "crm", "erp")
    assert policy.rule.value in resolution.reason


def test_newest_wins_by_modified_on():
    later = T0 + timedelta(seconds=1)
    result = outcome({"a": 0}, {"a": 1}, {"a": 2}, NewestWins(), crm_at=T0, erp_at=later)
    assert result.to_crm == {"a": 2}
    assert "erp modified last" in result.resolutions[0].reason
    result = outcome({"a": 0}, {"a": 1}, {"a": 2}, NewestWins(), crm_at=later, erp_at=T0)
    assert result.to_erp == {"a": 1}


def test_newest_wins_tie_is_deterministic():
    tie = outcome({"a": 0}, {"a": 1}, {"a": 2}, NewestWins())
    assert tie.resolutions[0].winner is Side.CRM
    assert "tie goes to crm" in tie.resolutions[0].reason
    erp_tie = outcome({"a": 0}, {"a": 1}, {"a": 2}, NewestWins(tie_winner=Side.ERP), None, None)
    assert erp_tie.resolutions[0].winner is Side.ERP


def test_manual_review_raises_conflict_error_naming_fields_only():
    result = outcome({"a": 0, "b": 0}, {"a": 1, "b": 1}, {"a": 2, "b": 0}, ManualReview())
    assert [r.field for r in result.reviews] == ["a"]
    assert result.to_erp == {"b": 1}
    with pytest.raises(ConflictError, match="review on: a") as info:
        result.raise_for_review("crm:Account:1")
    assert "1" not in info.value.message.replace("crm:Account:1", "")


def test_no_base_means_first_sync_and_differences_conflict():
    result = outcome(None, {"a": 1, "b": 1}, {"a": 2, "b": "1"}, ErpWins())
    assert result.to_crm == {"a": 2}


def test_field_overrides_from_flow():
    flow = Flow(
        name="accounts",
        source=Endpoint(connection="crm", entity="Account"),
        target=Endpoint(connection="erp", entity="Customer"),
        conflict=ConflictRule.CRM_WINS,
        fields=(FieldMap(source="Phone", target="PhoneNo", conflict=ConflictRule.ERP_WINS),),
    )
    choose = flow_policies(flow)
    result = outcome(
        {"PhoneNo": 0, "Name": 0}, {"PhoneNo": 1, "Name": 1}, {"PhoneNo": 2, "Name": 2}, choose
    )
    assert result.to_crm == {"PhoneNo": 2}
    assert result.to_erp == {"Name": 1}


def test_policy_table_covers_every_rule():
    for rule in ConflictRule:
        assert policy_for(rule).rule is rule


values = st.none() | st.integers(0, 3) | st.sampled_from(["", "x", "y"])
names = st.sampled_from(["a", "b", "c"])
triples = st.tuples(
    st.dictionaries(names, values), st.dictionaries(names, values), st.dictionaries(names, values)
)
policies = st.sampled_from([CrmWins(), ErpWins(), NewestWins(), ManualReview()])
moments = st.none() | st.datetimes(timezones=st.just(UTC))


@given(triples, policies, moments, moments)
def test_any_triple_settles_consistently(triple, policy: ConflictPolicy, crm_at, erp_at):
    base, crm, erp = triple
    result = outcome(base, crm, erp, policy, crm_at, erp_at)
    for r in result.resolutions:
        if not r.conflict:
            # A one-sided change always travels; an unchanged side never wins over a change.
            assert r.verdict is not Verdict.REVIEW
            continue
        expected = {
            ConflictRule.CRM_WINS: {Verdict.CRM},
            ConflictRule.ERP_WINS: {Verdict.ERP},
            ConflictRule.NEWEST_WINS: {Verdict.CRM, Verdict.ERP},
            ConflictRule.MANUAL_REVIEW: {Verdict.REVIEW},
        }[policy.rule]
        assert r.verdict in expected
    settled = {r.field for r in result.resolutions}
    for change in detect_changes(base, crm, erp):
        assert (change.field in settled) == (change.crm_changed or change.erp_changed)
    # Applying the outcome leaves both sides equal on every field without a pending review.
    reviewed = {r.field for r in result.reviews}
    new_crm = {**crm, **result.to_crm}
    new_erp = {**erp, **result.to_erp}
    for change in detect_changes(base, crm, erp):
        if change.field not in reviewed and (change.crm_changed or change.erp_changed):
            assert same_value(new_crm.get(change.field), new_erp.get(change.field))
