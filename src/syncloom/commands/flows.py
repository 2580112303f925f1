"""``syncloom flows``: list, import, export and run the flows of an installation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

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


@flows_app.command("solution")
def import_solution(
    name: Annotated[str, typer.Argument(help="creatio_intacct or creatio_d365.")],
    option: Annotated[
        list[str] | None,
        typer.Option(help="A choice as key=value, e.g. opportunity_target=sales_order (repeat)."),
    ] = None,
    connection: Annotated[
        list[str] | None,
        typer.Option(help="Rename a shipped Connection as shipped=yours (repeat)."),
    ] = None,
    entity_connection: Annotated[
        list[str] | None,
        typer.Option(help="Write one entity through its own Connection: E100=name (repeat)."),
    ] = None,
    only: Annotated[list[str] | None, typer.Option(help="Keep just this flow (repeat).")] = None,
    comment: Annotated[str, typer.Option(help="Why this version.")] = "",
    author: Annotated[str, typer.Option(help="Who saves it.")] = "cli",
    tenant: TenantOption = None,
) -> None:
    """Save a packaged Solution, with its options applied, as a new flow document version."""
    from syncloom.engine.flows import dump_flows
    from syncloom.node import FLOWS_DOCUMENT
    from syncloom.solutions import load_solution
    from syncloom.store.config_versions import ConfigVersions

    with errors():
        document = load_solution(
            name,
            connections=_pairs(connection, "--connection"),
            entity_connections=_pairs(entity_connection, "--entity-connection"),
            only=tuple(only) if only else None,
            # Choices are keyword arguments by design; their names are checked on load.
            **cast("dict[str, Any]", _pairs(option, "--option")),
        )
    ctx = open_context(tenant)
    with ctx.sessions.begin() as session:
        saved = ConfigVersions(session).save(
            ctx.tenant_id,
            FLOWS_DOCUMENT,
            dump_flows(document),
            author=author,
            comment=comment or f"Solution {name}",
        )
        out.print(
            f"{name}: {len(document.flows)} flows saved as version {saved.version}",
            highlight=False,
        )


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise fail(f"{option} {value!r} is not key=value")
        pairs[key] = rest
    return pairs


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


def _started_node(ctx: Context) -> Any:
    from syncloom.node import Node

    node = Node(ctx.database_url, ctx.sessions, ctx.vault)
    with errors():
        node.start()
    return node


@flows_app.command("backfill")
def backfill(
    flow: Annotated[str, typer.Argument(help="The flow to load.")],
    since: Annotated[
        str | None, typer.Option(help="Only records changed since (ISO date, UTC).")
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Load a flow in pages (everything, or what changed since a date), with a progress bar."""
    from datetime import UTC, datetime

    from rich.progress import Progress, TextColumn

    from syncloom.engine.bulk import BulkLoad
    from syncloom.engine.jobs import installation

    start = None
    if since:
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError:
            raise fail(f"--since {since!r} is not an ISO date") from None
    ctx = open_context(tenant)
    node = _started_node(ctx)
    try:
        with errors(), Progress(TextColumn("{task.description}")) as progress:
            task = progress.add_task(f"{flow}: starting")

            def show(state: Any) -> None:
                counts = ", ".join(f"{k} {v}" for k, v in sorted(state.counts.items()))
                progress.update(
                    task, description=f"{flow}: page {state.pages}, read {state.read} ({counts})"
                )

            load = BulkLoad.for_flow(installation(ctx.tenant_id), flow)
            run = node.bridge.run(load.run(since=start, progress=show))
        out.print(f"run {run.id}: {run.status.value} {run.counts}", highlight=False)
    finally:
        node.stop()


@flows_app.command("dry-run")
def dry_run(
    flow: Annotated[str, typer.Argument(help="The flow to try.")],
    tenant: TenantOption = None,
) -> None:
    """Report what a load of the flow would create, update, match and send to review."""
    import json

    from syncloom.control import NodeControl

    ctx = open_context(tenant)
    node = _started_node(ctx)
    try:
        with errors():
            report = NodeControl(node).dry_run(ctx.tenant_id, flow)
    finally:
        node.stop()
    out.print_json(json.dumps(report, default=str))


@flows_app.command("reconcile")
def reconcile(
    flow: Annotated[str, typer.Argument(help="The flow to reconcile.")],
    tenant: TenantOption = None,
) -> None:
    """Compare both sides of a flow: counts, sums, unmatched keys, mismatched fields."""
    reconcile_flow(flow, tenant)


def reconcile_flow(flow: str, tenant: str | None) -> None:
    """Print the reconciliation report of one flow."""
    import json

    from syncloom.engine.jobs import installation
    from syncloom.engine.reconcile import Reconciler

    ctx = open_context(tenant)
    node = _started_node(ctx)
    try:
        with errors():
            reconciler = Reconciler.for_flow(installation(ctx.tenant_id), flow)
            report = node.bridge.run(reconciler.report())
    finally:
        node.stop()
    out.print_json(json.dumps(report.as_dict(), default=str))
