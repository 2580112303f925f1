"""The scaled-out processes: ``syncloom worker``, ``syncloom web`` and ``syncloom recover``.

``syncloom run`` keeps everything in one process over SQLite. Scaled out, N workers (each with
a stable executor id) and M portals share one PostgreSQL database: the workers run the flows'
schedules, polls and record jobs (the queue hands each job to one worker, with row locks), the
portals only serve people. A worker that dies is resumed by its next start under the same
executor id; a worker that never comes back is taken over with ``syncloom recover`` or
``syncloom worker --take-over``. Neither process migrates the database: run
``syncloom db upgrade`` once per release, before starting them, so that two processes never
race to migrate.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from syncloom.commands.context import console, errors, fail
from syncloom.errors import ConfigError

if TYPE_CHECKING:
    from syncloom.control import QueuedControl
    from syncloom.engine.runtime import JobHandle, RuntimeClient
    from syncloom.node import Node
    from syncloom.settings import Settings
    from syncloom.vault import Vault

__all__ = ["recover", "register", "web", "worker"]

# How long a stopping worker waits for the jobs in flight before it leaves them to recovery.
STOP_TIMEOUT_S = 20.0

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides SYNCLOOM_DATABASE_URL.", show_default=False),
]
ExecutorId = Annotated[
    str | None,
    typer.Option("--executor-id", help="Overrides SYNCLOOM_EXECUTOR_ID.", show_default=False),
]
Concurrency = Annotated[
    int,
    typer.Option(
        min=1, max=512, help="Record jobs run at once by each worker (stored for every worker)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``worker``, ``web`` and ``recover`` to the main command."""
    app.command()(worker)
    app.command()(web)
    app.command()(recover)


def worker(
    database_url: DatabaseUrl = None,
    executor_id: ExecutorId = None,
    concurrency: Concurrency = 16,
    take_over: Annotated[
        list[str] | None,
        typer.Option(help="Also take over the pending work of this departed executor."),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Start, take over, then stop (for checks).")
    ] = False,
) -> None:
    """Run one worker: every tenant's schedules, polls and record jobs, without the portal."""
    settings, vault = _open(database_url, executor_id)
    _warn_default_executor(settings)
    node = _start_node(settings, vault, concurrency)
    try:
        if take_over:
            handles = _take_over(node, take_over)
            console.print(f"took over {len(handles)} pending run(s)", highlight=False)
        console.print(f"worker {settings.executor_id} is ready", highlight=False)
        if not once:
            _wait_for_stop()
    finally:
        _stop_within(node, STOP_TIMEOUT_S)
    _leave_now()


def web(database_url: DatabaseUrl = None) -> None:
    """Serve the portal only; workers elsewhere run the flows on the same database.

    Run now, dry run, backfill and replay are handed to the workers through the database's
    ``actions`` queue: the portal answers 202 with a job to follow at ``/api/jobs/{job}``.
    Webhooks (``POST /hooks/{tenant}/{connection}``) are stored and their record jobs queued
    in one transaction, for the workers to run.
    """
    from syncloom.engine.intake_api import intake_router
    from syncloom.portal.app import start

    settings, vault = _open(database_url, None)
    client = _runtime_client(settings)
    node = _routing_node(settings, vault)
    try:
        with errors():
            intake = node.intake(transaction=client.transaction)
            stop = start(
                settings,
                vault,
                engine=_queued_control(settings, vault, client),
                routers=[intake_router(intake)],
            )
        console.print(f"portal: http://{settings.web_host}:{settings.web_port}/", highlight=False)
        try:
            _wait_for_stop()
        finally:
            stop()
    finally:
        node.stop()
        client.close()


def recover(
    executor_ids: Annotated[
        list[str], typer.Argument(help="Executor ids of workers that will not come back.")
    ],
    database_url: DatabaseUrl = None,
    wait: Annotated[
        bool, typer.Option(help="Wait until the live workers have finished every run.")
    ] = True,
    timeout_s: Annotated[
        float, typer.Option("--timeout", min=1, help="Give up waiting after this many seconds.")
    ] = 600.0,
) -> None:
    """Hand the pending work of departed workers back to the queues for the live workers.

    Each run resumes on a live worker after its last checkpoint. This command runs nothing
    itself, so it is safe to run from anywhere. Never name a worker that is still up.
    """
    from syncloom.engine.runtime import recover_executors

    settings = _settings(database_url, None)
    with errors():
        _check_schema(settings)
    try:
        taken = recover_executors(settings.database_url, executor_ids)
    except ValueError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"took over {len(taken)} pending run(s) of {', '.join(executor_ids)}", highlight=False
    )
    if not wait:
        return
    left = _wait_final(settings.database_url, taken, timeout_s)
    if left:
        raise fail(f"{left} taken-over run(s) still unfinished after {timeout_s:.0f} s")
    console.print("every taken-over run has finished", highlight=False)


