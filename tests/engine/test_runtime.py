from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from syncloom.engine.runtime import (
    JobState,
    Runtime,
    check_sqlite_support,
    durable_step,
    durable_workflow,
    workflow_id_for,
)
from syncloom.errors import ConfigError

WORKER = Path(__file__).with_name("runtime_worker.py")
DEADLINE_S = 60.0


# --- preflight -------------------------------------------------------------------------------


def test_sqlite_too_old_on_python_312_names_the_fix():
    with pytest.raises(ConfigError) as caught:
        check_sqlite_support("sqlite:///x.sqlite", python_version=(3, 12), sqlite_version="3.40.1")
    assert "pysqlite3-binary" in str(caught.value)
    assert "3.40.1" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "python", "sqlite"),
    [
        ("sqlite:///x.sqlite", (3, 11), "3.31.1"),  # 3.11 is fine on any SQLite
        ("sqlite:///x.sqlite", (3, 12), "3.42.0"),
        ("sqlite:///x.sqlite", (3, 13), "3.45.1"),
        ("postgresql://u@h/db", (3, 12), "3.31.1"),  # SQLite is irrelevant on PostgreSQL
    ],
)
def test_supported_combinations_pass_preflight(url, python, sqlite):
    check_sqlite_support(url, python_version=python, sqlite_version=sqlite)


# --- workflow ids ----------------------------------------------------------------------------


def test_workflow_ids_sort_in_version_order():
    key = "creatio:Account:0b1e"
    ids = [workflow_id_for(key, version) for version in (2, 10, 9, 100)]
    assert sorted(ids) == [workflow_id_for(key, v) for v in (2, 9, 10, 100)]
    assert ids[0] == "sync:creatio:Account:0b1e@00000000000000000002"


def test_datetime_versions_sort_as_instants_whatever_their_zone():
    key = "intacct:CUSTOMER:7"
    cet = timezone(timedelta(hours=1))
    early = datetime(2026, 3, 1, 10, 0, tzinfo=cet)  # 09:00 UTC
    late = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert workflow_id_for(key, early) < workflow_id_for(key, late)
    with pytest.raises(ValueError, match="aware"):
        workflow_id_for(key, datetime(2026, 3, 1))  # noqa: DTZ001 - the naive case under test


def test_workflow_id_rejects_empty_key():
    with pytest.raises(ValueError, match="record_key"):
        workflow_id_for(" ", 1)


# --- durability proof: SIGKILL mid-run, resume, every step exactly once ---------------------


def _lines(marker: Path) -> list[str]:
    return marker.read_text(encoding="utf-8").splitlines() if marker.exists() else []


def _spawn(url: str, marker: Path, log: Path, *flags: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, str(WORKER), url, str(marker), *flags],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _wait_for_line(marker: Path, line: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while line not in _lines(marker):
        if process.poll() is not None:
            pytest.fail(f"worker exited early ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {line!r} in time:\n{log.read_text()}")
        time.sleep(0.05)


def _prove_resume_after_kill(url: str, tmp_path: Path, start: str) -> None:
    marker, log = tmp_path / "marker.txt", tmp_path / "worker.log"
    flags = ["--start", "--hold-at", "3"] + (["--in-transaction"] if start == "transaction" else [])
    first = _spawn(url, marker, log, *flags)
    try:
        # "enter 3" means step 2's output is checkpointed: step 3 only starts after that.
        _wait_for_line(marker, "enter 3", first, log)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=DEADLINE_S)
    assert _lines(marker) == ["enter 1", "step 1", "enter 2", "step 2", "enter 3"]

    second = _spawn(url, marker, log)
    assert second.wait(timeout=DEADLINE_S * 2) == 0, log.read_text()

    lines = _lines(marker)
    for index in range(1, 6):
        assert lines.count(f"step {index}") == 1, lines
    assert lines.count("enter 3") == 2, lines  # the interrupted step ran again, nothing else
    assert lines.count("enter 1") == 1, lines
    assert lines[-1] == "finished 15"


