"""REST: config documents: versions, diff, rollback, export and import (YAML)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from syncloom.portal import configs
from syncloom.portal.auth import Admin, Viewer, deps_of
from syncloom.portal.configs import NAME_PATTERN, DiffLine, DocumentSummary, VersionView
from syncloom.portal.params import MAX_ID, RowId

router = APIRouter(prefix="/configs", tags=["config versions"])
Name = Annotated[str, Path(pattern=NAME_PATTERN)]


class Rollback(BaseModel):
    """Which version to restore, and why."""

    to_version: int = Field(ge=1, le=MAX_ID)
    comment: str = Field(default="", max_length=2000)


class Upload(BaseModel):
    """A whole document to save as the next version."""

    document: str = Field(max_length=1_000_000)
    comment: str = Field(default="", max_length=2000)


@router.get("")
def documents(request: Request, me: Viewer) -> list[DocumentSummary]:
    """Every config document with its newest version."""
    with deps_of(request).sessions() as session:
        return configs.list_documents(session, me.tenant_id)


@router.get("/{name}/versions")
def versions(request: Request, me: Viewer, name: Name) -> list[VersionView]:
    """Every version of a document, newest first."""
    with deps_of(request).sessions() as session:
        return [VersionView.of(row) for row in configs.history(session, me.tenant_id, name)]


@router.get("/{name}/versions/{version}")
def version(request: Request, me: Viewer, name: Name, version: RowId) -> VersionView:
    """One version with its text."""
    with deps_of(request).sessions() as session:
        row = configs.find_version(session, me.tenant_id, name, version)
        return VersionView.of(row, with_document=True)


@router.get("/{name}/diff")
def diff(
    request: Request,
    me: Viewer,
    name: Name,
    old: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    new: Annotated[int, Query(alias="to", ge=1, le=MAX_ID)],
) -> list[DiffLine]:
    """The unified diff between two versions."""
    with deps_of(request).sessions() as session:
        return configs.diff_versions(session, me.tenant_id, name, old, new)


@router.post("/{name}/rollback", status_code=201)
def rollback(request: Request, me: Admin, name: Name, body: Rollback) -> VersionView:
    """Save a new version equal to an old one."""
    with deps_of(request).sessions.begin() as session:
        return VersionView.of(configs.rollback(session, me, name, body.to_version, body.comment))


@router.get("/{name}/export", response_class=PlainTextResponse)
def export(
    request: Request,
    me: Viewer,
    name: Name,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> PlainTextResponse:
    """The document as YAML (newest version unless ``version`` is given)."""
    with deps_of(request).sessions() as session:
        rows = configs.history(session, me.tenant_id, name)
        number = version if version is not None else rows[0].version
        text = configs.find_version(session, me.tenant_id, name, number).document
    headers = {"Content-Disposition": f'attachment; filename="{name}-v{number}.yaml"'}
    return PlainTextResponse(text, media_type="application/yaml", headers=headers)


@router.post("/{name}/import", status_code=201)
def import_document(request: Request, me: Admin, name: Name, body: Upload) -> VersionView:
    """Validate a YAML document and save it as the next version."""
    with deps_of(request).sessions.begin() as session:
        row = configs.save_document(
            session, me, name, body.document, comment=body.comment, action="config.import"
        )
        return VersionView.of(row)
