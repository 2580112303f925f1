"""Portal: the operator's web app and REST API (FastAPI, Jinja2, no CDN).

Example::

    from syncloom.portal import PortalDeps, create_app, serve
    serve(create_app(settings), host=settings.web_host, port=settings.web_port)
"""

from __future__ import annotations

from syncloom.portal.app import create_app, deps_from_settings, serve, start
from syncloom.portal.control import DetachedEngine, EngineControl
from syncloom.portal.deps import PortalDeps

__all__ = [
    "DetachedEngine",
    "EngineControl",
    "PortalDeps",
    "create_app",
    "deps_from_settings",
    "serve",
    "start",
]
