"""``syncloom flows``: list, import, export and run the flows of an installation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from syncloom.commands.context import Context, TenantOption, errors, fail, open_context, out

flows_app = typer.Typer(help="Flows: list, import, export, run.", no_args_is_help=True)


def _document(ctx: Context) -> Any:
    from syncloom.engine.flows import load_flows
    from syncloom.node import FLOWS_DOCUMENT
    from syncloom.store.config_versions import ConfigVersions

    with ctx.sessions() as session:
        saved = ConfigVersions(session).latest(ctx.tenant_id, FLOWS_DOCUMENT)
        if saved is None:
            raise fail("no flows yet; import a document with `syncloom flows import FILE`")
        with errors():
            return load_flows(saved.document), saved.version


@flows_app.command("list")
def list_flows(tenant: TenantOption = None) -> None:
    """List the flows of the newest saved flow document."""
    ctx = open_context(tenant)
    document, version = _document(ctx)
    table = Table(
        "flow",
        "source",
        "target",
        "direction",
        "schedule",
        "conflict",
        "delete",
        title=f"flows (version {version})",
    )
    for flow in document.flows:
        schedule = f"{flow.schedule.cron} {flow.schedule.timezone}" if flow.schedule else "-"
        table.add_row(
            flow.name,
            f"{flow.source.connection}:{flow.source.entity}",
            f"{flow.target.connection}:{flow.target.entity}",
            flow.direction.value,
            schedule,
            flow.conflict.value,
            flow.delete.value,
        )
    out.print(table)


@flows_app.command("import")
def import_flows(
    path: Annotated[Path, typer.Argument(help="A flow document (YAML).")],
    comment: Annotated[str, typer.Option(help="Why this version.")] = "",
    author: Annotated[str, typer.Option(help="Who saves it.")] = "cli",
    tenant: TenantOption = None,
) -> None:
    """Validate a flow document and save it as a new version."""
    from syncloom.engine.flows import load_flows
    from syncloom.node import FLOWS_DOCUMENT
    from syncloom.store.config_versions import ConfigVersions

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    with errors():
        load_flows(text)
    ctx = open_context(tenant)
    with ctx.sessions.begin() as session:
        saved = ConfigVersions(session).save(
            ctx.tenant_id, FLOWS_DOCUMENT, text, author=author, comment=comment
        )
        out.print(f"flows saved as version {saved.version}", highlight=False)


@flows_app.command("export")
def export_flows(tenant: TenantOption = None) -> None:
    """Print the newest flow document as YAML."""
    from syncloom.engine.flows import dump_flows

    document, _ = _document(open_context(tenant))
    out.print(dump_flows(document), highlight=False, markup=False)


@flows_app.command("run")
def run_flow(
    flow: Annotated[str, typer.Argument(help="The flow to poll now.")],
    tenant: TenantOption = None,
    timeout_s: Annotated[float, typer.Option(help="How long to wait for the jobs.")] = 600.0,
) -> None:
    """Poll a flow now and wait until every record job it started has finished."""
    from syncloom.node import Node

    ctx = open_context(tenant)
    node = Node(ctx.database_url, ctx.sessions, ctx.vault)
    with errors():
        node.start()
    try:
        with errors():
            report = node.poll_now(ctx.tenant_id, flow).result(timeout_s)
            outcomes = _wait_all(node, report["job_ids"], timeout_s)
    finally:
        node.stop()
    table = Table("read", "enqueued", *sorted(outcomes), title=f"flow {flow}")
    table.add_row(
        str(report["read"]), str(report["enqueued"]), *[str(outcomes[k]) for k in sorted(outcomes)]
    )
    out.print(table)


def _wait_all(node: Any, job_ids: list[str], timeout_s: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job_id in job_ids:
        handle = node.runtime.job(job_id)
        if handle is None:
            continue
        result = handle.result(timeout_s) or {}
        action = str(result.get("action", "done"))
        counts[action] = counts.get(action, 0) + 1
    return counts
