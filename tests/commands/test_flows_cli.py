"""The operating commands end to end: add connections, import flows, run, read dead letters."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.app import CreatioSimulator
from syncloom.simulators.intacct.app import IntacctSimulator
from tests.e2e.world import flow_document

pytestmark = pytest.mark.e2e


def syncloom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncloom.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "SYNCLOOM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SYNCLOOM_KEY_FILE": str(tmp_path / "master.key"),
        "SYNCLOOM_LOG_LEVEL": "WARNING",
    }


def test_add_import_run_list(env, tmp_path):
    with (
        SimulatorServer(CreatioSimulator(records=3)) as crm,
        SimulatorServer(IntacctSimulator(records=3)) as erp,
    ):
        added = syncloom(
            env,
            "connections",
            "add",
            "crm",
            "--system",
            "creatio",
            "--base-url",
            crm.base_url,
            "--secret",
            "username=Supervisor",
            "--secret",
            "password=Supervisor",
            "--create-tenant",
            "acme",
        )
        assert added.returncode == 0, added.stderr
        added = syncloom(
            env,
            "connections",
            "add",
            "erp",
            "--system",
            "intacct",
            "--base-url",
            erp.base_url,
            "--secret",
            "sender_id=simsender",
            "--secret",
            "sender_password=simsenderpw",
            "--secret",
            "company_id=SIMCO",
            "--secret",
            "user_id=admin",
            "--secret",
            "user_password=admin",
        )
        assert added.returncode == 0, added.stderr
        listed = syncloom(env, "connections", "list")
        assert "creatio" in listed.stdout
        assert "Supervisor" not in listed.stdout + listed.stderr
        document = tmp_path / "flows.yaml"
        document.write_text(flow_document(), encoding="utf-8")
        imported = syncloom(env, "flows", "import", str(document), "--comment", "first")
        assert imported.returncode == 0, imported.stderr
        assert "version 1" in imported.stdout
        run = syncloom(env, "flows", "run", "accounts")
        assert run.returncode == 0, run.stderr
        assert "created" in run.stdout
        assert "Supervisor" not in run.stdout + run.stderr
        letters = syncloom(env, "dlq", "list")
        assert letters.returncode == 0, letters.stderr
        dry = syncloom(env, "flows", "dry-run", "accounts")
        assert dry.returncode == 0, dry.stderr
        assert "{" in dry.stdout
        loaded = syncloom(env, "flows", "backfill", "accounts", "--since", "2020-01-01")
        assert loaded.returncode == 0, loaded.stderr
        assert "succeeded" in loaded.stdout
        report = syncloom(env, "reconcile", "accounts")
        assert report.returncode == 0, report.stderr
        assert "source_count" in report.stdout
        bad = syncloom(env, "flows", "backfill", "accounts", "--since", "last tuesday")
        assert bad.returncode == 2
        assert "not an ISO date" in bad.stderr


def test_bad_input_is_one_line_and_nonzero(env, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("flows:\n  - name: x\n    source: {connection: a}\n", encoding="utf-8")
    result = syncloom(env, "flows", "import", str(broken))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "flows[0]" in result.stderr
    unknown = syncloom(env, "connections", "add", "x", "--system", "sap", "--base-url", "http://x")
    assert unknown.returncode == 2
    assert "unknown system 'sap'" in unknown.stderr
