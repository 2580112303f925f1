"""Problems: the portal's refusals and how each reaches a script (JSON) or a person (a page).

API answers are JSON with a ``detail``; a bad field is named in ``detail[i].field`` so a
script can point at it. Pages redirect to sign-in or show a short error page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from syncloom.errors import ConfigError

__all__ = [
    "FieldProblem",
    "Forbidden",
    "Invalid",
    "Missing",
    "NotSignedIn",
    "Unavailable",
    "install_handlers",
    "problems_of",
]


class NotSignedIn(Exception):  # noqa: N818 - reads as the condition, like HTTP's own names
    """No valid session cookie or API token came with the request."""


class Forbidden(Exception):  # noqa: N818
    """The signed-in user's role does not allow this, or the CSRF token is wrong."""


class Missing(Exception):  # noqa: N818
    """No such thing in the user's tenant (another tenant's ids look exactly like this)."""


class Unavailable(Exception):  # noqa: N818
    """A system the portal had to ask did not answer (or refused); the message says which."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One bad input field and what is wrong with it."""

    field: str
    message: str


class Invalid(Exception):  # noqa: N818
    """The input has problems; nothing was saved."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    def by_field(self) -> dict[str, str]:
        """The first message for each field, for a form to show beside it."""
        found: dict[str, str] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem.message)
        return found


def problems_of(exc: PydanticValidationError, prefix: str = "") -> Invalid:
    """Turn a pydantic validation error into :class:`Invalid`, naming each field."""
    problems = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "body"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(FieldProblem(prefix + location, message))
    return Invalid(problems)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _answer(request: Request, status: int, detail: str) -> Response:
    if _is_api(request):
        return _json(status, detail)
    page = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{html.escape(detail)}</p>"
    return HTMLResponse(page + '<p><a href="/">Back to the dashboard</a></p>', status_code=status)


def install_handlers(app: FastAPI) -> None:
    """Register how each refusal is answered."""

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if _is_api(request):
            return _json(401, "sign in, or send an API token as 'Authorization: Bearer ...'")
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _answer(request, 403, str(exc) or "your role does not allow this")

    @app.exception_handler(Missing)
    async def missing(request: Request, exc: Missing) -> Response:
        return _answer(request, 404, str(exc) or "not found")

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Response:
        return _answer(request, 502, str(exc))

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid) -> Response:
        detail = [{"field": p.field, "message": p.message} for p in exc.problems]
        return _json(422, detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"])}
            for e in exc.errors()
        ]
        return _json(422, detail)

    @app.exception_handler(ConfigError)
    async def refused(request: Request, exc: ConfigError) -> Response:
        return _answer(request, 409, exc.message)
