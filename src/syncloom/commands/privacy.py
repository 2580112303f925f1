"""``syncloom privacy``: purge history past its retention, erase one person's data."""

from __future__ import annotations

from typing import Annotated

import typer

from syncloom.commands.context import TenantOption, errors, fail, open_context, out

privacy_app = typer.Typer(
    help="Data protection: purge old history, erase a person's data.", no_args_is_help=True
)


@privacy_app.command("purge")
def purge(
    tenant: TenantOption = None,
    days: Annotated[
        int | None,
        typer.Option(help="Keep this many days (default: the tenant's privacy document)."),
    ] = None,
) -> None:
    """Remove record log entries, closed dead letters and webhook hints past the retention."""
    from datetime import timedelta

    from syncloom.engine.clock import SystemClock
    from syncloom.engine.privacy import purge as purge_history
    from syncloom.engine.privacy import retention_of

    ctx = open_context(tenant)
    with errors():
        retention = timedelta(days=days) if days is not None else None
        retention = retention or retention_of(ctx.sessions, ctx.tenant_id)
    if retention is None or retention <= timedelta(0):
        raise fail("no retention period: set retention_days in the privacy document or --days")
    report = purge_history(
        ctx.sessions, ctx.tenant_id, SystemClock().now_utc(), retention, actor="cli"
    )
    out.print(
        f"purged {report.record_log} record log entries, {report.dead_letters} closed "
        f"dead letters and {report.intake_events} webhook hints older than "
        f"{report.cutoff.isoformat()}",
        highlight=False,
    )


@privacy_app.command("erase")
def erase(
    tenant: TenantOption = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="A record key, e.g. creatio:Contact:<id>.")
    ] = None,
) -> None:
    """Remove a person's data from the record log, dead letters, write ledger and links."""
    from syncloom.engine.erasure import erase as erase_person

    ctx = open_context(tenant)
    with errors():
        report = erase_person(
            ctx.sessions, ctx.tenant_id, ctx.vault, email=email, record_key=record, actor="cli"
        )
    out.print(
        f"erased {len(report.record_keys)} record(s): {report.record_log} record log entries, "
        f"{report.dead_letters} dead letters, {report.ledger} ledger entries, "
        f"{report.links} link snapshots",
        highlight=False,
    )
