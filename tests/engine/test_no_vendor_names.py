from __future__ import annotations

import re
from pathlib import Path

import syncloom.engine

ENGINE = Path(syncloom.engine.__file__).parent
# Look-arounds keep ordinary words ("creation", "message", "usage") from counting as vendors
# while still catching identifiers such as "SageConnector" or "creatio_account".
VENDORS = re.compile(r"creatio(?!n)|intacct|d365|(?<![a-z])dynamics|(?<![a-z])sage", re.IGNORECASE)


def test_engine_sources_name_no_vendor():
    offenders = [
        f"{path.relative_to(ENGINE)}:{number}: {line.strip()}"
        for path in sorted(ENGINE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if VENDORS.search(line)
    ]
    assert offenders == []


def test_the_check_would_catch_a_vendor_name():
    assert VENDORS.search("class IntacctThing")
    assert VENDORS.search("# Dynamics 365 quirk")
    assert VENDORS.search("sage_gateway")
    assert VENDORS.search("CreatioConnector")
    assert not VENDORS.search("message usage creation")