START_MODES = ["enqueue", "transaction"]


@pytest.mark.e2e
@pytest.mark.parametrize("start", START_MODES)
def test_killed_worker_resumes_each_step_once_on_sqlite(tmp_path, start):
    _prove_resume_after_kill(f"sqlite:///{tmp_path / 'runtime.sqlite'}", tmp_path, start)


@contextmanager
def _fresh_pg_database(pg_url: str) -> Iterator[str]:
    name = f"syncloom_rt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.e2e
@pytest.mark.pg
@pytest.mark.parametrize("start", START_MODES)
def test_killed_worker_resumes_each_step_once_on_postgresql(pg_url, tmp_path, start):
    with _fresh_pg_database(pg_url) as url:
        _prove_resume_after_kill(url, tmp_path, start)


# --- a release picks up the work the previous one left: a stable application version ---------

RELEASE_WORKER = Path(__file__).with_name("runtime_release.py")


def _spawn_release(url: str, marker: Path, log: Path, *flags: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, str(RELEASE_WORKER), url, str(marker), *flags],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


@pytest.mark.e2e
def test_the_next_release_finishes_the_runs_the_last_one_left_in_flight_and_queued(tmp_path):
    url = f"sqlite:///{tmp_path / 'runtime.sqlite'}"
    marker, log = tmp_path / "marker.txt", tmp_path / "release.log"
    old = _spawn_release(url, marker, log, "--release", "1", "--start")
    try:
        _wait_for_line(marker, "enter release:first", old, log)
    finally:
        old.send_signal(signal.SIGKILL)
        old.wait(timeout=DEADLINE_S)
    # The second run waits behind the first on their partition: still queued.
    assert _lines(marker) == ["enter release:first"]

    new = _spawn_release(url, marker, log, "--release", "2")
    assert new.wait(timeout=DEADLINE_S * 2) == 0, log.read_text()
    lines = _lines(marker)
    assert "done release:first 2" in lines, lines  # in flight at the kill: resumed
    assert "done release:second 2" in lines, lines  # queued by release 1: dequeued
    assert lines[-1] == "finished 2"


# --- one runtime in this process: queues, handles, transactions, schedules --------------------

QUEUE = "rt-test-records"
PLAIN_QUEUE = "rt-test-plain"
BERLIN = "Europe/Berlin"


