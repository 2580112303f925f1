"""RequestJournal: order of requests and the peak in flight, as the server saw them."""

from __future__ import annotations

from syncloom.simulators.common.journal import RequestJournal


def test_sequence_numbers_order_requests_and_the_peak_counts_overlap():
    journal = RequestJournal()
    first = journal.begin("POST", "/parent")
    journal.end(first, 201)
    a = journal.begin("POST", "/child")
    b = journal.begin("POST", "/child")
    journal.end(b, 201)
    journal.end(a, 500)
    entries = journal.entries()
    assert [e["path"] for e in entries] == ["/parent", "/child", "/child"]
    assert entries[0]["finished"] < entries[1]["started"]
    assert entries[1]["started"] < entries[2]["finished"]
    assert entries[1]["status"] == 500
    assert journal.peak_in_flight == 2
    assert journal.in_flight == 0


def test_clear_restarts_the_peak_from_what_is_in_flight_now():
    journal = RequestJournal()
    held = journal.begin("GET", "/a")
    journal.end(journal.begin("GET", "/b"), 200)
    journal.clear()
    assert journal.entries() == []
    assert journal.peak_in_flight == 1
    journal.end(held, 200)
