from __future__ import annotations

from syncloom.portal.reports import ReportSection, lay_out


def test_every_shape_of_a_report_becomes_a_section() -> None:
    report = {
        "flow": "accounts",
        "pages": 2,
        "counts": {"create": 2, "update": 1},
        "creates": [{"key": "C-1", "payload": {"Name": "Acme"}}, {"key": "C-2", "extra": None}],
        "reviews": [],
        "samples": ["a", 1],
    }
    sections = lay_out(report)
    assert [s.title for s in sections] == [
        "flow",
        "pages",
        "counts",
        "creates (2)",
        "samples (2)",
    ]
    assert sections[2] == ReportSection("counts", ["create", "update"], [["2", "1"]])
    assert sections[3].columns == ["key", "payload", "extra"]
    assert sections[3].rows == [["C-1", '{"Name": "Acme"}', ""], ["C-2", "", ""]]
    assert sections[4].text == "a, 1"
    assert sections[1].text == "2"
