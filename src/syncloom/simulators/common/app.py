"""Simulator: the ASGI base every vendor stand-in builds on.

How do we test against Creatio, Intacct and D365 without them? Each simulator is an ASGI app
that speaks the vendor's wire protocol, built on this base, which adds what every one needs:
request counting, injected latency and faults, a body-size limit, a controllable clock, and
test-only admin endpoints under ``/_sim/``:

* ``GET  /_sim/stats``   request counts, requests in flight and their peak, faults injected,
  vendor counters
* ``GET  /_sim/requests`` the journal of recent requests, in order (``DELETE`` clears it and
  restarts the peak)
* ``POST /_sim/reset``   back to the seeded state
* ``GET  /_sim/dump``    the whole state as JSON
* ``POST /_sim/faults``  ``{"spec": "429:0.1", "latency_ms": 50, "script": ["429", "ok"]}``
* ``POST /_sim/clock``   ``{"freeze": "2026-01-01T00:00:00Z"}`` or ``{"advance_s": 3600}``
  or ``{"freeze": null}``

A vendor subclass provides its routes and how it answers a throttle or a server error, since
each vendor words those differently. Example::

    class AcmeSimulator(Simulator):
        def routes(self) -> list[BaseRoute]:
            return [Route("/api/things", self.list_things)]
        def throttle_response(self, retry_after_s: int) -> Response:
            return JSONResponse({"error": "slow down"}, 429, {"Retry-After": str(retry_after_s)})
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncloom.simulators.common.faults import FaultPlan, FaultSpecError
from syncloom.simulators.common.journal import RequestJournal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ADMIN_PREFIX = "/_sim/"


class SimClock:
    """The simulator's notion of now: real UTC, or frozen/shifted by tests via ``/_sim/clock``."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def freeze(self, moment: datetime | None) -> None:
        with self._lock:
            self._frozen = moment.astimezone(UTC) if moment else None

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)


