"""REST: dead letters (the portal calls them "Needs attention")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from syncloom.portal import dead_letters as letters
from syncloom.portal.auth import Operator, Viewer, deps_of
from syncloom.portal.control import Queued
from syncloom.portal.dead_letters import DeadLetterFilter, DeadLetterView
from syncloom.portal.params import ItemId, RowId

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])


class Overrides(BaseModel):
    """Field values the next replay writes instead of the mapped ones."""

    overrides: dict[str, Any]


class Selection(BaseModel):
    """Which dead letters to act on."""

    ids: list[ItemId] = Field(min_length=1, max_length=1000)


class Replayed(BaseModel):
    """The dead letters the engine took back, or the job of the worker that will."""

    replayed: list[int]
    job: str | None = None


def _replayed(response: Response, outcome: list[int] | Queued) -> Replayed:
    if isinstance(outcome, Queued):
        response.status_code = 202  # a worker replays them: follow GET /api/jobs/{job}
        return Replayed(replayed=[], job=outcome.job)
    return Replayed(replayed=outcome)


@router.get("")
def dead_letters(
    request: Request, me: Viewer, query: Annotated[DeadLetterFilter, Query()]
) -> list[DeadLetterView]:
    """List dead letters (open ones by default), newest first."""
    with deps_of(request).sessions() as session:
        rows = letters.list_letters(session, me.tenant_id, query)
        return [DeadLetterView.of(row, deps_of(request).vault) for row in rows]


@router.post("/replay", response_model_exclude_none=True)
def replay_many(request: Request, response: Response, me: Operator, body: Selection) -> Replayed:
    """Replay several open dead letters at once (202 with a job when a worker will)."""
    return _replayed(response, letters.replay(deps_of(request), me, body.ids))


@router.get("/{letter_id}")
def dead_letter(request: Request, me: Viewer, letter_id: RowId) -> DeadLetterView:
    """One dead letter with its payload and error."""
    with deps_of(request).sessions() as session:
        return DeadLetterView.of(
            letters.find_letter(session, me.tenant_id, letter_id), deps_of(request).vault
        )


@router.patch("/{letter_id}")
def edit_dead_letter(
    request: Request, me: Operator, letter_id: RowId, body: Overrides
) -> DeadLetterView:
    """Store field overrides applied when the dead letter is replayed."""
    deps = deps_of(request)
    letters.edit(deps, me, letter_id, body.overrides)
    with deps.sessions() as session:
        return DeadLetterView.of(
            letters.find_letter(session, me.tenant_id, letter_id), deps_of(request).vault
        )


@router.post("/{letter_id}/replay", response_model_exclude_none=True)
def replay_one(request: Request, response: Response, me: Operator, letter_id: RowId) -> Replayed:
    """Replay one open dead letter (202 with a job when a worker will)."""
    return _replayed(response, letters.replay(deps_of(request), me, [letter_id]))


@router.post("/{letter_id}/dismiss", status_code=204)
def dismiss_dead_letter(request: Request, me: Operator, letter_id: RowId) -> None:
    """Close a dead letter without syncing it."""
    letters.dismiss(deps_of(request), me, letter_id)
