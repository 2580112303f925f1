"""``syncloom worker``, ``web`` and ``recover``: start-up checks and a worker that starts and stops.

The shared-database behaviour (workers splitting a load, a killed worker taken over) is proven
on PostgreSQL in ``tests/scale``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from syncloom.store import upgrade

pytestmark = pytest.mark.e2e


def syncloom(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncloom.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "SYNCLOOM_DATABASE_URL": f"sqlite:///{tmp_path / 'node.db'}",
        "SYNCLOOM_KEY_FILE": str(tmp_path / "master.key"),
        "SYNCLOOM_LOG_LEVEL": "WARNING",
    }


@pytest.mark.parametrize("command", [["worker", "--once"], ["web"], ["recover", "w9"]])
def test_processes_refuse_a_database_that_was_not_upgraded(env, command):
    done = syncloom(env, *command)
    assert done.returncode == 2
    assert "run `syncloom db upgrade` once" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_starts_with_its_executor_id_and_stops(env, tmp_path):
    upgrade(env["SYNCLOOM_DATABASE_URL"])
    done = syncloom({**env, "SYNCLOOM_EXECUTOR_ID": "worker-7"}, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert "worker worker-7 is ready" in done.stderr
    assert "SYNCLOOM_EXECUTOR_ID is unset" not in done.stderr


def test_worker_without_an_executor_id_warns(env):
    upgrade(env["SYNCLOOM_DATABASE_URL"])
    done = syncloom(env, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert "SYNCLOOM_EXECUTOR_ID is unset" in done.stderr


def test_recover_with_nothing_pending_takes_over_nothing(env):
    upgrade(env["SYNCLOOM_DATABASE_URL"])
    first_start = syncloom({**env, "SYNCLOOM_EXECUTOR_ID": "w1"}, "worker", "--once")
    assert first_start.returncode == 0, first_start.stderr
    done = syncloom(env, "recover", "w1", "--timeout", "5")
    assert done.returncode == 0, done.stderr
    assert "took over 0 pending run(s) of w1" in done.stderr