class Simulator:
    """Base of a vendor simulator; subclasses add routes and vendor-worded failures.

    Contract: ``routes`` returns the vendor routes; ``throttle_response`` and
    ``error_response`` answer injected faults the way the vendor does; ``reset`` restores
    the seeded state; ``dump`` returns the state as JSON-ready data; ``counters`` adds vendor
    counters to ``/_sim/stats``.
    """

    name = "simulator"
    max_body_bytes = 10 * 1024 * 1024
    needs_tls = False

    def __init__(
        self,
        *,
        seed: int = 1,
        records: int = 50,
        faults: FaultPlan | None = None,
        store_path: str | None = None,
    ) -> None:
        self.seed = seed
        self.records = records
        self.store_path = store_path
        self.faults = faults or FaultPlan(seed=seed)
        self.clock = SimClock()
        self.requests: Counter[str] = Counter()
        self.journal = RequestJournal()
        self._app: Starlette | None = None

    # -- hooks for vendors -------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """Return the vendor's routes; called once when the ASGI app is built."""
        return []

    def throttle_response(self, retry_after_s: int) -> Response:
        """Answer an injected throttle, worded as the vendor words it."""
        return JSONResponse(
            {"error": "Too many requests"}, 429, {"Retry-After": str(retry_after_s)}
        )

    def error_response(self, status: int) -> Response:
        """Answer an injected server error, worded as the vendor words it."""
        return JSONResponse({"error": "Internal server error"}, status)

    def reset(self) -> None:
        """Restore the seeded state; called by ``POST /_sim/reset``."""

    def dump(self) -> object:
        """Return the whole state as JSON-ready data; called by ``GET /_sim/dump``."""
        return {}

    def counters(self) -> dict[str, object]:
        """Return vendor counters for ``GET /_sim/stats`` (sessions, transactions...)."""
        return {}

    # -- the ASGI app --------------------------------------------------------------------
    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(routes=[*self._admin_routes(), *self.routes()])
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        self.requests[f"{scope['method']} {scope['path']}"] += 1
        entry = self.journal.begin(scope["method"], scope["path"])
        status: list[int] = []

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await self._serve(scope, receive, send_noting_status)
        finally:
            self.journal.end(entry, status[0] if status else None)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._too_large(scope, send):
            return
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        fault = self.faults.next_fault()
        if fault is None:
            await self.app(scope, receive, send)
        else:
            await self._inject(fault, scope, receive, send)

    async def _too_large(self, scope: Scope, send: Send) -> bool:
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body_bytes:
            response = JSONResponse({"error": "Request body too large"}, 413)
            await response(scope, _empty_receive, send)
            return True
        return False

    async def _inject(self, fault: str, scope: Scope, receive: Receive, send: Send) -> None:
        if fault == "429":
            await self.throttle_response(self.faults.retry_after_s)(scope, receive, send)
        elif fault in {"500", "502", "503"}:
            await self.error_response(int(fault))(scope, receive, send)
        elif fault == "timeout":
            await asyncio.sleep(self.faults.timeout_s)
            await self.error_response(504)(scope, receive, send)
        elif fault == "slow":
            await asyncio.sleep(self.faults.slow_ms / 1000)
            await self.app(scope, receive, send)
        else:  # reset: promise a body, send part of it, then drop the connection.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1000")],
                }
            )
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise ConnectionResetError("simulated connection reset")

    def _admin_routes(self) -> list[BaseRoute]:
        return [
            Route(ADMIN_PREFIX + "stats", self._stats, methods=["GET"]),
            Route(ADMIN_PREFIX + "requests", self._requests, methods=["GET", "DELETE"]),
            Route(ADMIN_PREFIX + "reset", self._reset, methods=["POST"]),
            Route(ADMIN_PREFIX + "dump", self._dump, methods=["GET"]),
            Route(ADMIN_PREFIX + "faults", self._faults, methods=["POST"]),
            Route(ADMIN_PREFIX + "clock", self._clock, methods=["POST"]),
        ]

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(
            {
                "requests": dict(self.requests),
                "total_requests": sum(self.requests.values()),
                "in_flight": self.journal.in_flight,
                "peak_in_flight": self.journal.peak_in_flight,
                "faults_injected": dict(self.faults.injected),
                **self.counters(),
            }
        )

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.journal.clear()
        return JSONResponse(
            {"peak_in_flight": self.journal.peak_in_flight, "requests": self.journal.entries()}
        )

    async def _reset(self, request: Request) -> Response:
        self.reset()
        self.requests.clear()
        self.journal.clear()
        self.faults.clear()
        self.faults.injected.clear()
        self.clock.freeze(None)
        return JSONResponse({"reset": True})

    async def _dump(self, request: Request) -> Response:
        return JSONResponse(self.dump())

    async def _faults(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        try:
            if body.get("clear"):
                self.faults.clear()
            self.faults.configure(body.get("spec"), body.get("latency_ms"))
            if "retry_after_s" in body:
                self.faults.retry_after_s = int(body["retry_after_s"])
            if "timeout_s" in body:
                self.faults.timeout_s = float(body["timeout_s"])
            self.faults.script(list(body.get("script") or []))
        except (FaultSpecError, TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"rates": self.faults.rates, "latency_ms": self.faults.latency_ms})

    async def _clock(self, request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        try:
            if "freeze" in body:
                frozen = body["freeze"]
                self.clock.freeze(_parse_instant(frozen) if frozen else None)
            if "advance_s" in body:
                self.clock.advance(float(body["advance_s"]))
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"now": self.clock.now().isoformat()})


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _json_body(request: Request) -> dict[str, Any] | Response:
    with contextlib.suppress(Exception):
        body = json.loads(await request.body() or b"{}")
        if isinstance(body, dict):
            return body
    return JSONResponse({"error": "body must be a JSON object"}, 400)


def _parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("clock instants need a time zone")
    return moment
