"""Config-version pages: documents, history, diff, rollback, export and import."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal import configs
from syncloom.portal.auth import Admin, Principal, Viewer, deps_of
from syncloom.portal.configs import NAME_PATTERN, VersionView
from syncloom.portal.params import RowId, parse_id
from syncloom.portal.problems import Invalid, Missing
from syncloom.portal.rendering import redirect, render

router = APIRouter(include_in_schema=False)


def _checked_name(name: str) -> str:
    if not re.match(NAME_PATTERN, name):
        raise Missing(f"no config document {name!r}")
    return name


def _index(
    request: Request, me: Principal, *, form: dict[str, Any] | None = None, errors: Any = None
) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        documents = configs.list_documents(session, me.tenant_id)
    return render(
        request,
        "configs.html",
        me,
        status_code=422 if errors else 200,
        documents=documents,
        form=form or {},
        errors=errors or {},
    )


@router.get("/configs", response_class=HTMLResponse)
def configs_page(request: Request, me: Viewer) -> Response:
    """Every config document, and the import form."""
    return _index(request, me)


@router.post("/configs/import")
async def import_document(request: Request, me: Admin) -> Response:
    """Import a YAML document (pasted or uploaded) as the next version."""
    form = await request.form()
    name = str(form.get("name", "")).strip()
    upload = form.get("file")
    text = str(form.get("document", ""))
    if upload is not None and not isinstance(upload, str) and upload.filename:
        text = (await upload.read()).decode("utf-8", errors="replace")
    comment = str(form.get("comment", ""))
    shown = {"name": name, "document": text, "comment": comment}
    try:
        with deps_of(request).sessions.begin() as session:
            row = configs.save_document(
                session, me, name, text, comment=comment, action="config.import"
            )
            version = row.version
    except Invalid as exc:
        return _index(request, me, form=shown, errors=exc.by_field())
    return redirect(request, f"/configs/{name}", f"Imported {name} as version {version}.")


@router.get("/configs/{name}", response_class=HTMLResponse)
def history_page(request: Request, me: Viewer, name: str) -> Response:
    """Every version of one document, with diff, rollback and export."""
    with deps_of(request).sessions() as session:
        rows = [
            VersionView.of(r) for r in configs.history(session, me.tenant_id, _checked_name(name))
        ]
    return render(request, "config_history.html", me, name=name, versions=rows)


@router.get("/configs/{name}/diff", response_class=HTMLResponse)
def diff_page(request: Request, me: Viewer, name: str) -> Response:
    """The diff between two versions (``from`` and ``to`` in the query)."""
    try:
        old, new = parse_id(request.query_params["from"]), parse_id(request.query_params["to"])
    except (KeyError, ValueError):
        return redirect(request, f"/configs/{name}", "Choose two versions to compare.", "error")
    with deps_of(request).sessions() as session:
        lines = configs.diff_versions(session, me.tenant_id, _checked_name(name), old, new)
    return render(request, "config_diff.html", me, name=name, old=old, new=new, lines=lines)


@router.get("/configs/{name}/versions/{version}", response_class=HTMLResponse)
def version_page(request: Request, me: Viewer, name: str, version: RowId) -> Response:
    """One version's text."""
    with deps_of(request).sessions() as session:
        row = configs.find_version(session, me.tenant_id, _checked_name(name), version)
        view = VersionView.of(row, with_document=True)
    return render(request, "config_version.html", me, version=view)


@router.post("/configs/{name}/rollback")
async def rollback(request: Request, me: Admin, name: str) -> Response:
    """Restore an old version as a new one."""
    form = await request.form()
    try:
        to_version = parse_id(form.get("to_version", ""))
    except ValueError:
        return redirect(request, f"/configs/{name}", "to_version: not a version", "error")
    with deps_of(request).sessions.begin() as session:
        row = configs.rollback(
            session, me, _checked_name(name), to_version, str(form.get("comment", ""))
        )
        version = row.version
    message = f"Rolled {name} back to version {to_version} (saved as version {version})."
    return redirect(request, f"/configs/{name}", message)