class _Overlap:
    """Records how many jobs run at once, per partition key and across keys."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.max_per_key = 0
        self.max_keys = 0
        self.keys_met = threading.Event()

    def enter(self, key: str) -> None:
        with self.lock:
            self.running[key] = self.running.get(key, 0) + 1
            self.max_per_key = max(self.max_per_key, self.running[key])
            active = sum(1 for count in self.running.values() if count)
            self.max_keys = max(self.max_keys, active)
            if active >= 2:
                self.keys_met.set()

    def leave(self, key: str) -> None:
        with self.lock:
            self.running[key] -= 1


OVERLAP = _Overlap()
RELEASE = threading.Event()
FIRED: list[tuple[datetime, str]] = []
FIRED_LOCK = threading.Lock()


@durable_workflow
def partitioned_job(key: str, index: int) -> int:
    OVERLAP.enter(key)
    try:
        # Jobs of different keys can only meet here if they run concurrently.
        OVERLAP.keys_met.wait(timeout=10)
        time.sleep(0.05)  # hold the slot a moment, so a second job of this key would collide
    finally:
        OVERLAP.leave(key)
    return index


@durable_step
def echo_step(value: str) -> str:
    return value


@durable_workflow
def echo_job(value: str) -> str:
    return echo_step(value)


@durable_workflow
def gated_job() -> str:
    RELEASE.wait(timeout=30)
    return "released"


@durable_workflow
def record_fire(scheduled_at: datetime, context: str) -> None:
    with FIRED_LOCK:
        FIRED.append((scheduled_at, context))


@pytest.fixture(scope="module")
def runtime_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('runtime') / 'runtime.sqlite'}"


@pytest.fixture(scope="module")
def runtime(runtime_url) -> Iterator[Runtime]:
    rt = Runtime(runtime_url, executor_id="rt-test")
    rt.register_queue(QUEUE, worker_concurrency=4, polling_interval_s=0.05)
    rt.register_queue(PLAIN_QUEUE, partitioned=False, polling_interval_s=0.05)
    with rt:
        yield rt


def test_partitioned_queue_serialises_a_key_and_parallelises_keys(runtime):
    handles = [
        runtime.enqueue(QUEUE, partitioned_job, key, index, partition_key=key)
        for index in range(3)
        for key in ("creatio:Account:a", "creatio:Account:b")
    ]
    assert sorted(handle.result(timeout_s=DEADLINE_S) for handle in handles) == [0, 0, 1, 1, 2, 2]
    assert OVERLAP.max_per_key == 1
    assert OVERLAP.max_keys == 2


def test_enqueue_checks_the_partition_key_against_the_queue(runtime):
    with pytest.raises(ValueError, match="partition_key"):
        runtime.enqueue(QUEUE, echo_job, "x")
    with pytest.raises(ValueError, match="not partitioned"):
        runtime.enqueue(PLAIN_QUEUE, echo_job, "x", partition_key="k")
    with pytest.raises(ValueError, match="not registered"):
        runtime.enqueue("rt-no-such-queue", echo_job, "x")


def test_same_workflow_id_attaches_to_the_same_run(runtime):
    workflow_id = workflow_id_for("creatio:Account:c", 1)
    first = runtime.enqueue(PLAIN_QUEUE, echo_job, "first", workflow_id=workflow_id)
    second = runtime.enqueue(PLAIN_QUEUE, echo_job, "second", workflow_id=workflow_id)
    assert first.result(timeout_s=DEADLINE_S) == "first"
    assert second.result(timeout_s=DEADLINE_S) == "first"


def test_handle_reports_state_and_times_out_while_running(runtime):
    handle = runtime.start(gated_job, workflow_id="rt-gated-1")
    with pytest.raises(TimeoutError):
        handle.result(timeout_s=0.2)
    assert handle.status() is JobState.PENDING
    RELEASE.set()
    assert handle.result(timeout_s=DEADLINE_S) == "released"
    assert handle.status() is JobState.SUCCESS


def test_rows_and_jobs_commit_together(runtime, runtime_url):
    with runtime.transaction() as tx:
        tx.connection.execute(sa.text("CREATE TABLE IF NOT EXISTS rt_intake (key TEXT)"))
        tx.connection.execute(sa.text("INSERT INTO rt_intake VALUES ('creatio:Account:d')"))
        workflow_id = tx.enqueue(
            QUEUE, echo_job, "d", partition_key="creatio:Account:d", workflow_id="rt-tx-commit"
        )
    found = runtime.job(workflow_id)
    assert found is not None
    assert found.result(timeout_s=DEADLINE_S) == "d"
    assert _intake_keys(runtime_url) == ["creatio:Account:d"]


def test_rollback_drops_rows_and_jobs_together(runtime, runtime_url):
    with runtime.transaction() as tx:
        tx.connection.execute(sa.text("CREATE TABLE IF NOT EXISTS rt_intake (key TEXT)"))
    before = _intake_keys(runtime_url)
    with pytest.raises(RuntimeError, match="intake failed"):
        _intake_then_fail(runtime)
    assert runtime.job("rt-tx-rb") is None
    assert _intake_keys(runtime_url) == before


def _intake_then_fail(runtime: Runtime) -> None:
    with runtime.transaction() as tx:
        tx.connection.execute(sa.text("INSERT INTO rt_intake VALUES ('creatio:Account:e')"))
        tx.enqueue(QUEUE, echo_job, "e", partition_key="creatio:Account:e", workflow_id="rt-tx-rb")
        raise RuntimeError("intake failed")


def test_transaction_refuses_a_function_that_is_not_durable(runtime):
    with pytest.raises(TypeError, match="durable_workflow"), runtime.transaction() as tx:
        tx.enqueue(PLAIN_QUEUE, str.upper, "x")


def _intake_keys(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT key FROM rt_intake")).scalars())
    finally:
        engine.dispose()


def _fired_utc(name: str, start: datetime, end: datetime, runtime: Runtime) -> list[datetime]:
    with FIRED_LOCK:
        FIRED.clear()
    for handle in runtime.backfill(name, start, end):
        handle.result(timeout_s=DEADLINE_S)
    with FIRED_LOCK:
        # The live scheduler may fire too if the test runs at that hour: keep the window only.
        fired = [(at, ctx) for at, ctx in FIRED if start < at < end]
    assert {ctx for _, ctx in fired} == {name}
    return sorted(at.astimezone(UTC) for at, _ in fired)


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_schedule_keeps_local_time_across_both_dst_changes(runtime):
    runtime.schedule("rt-9am", "0 9 * * *", record_fire, tz=BERLIN, context="rt-9am")
    # Clocks go forward on 2026-03-29 and back on 2026-10-25 in Berlin.
    spring = _fired_utc("rt-9am", _utc(3, 27, 0), _utc(3, 31, 0), runtime)
    assert spring == [_utc(3, 27, 8), _utc(3, 28, 8), _utc(3, 29, 7), _utc(3, 30, 7)]
    autumn = _fired_utc("rt-9am", _utc(10, 23, 0), _utc(10, 27, 0), runtime)
    assert autumn == [_utc(10, 23, 7), _utc(10, 24, 7), _utc(10, 25, 8), _utc(10, 26, 8)]


def test_schedule_inside_the_changed_hour_follows_the_documented_rule(runtime):
    runtime.schedule("rt-0230", "30 2 * * *", record_fire, tz=BERLIN, context="rt-0230")
    # 02:30 does not exist on 2026-03-29: the run moves to 03:00 CEST, the end of the gap.
    spring = _fired_utc("rt-0230", _utc(3, 28, 12), _utc(3, 30, 12), runtime)
    assert spring == [_utc(3, 29, 1), _utc(3, 30, 0, 30)]
    # 02:30 happens twice on 2026-10-25 (CEST, then CET): the schedule fires on both.
    autumn = _fired_utc("rt-0230", _utc(10, 24, 12), _utc(10, 25, 12), runtime)
    assert autumn == [_utc(10, 25, 0, 30), _utc(10, 25, 1, 30)]


@pytest.mark.pg
def test_a_burst_of_enqueues_refreshes_the_queue_tables_statistics(pg_url):
    from syncloom.engine.runtime import migrate_runtime
    from syncloom.engine.runtime.runtime import ANALYZE_AFTER

    with _fresh_pg_database(pg_url) as url:
        migrate_runtime(url)
        engine = sa.create_engine(url)
        stats = sa.text(
            "SELECT last_analyze FROM pg_stat_user_tables "
            "WHERE schemaname = 'dbos' AND relname = 'workflow_status'"
        )
        try:
            runtime = Runtime(url, executor_id="rt-analyze")
            runtime._after_enqueues(engine, ANALYZE_AFTER - 1)
            with engine.connect() as conn:
                assert conn.execute(stats).scalar() is None  # not yet: under the threshold
            runtime._after_enqueues(engine, 1)
            deadline = time.monotonic() + 10
            with engine.connect() as conn:
                while conn.execute(stats).scalar() is None:  # the stats collector lags a little
                    assert time.monotonic() < deadline, "workflow_status was never analysed"
                    time.sleep(0.2)
                    conn.rollback()
        finally:
            engine.dispose()
