"""A webhook target on loopback that keeps every delivery, for receiver tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncloom.simulators.common.server import SimulatorServer


@dataclass
class Captured:
    """Deliveries received so far: (lower-case headers, body) pairs, in arrival order."""

    url: str
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, count: int, timeout_s: float = 30.0) -> list[tuple[dict[str, str], bytes]]:
        """The first ``count`` deliveries, waiting for them up to a deadline."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries[:count])
            time.sleep(0.02)
        raise AssertionError(f"{count} deliveries expected, {len(self.deliveries)} arrived")


@contextmanager
def capturing() -> Iterator[Captured]:
    """Serve a target that answers 202 to every POST and keeps what it got."""
    box: list[Captured] = []

    async def keep(request: Request) -> Response:
        body = await request.body()
        with box[0].lock:
            box[0].deliveries.append((dict(request.headers), body))
        return Response(status_code=202)

    app = Starlette(routes=[Route("/hook", keep, methods=["POST"])])
    with SimulatorServer(app) as server:
        box.append(Captured(f"{server.base_url}/hook"))
        yield box[0]
