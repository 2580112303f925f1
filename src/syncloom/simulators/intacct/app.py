"""IntacctSimulator: a local Sage Intacct Web Services gateway at ``POST /ia/xml/xmlgw.phtml``.

Sign in with sender ``simsender``/``simsenderpw`` and user ``admin``/``admin`` in company
``SIMCO`` (entities ``E100`` and ``E200``), then call the generic and legacy functions the
real gateway offers. Beyond the base ``/_sim/`` endpoints it serves:

* ``GET  /_sim/transactions``  the monthly transaction counter (``{"2026-11": 1234}``)
* ``POST /_sim/webhooks``      ``{"url": ..., "secret": ...}`` registers a change receiver
* ``GET  /_sim/webhooks``      the registered URLs; ``DELETE`` removes them all
* ``POST /_sim/sessions/expire``  invalidates every API session (tests of re-login)

Example::

    with SimulatorServer(IntacctSimulator(records=20)) as server:
        print(server.base_url + "/ia/xml/xmlgw.phtml")
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncloom.simulators.common.app import Receive, Scope, Send, Simulator
from syncloom.simulators.common.faults import FaultPlan
from syncloom.simulators.common.seed import LEGAL_ENTITIES
from syncloom.simulators.intacct.auth import Gatekeeper
from syncloom.simulators.intacct.gateway import Gateway
from syncloom.simulators.intacct.store import IntacctStore
from syncloom.simulators.intacct.webhooks import EventPoster
from syncloom.simulators.intacct.wire import CONTENT_TYPE, gateway_error, support_id

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
CLOUDFLARE_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} | api.intacct.com</title></head><body>"
    '<div id="cf-error-details"><h1>Error {status}</h1><p>{text}</p></div></body></html>'
)


class IntacctSimulator(Simulator):
    """The Sage Intacct XML gateway, with sessions, multi-entity, throttling and webhooks."""

    name = "intacct"
    max_body_bytes = 4 * 1024 * 1024

    def __init__(
        self,
        *,
        seed: int = 1,
        records: int = 50,
        faults: FaultPlan | None = None,
        store_path: str | None = None,
        sender_id: str = "simsender",
        sender_password: str = "simsenderpw",
        company_id: str = "SIMCO",
        users: dict[str, str] | None = None,
        timezone: str = "UTC",
        session_ttl_s: float = 6 * 3600,
        max_concurrent: int = 2,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(seed=seed, records=records, faults=faults, store_path=store_path)
        self.timezone = timezone
        self.max_concurrent = max_concurrent
        self.endpoint = endpoint
        self.store = IntacctStore(self.clock.now, timezone, store_path)
        self.gate = Gatekeeper(
            self.clock.now,
            sender_id=sender_id,
            sender_password=sender_password,
            company_id=company_id,
            users=users or {"admin": "admin"},
            entities=tuple(info["intacct"] for info in LEGAL_ENTITIES.values()),
            session_ttl_s=session_ttl_s,
        )
        self.gateway = Gateway(self.store, self.gate, endpoint or "")
        self.events = EventPoster(self.clock.now)
        self.transactions: Counter[str] = Counter()
        self.throttled = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        if self.store.rows.is_empty():
            self.store.reseed(seed, records)

    # -- hooks ---------------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route(GATEWAY_PATH, self.post_gateway, methods=["POST"]),
            Route("/_sim/transactions", self.get_transactions, methods=["GET"]),
            Route("/_sim/webhooks", self.webhooks, methods=["GET", "POST", "DELETE"]),
            Route("/_sim/sessions/expire", self.expire_sessions, methods=["POST"]),
        ]

    def throttle_response(self, retry_after_s: int) -> Response:
        """HTTP 429 with the gateway's ``GW-0010`` body and a ``Retry-After`` hint."""
        body = gateway_error("GW-0010", f"Too many requests [Request ID: {support_id()}]")
        return Response(body, 429, {"Retry-After": str(retry_after_s)}, media_type=CONTENT_TYPE)

    def error_response(self, status: int) -> Response:
        """5xx as Intacct's edge sends them: an empty 500, Cloudflare pages otherwise."""
        if status == 500:
            return Response(b"", 500)
        page = CLOUDFLARE_PAGE.format(status=status, text="The origin web server is unavailable")
        return Response(page, status, media_type="text/html; charset=UTF-8")

    def reset(self) -> None:
        self.store.reseed(self.seed, self.records)
        self.gate.expire_all()
        self.gateway.cursors.clear()
        self.transactions.clear()
        self.events.clear()
        self.throttled = 0

    def dump(self) -> object:
        return self.store.rows.dump()

    def counters(self) -> dict[str, object]:
        return {
            "sessions": len(self.gate.sessions),
            "transactions": dict(self.transactions),
            "throttled": self.throttled,
            "webhooks_delivered": self.events.delivered,
            "webhooks_failed": self.events.failed,
        }

    # -- concurrency limit ---------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GATEWAY_PATH:
            await super().__call__(scope, receive, send)
            return
        with self._lock:
            over = self._in_flight >= self.max_concurrent
            if not over:
                self._in_flight += 1
        if over:
            self.throttled += 1
            await self.throttle_response(self.faults.retry_after_s)(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- routes --------------------------------------------------------------------------
    async def post_gateway(self, request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_body_bytes:
                error = gateway_error("GW-0011", f"Invalid Request [Request ID: {support_id()}]")
                return Response(error, 413, media_type=CONTENT_TYPE)
        if not self.gateway.endpoint:
            self.gateway.endpoint = f"{request.url.scheme}://{request.url.netloc}{GATEWAY_PATH}"
        outcome = self.gateway.answer(bytes(body))
        if outcome.transactions:
            self.transactions[self.clock.now().strftime("%Y-%m")] += outcome.transactions
        self.events.publish(outcome.events)
        return Response(outcome.body.encode(), 200, media_type=CONTENT_TYPE)

    async def get_transactions(self, request: Request) -> Response:
        return JSONResponse({"monthly": dict(self.transactions)})

    async def webhooks(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.events.clear()
        elif request.method == "POST":
            body: Any = await _json(request)
            if not isinstance(body, dict) or not body.get("url") or not body.get("secret"):
                return JSONResponse({"error": 'expected {"url": ..., "secret": ...}'}, 400)
            self.events.subscribe(str(body["url"]), str(body["secret"]))
        return JSONResponse({"webhooks": [s.url for s in self.events.subscriptions]})

    async def expire_sessions(self, request: Request) -> Response:
        self.gate.expire_all()
        return JSONResponse({"expired": True})


async def _json(request: Request) -> object:
    try:
        return await request.json()
    except ValueError:
        return None
