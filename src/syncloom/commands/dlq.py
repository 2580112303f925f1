"""``syncloom dlq``: read, replay and dismiss dead letters."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from syncloom.commands.context import Context, TenantOption, errors, open_context, out

if TYPE_CHECKING:
    from syncloom.engine.dead_letters import DeadLetterQueue

dlq_app = typer.Typer(help="Dead letters: list, show, replay, dismiss.", no_args_is_help=True)


def _queue(tenant: str | None) -> tuple[Context, DeadLetterQueue]:
    from syncloom.engine.clock import SystemClock
    from syncloom.engine.dead_letters import DeadLetterQueue

    ctx = open_context(tenant)
    return ctx, DeadLetterQueue(ctx.sessions, ctx.tenant_id, SystemClock(), ctx.vault)


@dlq_app.command("list")
def list_letters(
    tenant: TenantOption = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
    status: Annotated[
        str, typer.Option(help="open, replayed, dismissed, resolved or all.")
    ] = "open",
) -> None:
    """List dead letters, newest first."""
    from syncloom.store.models import DeadLetterStatus

    _, queue = _queue(tenant)
    with errors():
        wanted = None if status == "all" else DeadLetterStatus(status)
    table = Table("id", "flow", "record", "error", "attempts", "status")
    for letter in queue.list(status=wanted, flow=flow):
        table.add_row(
            str(letter.id),
            letter.flow,
            letter.record_key,
            letter.error_class,
            str(letter.attempts),
            letter.status.value,
        )
    out.print(table)


@dlq_app.command("show")
def show(letter_id: int, tenant: TenantOption = None) -> None:
    """Show one dead letter: the error text and the payload."""
    _, queue = _queue(tenant)
    with errors():
        letter = queue.get(letter_id)
    out.print(f"{letter.record_key} ({letter.flow}) — {letter.status.value}", highlight=False)
    out.print(f"{letter.error_class}: {letter.error_text}", highlight=False, markup=False)
    out.print_json(json.dumps(letter.payload, default=str))


@dlq_app.command("replay")
def replay(
    letter_ids: Annotated[list[int], typer.Argument(help="One or more dead letter ids.")],
    set_value: Annotated[list[str], typer.Option("--set", help="Override FIELD=VALUE.")] = [],  # noqa: B006
    tenant: TenantOption = None,
    timeout_s: Annotated[float, typer.Option(help="How long to wait for each run.")] = 300.0,
) -> None:
    """Replay dead letters (optionally with field overrides) and wait for the outcome."""
    from syncloom.engine.jobs import replay_dead_letter
    from syncloom.node import Node

    ctx, queue = _queue(tenant)
    overrides = dict(item.partition("=")[::2] for item in set_value)
    node = Node(ctx.database_url, ctx.sessions, ctx.vault)
    with errors():
        node.start()
    try:
        for letter_id in letter_ids:
            with errors():
                if overrides:
                    queue.edit(letter_id, overrides)
                assert node.runtime is not None
                job = replay_dead_letter(node.runtime, ctx.tenant_id, letter_id)
                handle = node.runtime.job(job)
                result: dict[str, Any] = {}
                if handle is not None:
                    result = dict(handle.result(timeout_s) or {})  # type: ignore[call-overload]
            out.print(
                f"{letter_id}: {result.get('action')} {result.get('error') or ''}", highlight=False
            )
    finally:
        node.stop()


@dlq_app.command("dismiss")
def dismiss(letter_ids: list[int], tenant: TenantOption = None) -> None:
    """Close dead letters without syncing them."""
    _, queue = _queue(tenant)
    for letter_id in letter_ids:
        with errors():
            queue.dismiss(letter_id)
        out.print(f"{letter_id}: dismissed", highlight=False)
