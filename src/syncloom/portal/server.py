"""PortalServer: the portal under uvicorn in a background thread, for ``syncloom run``.

The socket is bound before the thread starts, so a port already in use stops start-up with one
clear :class:`~syncloom.errors.ConfigError` instead of a traceback from another thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from syncloom.errors import ConfigError

__all__ = ["PortalServer"]


class PortalServer:
    """Serves one app on ``host:port`` (port 0 picks a free one) until :meth:`stop`."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8600) -> None:
        self.host = host
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise ConfigError(
                f"the portal cannot listen on {host}:{port} ({exc.strerror}); "
                "set SYNCLOOM_WEB_PORT to a free port"
            ) from None
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the portal answers."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> PortalServer:
        """Start serving in a daemon thread and wait until connections are accepted.

        Raises:
            ConfigError: the server did not come up in time.
        """
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])),
            name="syncloom-portal",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise ConfigError(f"the portal on {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (safe to call twice)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()
