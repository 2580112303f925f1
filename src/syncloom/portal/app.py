"""The portal app: REST API, pages and static assets in one FastAPI application.

Example::

    app = create_app(PortalDeps(sessions=sessions, vault=vault, engine=my_engine))
    serve("127.0.0.1", 8600, app)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from syncloom.portal.auth import Viewer
from syncloom.portal.control import EngineControl
from syncloom.portal.deps import PortalDeps
from syncloom.portal.problems import install_handlers
from syncloom.portal.rendering import HERE, render
from syncloom.portal.routes import include_routes
from syncloom.settings import Settings
from syncloom.vault import Vault

__all__ = ["create_app", "deps_from_settings", "serve", "start"]


def deps_from_settings(settings: Settings, *, engine: EngineControl | None = None) -> PortalDeps:
    """Open the database and the vault named by ``settings``.

    Raises:
        ConfigError: bad database URL or master key.
        VaultError: the master key does not open the stored credentials.
    """
    from syncloom.store.db import make_engine, session_factory
    from syncloom.vault import open_vault

    database = make_engine(settings.database_url)
    deps = PortalDeps(sessions=session_factory(database), vault=open_vault(settings, database))
    if engine is not None:
        deps.engine = engine
    return deps


# Every asset is our own: scripts only from this origin, no frames, forms post back here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


async def _harden(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def create_app(config: Settings | PortalDeps, *, engine: EngineControl | None = None) -> FastAPI:
    """Build the portal.

    Args:
        config: the process settings (the database and vault are opened from them), or the
            collaborators themselves.
        engine: the engine's controls; replaces ``config.engine`` when given.

    Returns:
        The ASGI app: pages at ``/``, the REST API at ``/api``, its reference at ``/docs``.
    """
    deps = config if isinstance(config, PortalDeps) else deps_from_settings(config)
    if engine is not None:
        deps.engine = engine
    app = FastAPI(
        title="syncloom",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        description="Operate syncloom: connections, flows, runs, dead letters, config, alerts.",
    )
    app.state.deps = deps
    app.middleware("http")(_harden)
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    include_routes(app)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def api_reference(request: Request, me: Viewer) -> Response:
        # Our own page: the stock one loads its scripts from a CDN, and the portal runs offline.
        return render(request, "docs.html", me, spec=app.openapi())

    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8600,
    config: Settings | PortalDeps | FastAPI | None = None,
    *,
    engine: EngineControl | None = None,
    **uvicorn_options: Any,
) -> None:
    """Serve the portal in the foreground until interrupted.

    Args:
        host: the address to listen on (loopback unless you mean to expose it).
        port: the port.
        config: settings, collaborators or a ready app; default: settings from the environment.
        engine: the engine's controls (ignored when ``config`` is an app).
        **uvicorn_options: passed to :func:`uvicorn.run` (e.g. ``ssl_certfile``).

    Raises:
        ConfigError: bad settings, database URL or master key.
    """
    import uvicorn

    from syncloom.settings import load_settings

    if config is None:
        config = load_settings()
    app = config if isinstance(config, FastAPI) else create_app(config, engine=engine)
    uvicorn_options.setdefault("log_level", "warning")
    uvicorn.run(app, host=host, port=port, **uvicorn_options)


def start(
    settings: Settings,
    vault: Vault,
    *,
    engine: EngineControl | None = None,
    routers: Sequence[APIRouter] = (),
) -> Callable[[], None]:
    """Start the portal in the background on ``settings.web_host:web_port``; return a stopper.

    This is how ``syncloom run`` starts the portal next to the runtime, with the vault it has
    already opened and checked. ``routers`` are mounted beside the portal (the webhook
    intake, which authenticates its deliveries by signature rather than by session).

    Raises:
        ConfigError: the port is taken or the server did not come up.
    """
    from syncloom.portal.server import PortalServer
    from syncloom.store.db import make_engine, session_factory

    deps = PortalDeps(sessions=session_factory(make_engine(settings.database_url)), vault=vault)
    app = create_app(deps, engine=engine)
    for router in routers:
        app.include_router(router)
    server = PortalServer(app, settings.web_host, settings.web_port)
    return server.start().stop