def _settings(database_url: str | None, executor_id: str | None) -> Settings:
    from syncloom.log import configure_logging
    from syncloom.settings import load_settings

    with errors():
        settings = load_settings(database_url=database_url, executor_id=executor_id)
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _open(database_url: str | None, executor_id: str | None) -> tuple[Settings, Vault]:
    """Settings, a schema check and the vault, failing with one line."""
    settings = _settings(database_url, executor_id)
    with errors():
        _check_schema(settings)
        return settings, _open_vault(settings)


def _check_schema(settings: Settings) -> None:
    """Refuse to start on a database another release migrated, or none has yet."""
    from syncloom.store import describe_url
    from syncloom.store.migrate import current_revision, head_revision

    have, want = current_revision(settings.database_url), head_revision()
    if have != want:
        raise ConfigError(
            f"the database {describe_url(settings.database_url)} is at revision {have or 'none'}, "
            f"this build needs {want}: run `syncloom db upgrade` once, then start the processes"
        )


def _open_vault(settings: Settings) -> Vault:
    from syncloom.store import make_engine
    from syncloom.vault import open_vault

    engine = make_engine(settings.database_url)
    try:
        return open_vault(settings, engine)
    finally:
        engine.dispose()


def _runtime_client(settings: Settings) -> RuntimeClient:
    """A client on the runtime's queues: actions, and record jobs from webhooks."""
    from syncloom.engine.actions import ACTION_QUEUE_SPEC
    from syncloom.engine.jobs import RECORD_QUEUE
    from syncloom.engine.runtime import QueueSpec, RuntimeClient

    queues = (ACTION_QUEUE_SPEC, QueueSpec(RECORD_QUEUE, partitioned=True))
    return RuntimeClient(settings.database_url, queues, app_version=settings.app_version)


def _routing_node(settings: Settings, vault: Vault) -> Node:
    """Every tenant's flows, without a runtime: to know which flows a webhook's hint wakes."""
    from syncloom.node import Node
    from syncloom.store import make_engine, session_factory

    node = Node(settings.database_url, session_factory(make_engine(settings.database_url)), vault)
    with errors():
        node.prepare()
    return node


def _queued_control(settings: Settings, vault: Vault, client: RuntimeClient) -> QueuedControl:
    from syncloom.control import QueuedControl
    from syncloom.store import make_engine, session_factory

    return QueuedControl(client, session_factory(make_engine(settings.database_url)), vault)


def _warn_default_executor(settings: Settings) -> None:
    if settings.executor_id == "local":
        console.print(
            "[yellow]warning:[/yellow] SYNCLOOM_EXECUTOR_ID is unset; give every worker its own "
            "stable id so that a restart resumes its own work and no other worker's",
            highlight=False,
            soft_wrap=True,
        )


def _start_node(settings: Settings, vault: Vault, concurrency: int) -> Node:
    from syncloom.engine.retry import RetryPolicy
    from syncloom.node import Node
    from syncloom.store import make_engine, session_factory

    node = Node(
        settings.database_url,
        session_factory(make_engine(settings.database_url)),
        vault,
        executor_id=settings.executor_id,
        worker_concurrency=concurrency,
        app_version=settings.app_version,
        retry=RetryPolicy(cap_s=settings.retry_cap_s),
    )
    with errors():
        node.start()
    return node


def _take_over(node: Node, executor_ids: Sequence[str]) -> list[JobHandle[object]]:
    assert node.runtime is not None
    try:
        return node.runtime.recover(executor_ids)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _wait_final(database_url: str, workflow_ids: Sequence[str], timeout_s: float) -> int:
    """Wait until every run has ended; returns how many had not by the deadline."""
    from syncloom.engine.runtime import unfinished_runs

    deadline = time.monotonic() + timeout_s
    waiting = list(workflow_ids)
    while waiting:
        waiting = unfinished_runs(database_url, waiting)
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return len(waiting)


def _stop_within(node: Node, timeout_s: float) -> None:
    """Stop the node; if jobs in flight keep it from stopping in time, leave anyway.

    Leaving is safe: a run cut short resumes from its last checkpoint when a worker with this
    executor id starts again (or when another takes it over).
    """
    stopper = threading.Thread(target=node.stop, name="syncloom-stop", daemon=True)
    stopper.start()
    stopper.join(timeout_s)
    if stopper.is_alive():
        console.print(
            f"[yellow]warning:[/yellow] jobs in flight did not stop within {timeout_s:.0f} s; "
            "leaving them to resume at this worker's next start",
            highlight=False,
            soft_wrap=True,
        )
        sys.stdout.flush()
        os._exit(0)


def _leave_now() -> None:
    """End the process once the node has stopped, without joining stray threads.

    Interpreter shutdown joins every non-daemon thread, including the executor threads of
    blocking calls a stopped node no longer waits for (a database call behind a lock, a
    vendor call in its timeout); a service manager would see a worker that ignores SIGTERM.
    Nothing is lost by leaving: every run resumes from its last checkpoint.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM (what a service manager sends)."""

    def _interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        signal.pause()
    except KeyboardInterrupt:
        console.print("stopping", highlight=False)
