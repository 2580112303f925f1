"""Dead-letter pages: filter, read payload and error, edit, replay (one or many), dismiss."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from syncloom.portal import dead_letters as letters
from syncloom.portal.auth import Operator, Principal, Viewer, deps_of
from syncloom.portal.control import Queued
from syncloom.portal.dead_letters import DeadLetterFilter, DeadLetterView
from syncloom.portal.forms import parse
from syncloom.portal.params import RowId, parse_id
from syncloom.portal.problems import FieldProblem, Invalid
from syncloom.portal.rendering import redirect, render
from syncloom.store.models import DeadLetterStatus

router = APIRouter(include_in_schema=False)


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, me: Viewer) -> Response:
    """Dead letters with filters and bulk replay."""
    raw: dict[str, Any] = {k: v for k, v in request.query_params.items() if v != ""}
    if request.query_params.get("status") == "any":
        raw["status"] = None
    errors: dict[str, str] = {}
    try:
        query = parse(DeadLetterFilter, raw)
    except Invalid as exc:
        errors, query = exc.by_field(), DeadLetterFilter()
    with deps_of(request).sessions() as session:
        rows = [
            DeadLetterView.of(r, deps_of(request).vault)
            for r in letters.list_letters(session, me.tenant_id, query)
        ]
    return render(
        request,
        "dead_letters.html",
        me,
        letters=rows,
        query=query,
        errors=errors,
        statuses=[str(s) for s in DeadLetterStatus],
    )


@router.post("/dead-letters/replay")
async def replay_many(request: Request, me: Operator) -> Response:
    """Replay the ticked dead letters."""
    form = await request.form()
    try:
        ids = [parse_id(value) for value in form.getlist("ids")]
        replayed = letters.replay(deps_of(request), me, ids)
    except ValueError:
        return redirect(request, "/dead-letters", "ids: not a dead-letter id", "error")
    except Invalid as exc:
        return redirect(request, "/dead-letters", str(exc), "error")
    if isinstance(replayed, Queued):
        text = f"Replay of {len(ids)} dead letter(s) queued as {replayed.job}; a worker runs it."
        return redirect(request, "/dead-letters", text)
    return redirect(request, "/dead-letters", f"Replayed {len(replayed)} dead letter(s).")


def _detail(
    request: Request, me: Principal, letter_id: RowId, *, overrides: str = "", errors: Any = None
) -> HTMLResponse:
    with deps_of(request).sessions() as session:
        view = DeadLetterView.of(
            letters.find_letter(session, me.tenant_id, letter_id), deps_of(request).vault
        )
    shown = overrides or json.dumps(view.payload.get("overrides", {}), indent=2)
    return render(
        request,
        "dead_letter.html",
        me,
        status_code=422 if errors else 200,
        letter=view,
        payload=json.dumps(view.payload, indent=2, sort_keys=True, default=str),
        overrides=shown,
        errors=errors or {},
    )


@router.get("/dead-letters/{letter_id}", response_class=HTMLResponse)
def dead_letter_page(request: Request, me: Viewer, letter_id: RowId) -> Response:
    """One dead letter: payload, error, and the actions on it."""
    return _detail(request, me, letter_id)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Invalid([FieldProblem("overrides", "must be a JSON object of field values")])
    return value


@router.post("/dead-letters/{letter_id}/edit")
async def edit_dead_letter(request: Request, me: Operator, letter_id: RowId) -> Response:
    """Save field overrides (a JSON object) for the next replay."""
    text = str((await request.form()).get("overrides", ""))
    try:
        letters.edit(deps_of(request), me, letter_id, _json_object(text))
    except Invalid as exc:
        return _detail(request, me, letter_id, overrides=text, errors=exc.by_field())
    return redirect(request, f"/dead-letters/{letter_id}", "Overrides saved.")


@router.post("/dead-letters/{letter_id}/replay")
def replay_one(request: Request, me: Operator, letter_id: RowId) -> Response:
    """Replay one dead letter."""
    try:
        outcome = letters.replay(deps_of(request), me, [letter_id])
    except Invalid as exc:
        return redirect(request, f"/dead-letters/{letter_id}", str(exc), "error")
    if isinstance(outcome, Queued):
        text = f"Replay of dead letter {letter_id} queued as {outcome.job}; a worker runs it."
        return redirect(request, "/dead-letters", text)
    return redirect(request, "/dead-letters", f"Dead letter {letter_id} replayed.")


@router.post("/dead-letters/{letter_id}/dismiss")
def dismiss_one(request: Request, me: Operator, letter_id: RowId) -> Response:
    """Dismiss one dead letter."""
    try:
        letters.dismiss(deps_of(request), me, letter_id)
    except Invalid as exc:
        return redirect(request, f"/dead-letters/{letter_id}", str(exc), "error")
    return redirect(request, "/dead-letters", f"Dead letter {letter_id} dismissed.")
