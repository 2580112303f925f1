"""SimulatorServer: runs a simulator under uvicorn on loopback, in a thread or in the foreground.

Tests start one with port 0 and read ``base_url``; ``syncloom sim`` runs one in the foreground.
TLS is optional (D365 needs it): pass a cert and key file made by :mod:`.tls`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class SimulatorServer:
    """A uvicorn server for one ASGI app, bound to 127.0.0.1 by default."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | None = None,
        keyfile: str | None = None,
        log_level: str = "warning",
    ) -> None:
        self.app = app
        self.host = host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this: without it Nagle holds a response body behind its
        # headers until the client's delayed ACK (~40 ms per request on loopback).
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.tls = certfile is not None
        self.config = uvicorn.Config(
            app,
            log_level=log_level,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            lifespan="off",
            timeout_keep_alive=30,
            access_log=False,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted."""
        asyncio.run(self.server.serve(sockets=[self._sock]))

    def start(self, timeout_s: float = 10.0) -> SimulatorServer:
        """Start in a daemon thread and wait until it accepts connections."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"simulator on {self.base_url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
