from __future__ import annotations

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.engine.conflicts import ManualReview, SideState, detect_changes, resolve_changes
from syncloom.engine.matcher import NO_MATCH, Match
from syncloom.engine.review import InMemoryReviewQueue, ReviewItem, ReviewKind


def test_conflicts_and_ambiguous_matches_wait_in_the_queue():
    queue = InMemoryReviewQueue()
    outcome = resolve_changes(
        detect_changes({"a": 0}, {"a": 1}, {"a": 2}),
        SideState({"a": 1}),
        SideState({"a": 2}),
        ManualReview(),
    )
    queue.submit(ReviewItem.for_conflict("accounts", "crm:Account:1", outcome.reviews))
    candidates = [RecordKey("erp", "Customer", "C1"), RecordKey("erp", "Customer", "C2")]
    queue.submit(ReviewItem.for_match("accounts", "crm:Account:2", Match.of("name", candidates)))
    assert [i.kind for i in queue.pending()] == [ReviewKind.CONFLICT, ReviewKind.AMBIGUOUS_MATCH]
    assert queue.pending("accounts")[0].resolutions[0].field == "a"
    assert queue.pending("accounts")[1].candidates == tuple(candidates)
    assert queue.pending("orders") == []
    queue.close("accounts", "crm:Account:1")
    assert [i.record_key for i in queue.pending()] == ["crm:Account:2"]


def test_newer_item_replaces_the_open_one():
    queue = InMemoryReviewQueue()
    first = ReviewItem("f", "k", ReviewKind.CONFLICT)
    second = ReviewItem("f", "k", ReviewKind.AMBIGUOUS_MATCH)
    queue.submit(first)
    queue.submit(second)
    assert queue.pending() == [second]


def test_only_ambiguous_matches_go_to_review():
    with pytest.raises(ValueError, match="ambiguous"):
        ReviewItem.for_match("f", "k", NO_MATCH)
