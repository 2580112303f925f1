"""Rendering: Jinja2 pages with the caller, the CSRF token and a one-shot flash message.

Templates and static files ship inside the package, so the portal works offline.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from syncloom.portal.auth import Principal, deps_of, is_secure

__all__ = ["TEMPLATES", "redirect", "render"]

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
FLASH_COOKIE = "syncloom_flash"


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page; a pending flash message is shown once and then cleared."""
    deps = deps_of(request)
    flash = deps.signer.read(request.cookies.get(FLASH_COOKIE), now=deps.clock.now_utc())
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {"me": principal, "csrf": principal.csrf if principal else "", "flash": flash, **context},
        status_code=status_code,
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, message: str = "", kind: str = "ok") -> RedirectResponse:
    """See-other to ``url``, carrying a flash message for the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        deps = deps_of(request)
        expires = deps.clock.now_utc() + timedelta(minutes=5)
        value = deps.signer.sign({"m": message[:500], "k": kind}, expires_at=expires)
        response.set_cookie(
            FLASH_COOKIE, value, httponly=True, samesite="lax", secure=is_secure(request), path="/"
        )
    return response
