"""The creatio_intacct Solution from the command line: save it, dry-run, backfill, retry failed."""

from __future__ import annotations

import json
import os
import re
import uuid

import pytest

from syncloom.connectors.creatio import CreatioConnector
from syncloom.engine.bridge import LoopBridge
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.creatio.seeding import CUSTOMER_TYPE
from syncloom.simulators.intacct.app import IntacctSimulator
from syncloom.simulators.intacct.entities import OBJECTS
from tests.commands.test_flows_cli import syncloom

pytestmark = pytest.mark.e2e

INTACCT_SECRETS = {
    "sender_id": "simsender",
    "sender_password": "simsenderpw",
    "company_id": "SIMCO",
    "user_id": "admin",
    "user_password": "admin",
}


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "SYNCLOOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SYNCLOOM_KEY_FILE": str(tmp_path / "master.key"),
        "SYNCLOOM_LOG_LEVEL": "WARNING",
    }


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def _add_connections(env, crm, erp):
    _ok(
        syncloom(
            env, "connections", "add", "creatio", "--system", "creatio",
            "--base-url", crm.base_url, "--secret", "username=Supervisor",
            "--secret", "password=Supervisor", "--create-tenant", "acme",
        )
    )  # fmt: skip
    secrets = [arg for k, v in INTACCT_SECRETS.items() for arg in ("--secret", f"{k}={v}")]
    _ok(
        syncloom(
            env, "connections", "add", "intacct", "--system", "intacct",
            "--base-url", erp.base_url, *secrets,
        )
    )  # fmt: skip


def _report(stdout):
    return json.loads(stdout[stdout.index("{") :])


def test_solution_saved_dry_run_writes_nothing_then_backfill_and_retry_failed(env):
    with (
        SimulatorServer(CreatioSimulator(records=5)) as crm,
        SimulatorServer(IntacctSimulator(records=5)) as erp,
    ):
        _add_connections(env, crm, erp)
        saved = _ok(
            syncloom(env, "flows", "solution", "creatio_intacct", "--option",
                     "opportunity_target=sales_order", "--comment", "go live")
        )  # fmt: skip
        assert re.search(r"creatio_intacct: \d+ flows saved as version 1", saved)
        exported = _ok(syncloom(env, "flows", "export"))
        assert "name: opportunities_sales_orders" in exported
        assert "name: opportunities_invoices" not in exported

        # Validate the Connections and the mappings on the real records, writing nothing.
        dry = _report(_ok(syncloom(env, "flows", "dry-run", "projects_lookup")))
        assert dry["counts"].get("create") == 3, dry["counts"]
        assert {p["Code"] for p in dry["samples"]} == {"PRJ-100", "PRJ-200", "PRJ-300"}
        assert crm.app.store.table("UsrIntacctProject") == {}
        dry = _report(_ok(syncloom(env, "flows", "dry-run", "accounts_customers")))
        assert dry["counts"].get("match", 0) >= 5, dry["counts"]
        assert not dry["failures"]

        loaded = _ok(syncloom(env, "flows", "backfill", "projects_lookup"))
        assert "succeeded" in loaded
        codes = {row["Code"] for row in crm.app.store.table("UsrIntacctProject").values()}
        assert codes == {"PRJ-100", "PRJ-200", "PRJ-300"}

        # A record that fails for good goes to the dead letters; fixed at its source, a
        # replay from the command line syncs it.
        franc = str(uuid.uuid4())
        account = str(uuid.uuid4())
        bridge = LoopBridge()
        creatio = CreatioConnector(crm.base_url, username="Supervisor", password="Supervisor")
        try:
            bridge.run(creatio.create("Currency", {"Name": "Swiss franc", "Code": "CHF",
                                                   "Symbol": "Fr"}, franc))  # fmt: skip
            bridge.run(creatio.create("Account", {"Name": "Franc Customer AG",
                                                  "TypeId": CUSTOMER_TYPE,
                                                  "UsrCurrencyId": franc}, account))  # fmt: skip
            _ok(syncloom(env, "flows", "run", "accounts_customers"))
            wide = {**env, "COLUMNS": "250"}
            letters = _ok(syncloom(wide, "dlq", "list", "--flow", "accounts_customers"))
            assert "MappingError" in letters
            assert account in letters
            letter_id = re.search(r"^\W*(\d+)\W", letters, re.MULTILINE).group(1)
            usd = next(k for k, r in crm.app.store.table("Currency").items() if r["Code"] == "USD")
            bridge.run(creatio.update("Account", account, {"UsrCurrencyId": usd}))
        finally:
            bridge.run(creatio.aclose())
            bridge.close()
        replayed = _ok(syncloom(env, "dlq", "replay", letter_id))
        assert f"{letter_id}: created" in replayed
        names = [r["NAME"] for r in erp.app.store.all(OBJECTS["CUSTOMER"])]
        assert names.count("Franc Customer AG") == 1
        assert _ok(syncloom(env, "dlq", "list")).count("accounts_customers") == 0


def test_solution_option_errors_are_one_line(env):
    _ok(
        syncloom(env, "connections", "add", "creatio", "--system", "creatio", "--base-url",
                 "http://127.0.0.1:9", "--create-tenant", "acme")
    )  # fmt: skip
    bad = syncloom(env, "flows", "solution", "creatio_intacct", "--option", "product_target=x")
    assert bad.returncode == 2
    assert "product_target must be one of" in bad.stderr
    bad = syncloom(env, "flows", "solution", "creatio_intacct", "--entity-connection", "E100")
    assert bad.returncode == 2
    assert "is not key=value" in bad.stderr
