"""OrderedIndex and IndexedTable: pages through an index equal a stable sort of the table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from syncloom.simulators.common.index import IndexedTable
from syncloom.simulators.common.store import SimStore


def by_stamp(row):
    return (row["stamp"],)


def stable_sort(table):
    return [row["id"] for row in sorted(table.values(), key=by_stamp)]


def test_ties_keep_table_order_and_a_replaced_row_keeps_its_place():
    table = IndexedTable()
    for key, stamp in (("a", 2), ("b", 1), ("c", 2), ("d", 1)):
        table[key] = {"id": key, "stamp": stamp}
    index = table.ordered("stamp", by_stamp)
    table["b"] = {"id": "b", "stamp": 1}  # same key, same place among its equals
    table["a"] = {"id": "a", "stamp": 0}
    del table["d"]
    table["d"] = {"id": "d", "stamp": 1}  # deleted and back: last among its equals
    everything = index.first(10, table, lambda row: True)
    assert [row["id"] for row in everything] == stable_sort(table) == ["a", "b", "d", "c"]


def test_a_page_starts_at_its_lower_bound_and_stops_when_full():
    table = IndexedTable((str(i), {"id": str(i), "stamp": i % 7}) for i in range(50))
    seen = []

    def accept(row):
        seen.append(row["id"])
        return row["id"] != "12"

    page = table.ordered("stamp", by_stamp).first(3, table, accept, lower=(5,))
    assert [(row["id"], row["stamp"]) for row in page] == [("5", 5), ("19", 5), ("26", 5)]
    assert seen == ["5", "12", "19", "26"]  # nothing below the bound, nothing after the page


def test_writes_the_index_cannot_follow_drop_it_and_the_next_query_rebuilds_it():
    table = IndexedTable([("a", {"id": "a", "stamp": 3})])
    table.ordered("stamp", by_stamp)
    table.update(b={"id": "b", "stamp": 1})
    assert [r["id"] for r in table.ordered("stamp", by_stamp).first(5, table, bool)] == ["b", "a"]


def test_a_value_that_does_not_sort_drops_the_index_but_keeps_the_write():
    table = IndexedTable([("a", {"id": "a", "stamp": 3})])
    table.ordered("stamp", by_stamp)
    table["b"] = {"id": "b", "stamp": "three"}
    assert table["b"]["stamp"] == "three"


def test_the_store_serves_pages_of_rows_written_through_it():
    store = SimStore()
    for i in range(10):
        store.put("T", str(i), {"id": str(i), "stamp": -i})
    store.delete("T", "0")
    page = store.first("T", "stamp", by_stamp, 3, lambda row: row["stamp"] > -9)
    assert [row["id"] for row in page] == ["8", "7", "6"]


writes = st.lists(
    st.tuples(st.sampled_from(["put", "delete"]), st.integers(0, 15), st.integers(0, 5)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(writes, st.integers(0, 5), st.integers(1, 8))
def test_any_writes_then_any_page_equal_a_stable_sort_of_the_table(ops, low, count):
    table = IndexedTable()
    index = table.ordered("stamp", by_stamp)
    for op, key, stamp in ops:
        if op == "put":
            table[str(key)] = {"id": str(key), "stamp": stamp}
        else:
            table.pop(str(key), None)
    expected = [k for k in stable_sort(table) if table[k]["stamp"] >= low][:count]
    page = index.first(count, table, lambda row: row["stamp"] >= low, lower=(low,))
    assert [row["id"] for row in page] == expected
